import { type ChartOptions, axisTitles, colorAt, escapeXml, niceRange, niceTicks, r2, svgOpen, yAxis } from './svg.js';

export interface BarChartOptions extends ChartOptions {
  /** One colour for all bars, or colour by category index when omitted. */
  color?: string;
  /** Print each bar's value above it. */
  showValues?: boolean;
}

/**
 * A vertical bar chart of `values` per category. Returns an SVG string.
 * `barChart(['angry','sad'], [100, 98], { title: 'Files per emotion' })`.
 */
export function barChart(labels: string[], values: number[], opts: BarChartOptions = {}): string {
  const width = opts.width ?? 520;
  const height = opts.height ?? 320;
  const showValues = opts.showValues ?? true;
  const plot = { x: 64, y: opts.title ? 34 : 14, w: width - 84, h: 0 };
  plot.h = height - plot.y - (opts.xLabel ? 52 : 36);
  const max = Math.max(0, ...values.filter(Number.isFinite));
  const min = Math.min(0, ...values.filter(Number.isFinite));
  // headroom for the value labels above the bars
  const [lo, hi] = niceRange(min, max === min ? min + 1 : max + (showValues ? 0.08 * (max - min) : 0));
  const integers = values.every((v) => Number.isInteger(v));
  let s = svgOpen(width, height, opts.title);
  s += yAxis(plot, lo, hi, niceTicks(lo, hi).filter((t) => !integers || Number.isInteger(t)));
  const n = Math.max(1, labels.length);
  const slot = plot.w / n;
  const bw = Math.max(1, Math.min(90, slot * 0.7));
  const yOf = (v: number) => plot.y + plot.h - ((v - lo) / (hi - lo)) * plot.h;
  labels.forEach((label, i) => {
    const v = values[i] ?? 0;
    const x = plot.x + i * slot + (slot - bw) / 2;
    const y0 = yOf(0);
    const y1 = yOf(v);
    const top = Math.min(y0, y1);
    s += `<rect x="${r2(x)}" y="${r2(top)}" width="${r2(bw)}" height="${r2(Math.abs(y0 - y1))}" fill="${opts.color ?? colorAt(i)}"><title>${escapeXml(label)}: ${v}</title></rect>`;
    if (showValues) s += `<text x="${r2(x + bw / 2)}" y="${r2(top - 4)}" text-anchor="middle" fill="#222">${escapeXml(String(Number.isInteger(v) ? v : Number(v.toPrecision(3))))}</text>`;
    s += `<text x="${r2(x + bw / 2)}" y="${r2(plot.y + plot.h + 16)}" text-anchor="middle" fill="#333">${escapeXml(label)}</text>`;
  });
  s += axisTitles(plot, opts.xLabel, opts.yLabel);
  return s + '</svg>';
}
