import { type ChartOptions, axisTitles, niceTicks, r2, svgOpen, xAxis, yAxis } from './svg.js';

export interface WaveformOptions extends ChartOptions {
  color?: string;
  /** Number of columns the signal is reduced to (min/max envelope per column). */
  columns?: number;
}

/**
 * A waveform plot (time in seconds on x, amplitude on y) drawn as a min/max envelope per
 * pixel column, so long signals stay small. Returns an SVG string.
 */
export function waveform(samples: ArrayLike<number>, sampleRate: number, opts: WaveformOptions = {}): string {
  const width = opts.width ?? 520;
  const height = opts.height ?? 200;
  const xLabel = opts.xLabel ?? 'time (s)';
  const plot = { x: 64, y: opts.title ? 34 : 14, w: width - 84, h: 0 };
  plot.h = height - plot.y - (xLabel ? 52 : 36);
  const n = samples.length;
  const duration = n / sampleRate;
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(samples[i] as number));
  const amp = peak > 0 ? (peak <= 1 ? Math.max(0.1, Math.ceil(peak * 10) / 10) : peak) : 1;
  const cols = Math.max(1, Math.min(opts.columns ?? Math.round(plot.w), n || 1));
  const Y = (v: number) => plot.y + plot.h / 2 - (v / amp) * (plot.h / 2);
  let s = svgOpen(width, height, opts.title);
  s += yAxis(plot, -amp, amp, niceTicks(-amp, amp, 4));
  s += xAxis(plot, 0, duration || 1, niceTicks(0, duration || 1, 6));
  let up = '';
  let down = '';
  for (let c = 0; c < cols && n > 0; c++) {
    const a = Math.floor((c * n) / cols);
    const b = Math.max(a + 1, Math.floor(((c + 1) * n) / cols));
    let lo = Infinity, hi = -Infinity;
    for (let i = a; i < b; i++) {
      const v = samples[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const x = plot.x + ((c + 0.5) / cols) * plot.w;
    up += `${c === 0 ? 'M' : 'L'}${r2(x)} ${r2(Y(hi))}`;
    down = `L${r2(x)} ${r2(Y(lo))}` + down;
  }
  if (up) s += `<path d="${up}${down}Z" fill="${opts.color ?? '#0072B2'}" stroke="${opts.color ?? '#0072B2'}" stroke-width="0.6"/>`;
  s += axisTitles(plot, xLabel, opts.yLabel);
  return s + '</svg>';
}
