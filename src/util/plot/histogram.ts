import { type ChartOptions, axisTitles, colorAt, escapeXml, fmtTick, niceRange, niceTicks, r2, svgOpen, xAxis, yAxis } from './svg.js';

/** Bin edges and counts of a histogram. */
export interface Histogram {
  edges: number[];
  counts: number[];
}

/**
 * Counts `values` into `bins` equal-width bins over [min, max] (defaults: the data's range).
 * The last bin includes its right edge. Non-finite values are ignored.
 */
export function histogramBins(values: ArrayLike<number>, bins = 20, min?: number, max?: number): Histogram {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i] as number);
  let lo = min ?? Math.min(...finite);
  let hi = max ?? Math.max(...finite);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) { lo = 0; hi = 1; }
  if (hi === lo) hi = lo + 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of finite) {
    if (v < lo || v > hi) continue;
    const k = Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins));
    counts[k] = (counts[k] as number) + 1;
  }
  return { edges, counts };
}

export interface HistogramOptions extends ChartOptions {
  bins?: number;
  min?: number;
  max?: number;
  color?: string;
  /** Fixed top of the count axis (to compare several histograms on one scale). */
  yMax?: number;
}

/**
 * A histogram of one or more named value sets (overlaid, semi-transparent, with a legend when
 * more than one). Returns an SVG string.
 */
export function histogram(series: number[] | Record<string, number[]>, opts: HistogramOptions = {}): string {
  const sets: Array<[string, number[]]> = Array.isArray(series) ? [['', series]] : Object.entries(series);
  const width = opts.width ?? 520;
  const height = opts.height ?? 320;
  const bins = opts.bins ?? 20;
  const all = sets.flatMap(([, v]) => v.filter(Number.isFinite));
  const min = opts.min ?? (all.length ? Math.min(...all) : 0);
  const max = opts.max ?? (all.length ? Math.max(...all) : 1);
  const hists = sets.map(([name, v]) => [name, histogramBins(v, bins, min, max)] as const);
  const maxCount = Math.max(1, opts.yMax ?? 0, ...hists.flatMap(([, h]) => h.counts));
  const legendW = sets.length > 1 ? 110 : 0;
  const plot = { x: 64, y: opts.title ? 34 : 14, w: width - 84 - legendW, h: 0 };
  plot.h = height - plot.y - (opts.xLabel ? 52 : 36);
  const [ylo, yhi] = niceRange(0, maxCount);
  const xlo = min;
  const xhi = max === min ? min + 1 : max;
  let s = svgOpen(width, height, opts.title);
  s += yAxis(plot, ylo, yhi, niceTicks(ylo, yhi).filter((t) => Number.isInteger(t)));
  s += xAxis(plot, xlo, xhi, niceTicks(xlo, xhi, 6));
  const opacity = sets.length > 1 ? 0.45 : 0.85;
  hists.forEach(([name, h], si) => {
    const color = sets.length === 1 && opts.color ? opts.color : colorAt(si);
    h.counts.forEach((c, i) => {
      if (c === 0) return;
      const x0 = plot.x + (((h.edges[i] as number) - xlo) / (xhi - xlo)) * plot.w;
      const x1 = plot.x + (((h.edges[i + 1] as number) - xlo) / (xhi - xlo)) * plot.w;
      const y = plot.y + plot.h - ((c - ylo) / (yhi - ylo)) * plot.h;
      s += `<rect x="${r2(x0)}" y="${r2(y)}" width="${r2(Math.max(0.5, x1 - x0 - 0.5))}" height="${r2(plot.y + plot.h - y)}" fill="${color}" fill-opacity="${opacity}"><title>${escapeXml(name ? name + ': ' : '')}${fmtTick(h.edges[i] as number)}–${fmtTick(h.edges[i + 1] as number)}: ${c}</title></rect>`;
    });
    if (sets.length > 1) {
      const ly = plot.y + 6 + si * 18;
      const lx = plot.x + plot.w + 16;
      s += `<rect x="${r2(lx)}" y="${r2(ly)}" width="12" height="12" fill="${color}" fill-opacity="${Math.max(opacity, 0.7)}"/>`;
      s += `<text x="${r2(lx + 18)}" y="${r2(ly + 10)}">${escapeXml(name)}</text>`;
    }
  });
  s += axisTitles(plot, opts.xLabel, opts.yLabel ?? 'count');
  return s + '</svg>';
}
