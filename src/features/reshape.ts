/** Spectrogram reshaping shared by augmentation and model input: copies, time interpolation, padding. */
import type { Spectrogram } from './types.js';

/** A copy of a spectrogram (own memory). */
export function cloneSpectrogram(s: Spectrogram): Spectrogram {
  return { data: new Float32Array(s.data), nMels: s.nMels, frames: s.frames };
}

/**
 * Resamples the time axis to `frames` columns by linear interpolation (endpoints aligned), the
 * way the study brought long utterances to 256 frames.
 */
export function interpolateTime(s: Spectrogram, frames: number): Spectrogram {
  const { nMels, frames: n, data } = s;
  const out = new Float32Array(nMels * frames);
  if (n === 0) return { data: out, nMels, frames };
  for (let t = 0; t < frames; t++) {
    const x = frames > 1 ? (t * (n - 1)) / (frames - 1) : 0;
    const i0 = Math.floor(x);
    const i1 = Math.min(n - 1, i0 + 1);
    const w = x - i0;
    for (let m = 0; m < nMels; m++) {
      const row = m * n;
      out[m * frames + t] = (data[row + i0] as number) * (1 - w) + (data[row + i1] as number) * w;
    }
  }
  return { data: out, nMels, frames };
}

/** Column `t` of a spectrogram as a one-frame spectrogram (own memory). */
export function timeColumn(s: Spectrogram, t: number): Spectrogram {
  if (!(Number.isInteger(t) && t >= 0 && t < s.frames)) throw new RangeError(`timeColumn: column ${t} of ${s.frames}`);
  const out = new Float32Array(s.nMels);
  for (let m = 0; m < s.nMels; m++) out[m] = s.data[m * s.frames + t]!;
  return { data: out, nMels: s.nMels, frames: 1 };
}

/** One-frame spectrograms of equal height side by side, in order: the inverse of `timeColumn`. */
export function stackColumns(cols: readonly Spectrogram[]): Spectrogram {
  const nMels = cols[0]?.nMels ?? 0;
  const K = cols.length;
  const data = new Float32Array(nMels * K);
  cols.forEach((c, k) => {
    if (c.frames !== 1 || c.nMels !== nMels) throw new RangeError(`stackColumns: column ${k} is ${c.nMels}×${c.frames}, not ${nMels}×1`);
    for (let m = 0; m < nMels; m++) data[m * K + k] = c.data[m]!;
  });
  return { data, nMels, frames: K };
}

/** Zero-pads on the right up to `frames` (a no-op copy when already that long). */
export function padTime(s: Spectrogram, frames: number, value = 0): Spectrogram {
  const { nMels, frames: n, data } = s;
  const out = new Float32Array(nMels * frames).fill(value);
  const keep = Math.min(n, frames);
  for (let m = 0; m < nMels; m++) out.set(data.subarray(m * n, m * n + keep), m * frames);
  return { data: out, nMels, frames };
}

