import { type ChartOptions, axisTitles, colorAt, escapeXml, niceRange, niceTicks, r2, svgOpen, xAxis, yAxis } from './svg.js';

/** One line: y values (x = 1..n by default, or explicit x), a name for the legend. */
export interface LineSeries {
  name: string;
  y: ArrayLike<number>;
  x?: ArrayLike<number>;
  color?: string;
  dashed?: boolean;
}

export interface LineChartOptions extends ChartOptions {
  /** Fixed y range, e.g. [0, 1] for accuracy. */
  yRange?: [number, number];
  /** Mark points with small circles (useful for few points). */
  markers?: boolean;
}

/**
 * A line chart with several series and a legend (loss/accuracy curves per epoch).
 * Non-finite values break the line. Returns an SVG string.
 */
export function lineChart(series: LineSeries[], opts: LineChartOptions = {}): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 340;
  const legendW = 130;
  const plot = { x: 64, y: opts.title ? 34 : 14, w: width - 84 - legendW, h: 0 };
  plot.h = height - plot.y - (opts.xLabel ? 52 : 36);
  const xs: number[] = [];
  const ys: number[] = [];
  const pts = series.map((s) => {
    const out: Array<[number, number] | null> = [];
    for (let i = 0; i < s.y.length; i++) {
      const x = s.x ? (s.x[i] as number) : i + 1;
      const y = s.y[i] as number;
      if (!Number.isFinite(x) || !Number.isFinite(y)) { out.push(null); continue; }
      xs.push(x); ys.push(y); out.push([x, y]);
    }
    return out;
  });
  const xmin = xs.length ? Math.min(...xs) : 0;
  const xmax = xs.length ? Math.max(...xs) : 1;
  const [ylo, yhi] = opts.yRange ?? niceRange(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1);
  const xlo = xmin;
  const xhi = xmax === xmin ? xmin + 1 : xmax;
  const X = (x: number) => plot.x + ((x - xlo) / (xhi - xlo)) * plot.w;
  const Y = (y: number) => plot.y + plot.h - ((Math.min(yhi, Math.max(ylo, y)) - ylo) / (yhi - ylo)) * plot.h;
  let s = svgOpen(width, height, opts.title);
  s += yAxis(plot, ylo, yhi, niceTicks(ylo, yhi));
  s += xAxis(plot, xlo, xhi, niceTicks(xlo, xhi, 6));
  series.forEach((ser, si) => {
    const color = ser.color ?? colorAt(si);
    let d = '';
    let pen = false;
    for (const p of pts[si] ?? []) {
      if (!p) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${r2(X(p[0]))} ${r2(Y(p[1]))}`;
      pen = true;
    }
    if (d) s += `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"${ser.dashed ? ' stroke-dasharray="6 4"' : ''}/>`;
    if (opts.markers) for (const p of pts[si] ?? []) if (p) s += `<circle cx="${r2(X(p[0]))}" cy="${r2(Y(p[1]))}" r="2.5" fill="${color}"/>`;
    const ly = plot.y + 6 + si * 18;
    const lx = plot.x + plot.w + 14;
    s += `<line x1="${r2(lx)}" y1="${r2(ly + 6)}" x2="${r2(lx + 22)}" y2="${r2(ly + 6)}" stroke="${color}" stroke-width="2"${ser.dashed ? ' stroke-dasharray="6 4"' : ''}/>`;
    s += `<text x="${r2(lx + 28)}" y="${r2(ly + 10)}">${escapeXml(ser.name)}</text>`;
  });
  s += axisTitles(plot, opts.xLabel, opts.yLabel);
  return s + '</svg>';
}
