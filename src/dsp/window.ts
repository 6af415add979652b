/** Window functions (scipy.signal.get_window semantics). */
import { SerError } from '../util/errors.js';

/**
 * Hann window of length `n`. `periodic = true` is scipy's `get_window('hann', n)` (fftbins,
 * what librosa uses): w[i] = 0.5 - 0.5 cos(2πi / n); `false` is the symmetric one (÷ (n-1)).
 */
export function hannWindow(n: number, periodic = true): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new SerError('dsp/bad-window', `window length must be a positive integer, got ${n}`);
  const w = new Float64Array(n);
  if (n === 1) { w[0] = 1; return w; }
  const d = periodic ? n : n - 1;
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / d);
  return w;
}

/** Centres `window` in a zero array of length `size` (librosa's `pad_center`). */
export function padCenter(window: Float64Array, size: number): Float64Array {
  if (window.length > size) throw new SerError('dsp/bad-window', `window length ${window.length} exceeds n_fft ${size}`);
  if (window.length === size) return window;
  const out = new Float64Array(size);
  out.set(window, (size - window.length) >> 1);
  return out;
}
