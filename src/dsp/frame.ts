/** Frame helpers: counts and padding for centred/un-centred framing (librosa semantics). */
import { SerError } from '../util/errors.js';

export type PadMode = 'constant' | 'reflect';

/** Number of frames librosa's `stft` produces for `n` samples. */
export function frameCount(n: number, nFft = 2048, hopLength = 512, center = true): number {
  const len = center ? n + 2 * Math.floor(nFft / 2) : n;
  if (len < nFft) {
    throw new SerError('dsp/too-short', `signal of ${n} samples is shorter than n_fft ${nFft} (center=${center})`);
  }
  return 1 + Math.floor((len - nFft) / hopLength);
}

/**
 * Pads `y` by `left`/`right` samples: zeros ('constant') or numpy's 'reflect' (mirror without
 * repeating the edge sample; repeats the reflection for pads longer than the signal).
 */
export function padSignal(y: ArrayLike<number>, left: number, right: number, mode: PadMode = 'constant'): Float64Array {
  const n = y.length;
  const out = new Float64Array(n + left + right);
  for (let i = 0; i < n; i++) out[left + i] = y[i]!;
  if (mode === 'reflect') {
    if (n < 2) throw new SerError('dsp/too-short', `reflect padding needs at least 2 samples, got ${n}`);
    const period = 2 * (n - 1);
    const idx = (j: number): number => {
      let m = ((j % period) + period) % period;
      if (m >= n) m = period - m;
      return m;
    };
    for (let i = 0; i < left; i++) out[i] = y[idx(i - left)]!;
    for (let i = 0; i < right; i++) out[left + n + i] = y[idx(n + i)]!;
  }
  return out;
}

/**
 * Copies frame `t` of a (padded) signal: `frameLength` samples starting at `t * hopLength`,
 * into `out` (which must be at least `frameLength` long).
 */
export function frameInto(y: ArrayLike<number>, t: number, frameLength: number, hopLength: number, out: Float64Array): Float64Array {
  const start = t * hopLength;
  for (let i = 0; i < frameLength; i++) out[i] = y[start + i] ?? 0;
  return out;
}
