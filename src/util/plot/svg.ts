/** Small shared helpers for the SVG chart builders: escaping, number formatting, ticks, palette. */

/** Escapes text for SVG/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Rounds a coordinate to 2 decimals to keep SVG small. */
export function r2(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/** A short label for a tick value: integers as is, others with up to 3 significant digits. */
export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(3)));
}

/** "Nice" tick values covering [min, max] (about `count` of them). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max === min) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= d;
    max += d;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const start = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number((Math.round(v / step) * step).toPrecision(12)) + 0);
  return ticks;
}

/** A nice axis range [lo, hi] that contains [min, max] and starts at a tick. */
export function niceRange(min: number, max: number, count = 5): [number, number] {
  const t = niceTicks(min, max, count);
  const step = t.length > 1 ? (t[1] as number) - (t[0] as number) : 1;
  let lo = t[0] as number;
  let hi = t[t.length - 1] as number;
  if (lo > min) lo -= step;
  if (hi < max) hi += step;
  return [lo, hi];
}

/** Categorical palette (colour-blind friendly, Okabe–Ito order). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

/** Colour of series/category i. */
export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length] as string;
}

/** Common chart options. */
export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
}

/** Opens an <svg> element with a white background and an optional title. */
export function svgOpen(width: number, height: number, title?: string): string {
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`;
  s += `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`;
  if (title) s += `<text x="${r2(width / 2)}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`;
  return s;
}

/** Axis titles: x below the plot area, y rotated at the left. */
export function axisTitles(plot: { x: number; y: number; w: number; h: number }, xLabel?: string, yLabel?: string): string {
  let s = '';
  if (xLabel) s += `<text x="${r2(plot.x + plot.w / 2)}" y="${r2(plot.y + plot.h + 36)}" text-anchor="middle">${escapeXml(xLabel)}</text>`;
  if (yLabel) {
    const cx = plot.x - 44;
    const cy = plot.y + plot.h / 2;
    s += `<text x="${r2(cx)}" y="${r2(cy)}" text-anchor="middle" transform="rotate(-90 ${r2(cx)} ${r2(cy)})">${escapeXml(yLabel)}</text>`;
  }
  return s;
}

/** Horizontal grid lines and y tick labels for a numeric y axis. */
export function yAxis(plot: { x: number; y: number; w: number; h: number }, lo: number, hi: number, ticks: number[]): string {
  let s = '';
  for (const t of ticks) {
    if (t < lo - 1e-12 || t > hi + 1e-12) continue;
    const y = plot.y + plot.h - ((t - lo) / (hi - lo)) * plot.h;
    s += `<line x1="${r2(plot.x)}" y1="${r2(y)}" x2="${r2(plot.x + plot.w)}" y2="${r2(y)}" stroke="#e3e3e3"/>`;
    s += `<text x="${r2(plot.x - 6)}" y="${r2(y + 4)}" text-anchor="end" fill="#333">${fmtTick(t)}</text>`;
  }
  s += `<line x1="${r2(plot.x)}" y1="${r2(plot.y)}" x2="${r2(plot.x)}" y2="${r2(plot.y + plot.h)}" stroke="#444"/>`;
  s += `<line x1="${r2(plot.x)}" y1="${r2(plot.y + plot.h)}" x2="${r2(plot.x + plot.w)}" y2="${r2(plot.y + plot.h)}" stroke="#444"/>`;
  return s;
}

/** Vertical tick marks and labels for a numeric x axis. */
export function xAxis(plot: { x: number; y: number; w: number; h: number }, lo: number, hi: number, ticks: number[]): string {
  let s = '';
  for (const t of ticks) {
    if (t < lo - 1e-12 || t > hi + 1e-12) continue;
    const x = plot.x + ((t - lo) / (hi - lo)) * plot.w;
    s += `<line x1="${r2(x)}" y1="${r2(plot.y + plot.h)}" x2="${r2(x)}" y2="${r2(plot.y + plot.h + 4)}" stroke="#444"/>`;
    s += `<text x="${r2(x)}" y="${r2(plot.y + plot.h + 17)}" text-anchor="middle" fill="#333">${fmtTick(t)}</text>`;
  }
  return s;
}
