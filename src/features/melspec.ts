/** Mel spectrograms and the other spectral features (librosa `feature.melspectrogram`, `mfcc`, `delta`). */
import { SerError } from '../util/errors.js';
import { frameCount } from '../dsp/frame.js';
import { forEachStftFrameSplit, type StftOptions } from '../dsp/stft.js';
import { cachedMelFilterbank, usedBins } from './mel.js';
import type { Spectrogram } from './types.js';

export interface MelSpectrogramOptions extends StftOptions {
  sr: number;
  power?: number;
  nMels?: number;
  fmin?: number;
  fmax?: number | null;
  htk?: boolean;
  norm?: 'slaney' | null;
}

/**
 * librosa `feature.melspectrogram(y, sr, n_fft=2048, hop_length=512, power=2, n_mels=128, ...)`:
 * mel_basis @ |stft|^power, as [nMels][frames].
 */
export function melSpectrogram(y: ArrayLike<number>, { sr, nFft = 2048, hopLength = 512, winLength = null, center = true, padMode = 'constant', power = 2, nMels = 128, fmin = 0, fmax = null, htk = false, norm = 'slaney' }: MelSpectrogramOptions): Spectrogram {
  const fb = cachedMelFilterbank({ sr, nFft, nMels, fmin, fmax, htk, norm });
  // only the bins the filterbank uses (fmax 8 kHz at 44.1 kHz: 372 of 1025), and each frame's
  // power goes straight into the sparse filterbank product (no [frames][bins] intermediate)
  const used = Math.max(1, usedBins(fb));
  const frames = frameCount(y.length, nFft, hopLength, center);
  const data = new Float32Array(nMels * frames);
  const row = new Float32Array(used);
  const { weights, bins: fbBins, start, end } = fb;
  forEachStftFrameSplit(y, { nFft, hopLength, winLength, center, padMode }, used, (t, sr, si) => {
    if (power === 2) for (let k = 0; k < used; k++) { const a = sr[k]!, b = si[k]!; row[k] = a * a + b * b; }
    else if (power === 1) for (let k = 0; k < used; k++) { const a = sr[k]!, b = si[k]!; row[k] = Math.sqrt(a * a + b * b); }
    else for (let k = 0; k < used; k++) { const a = sr[k]!, b = si[k]!; row[k] = Math.pow(a * a + b * b, power / 2); }
    for (let m = 0; m < nMels; m++) {
      const wo = m * fbBins;
      let acc = 0;
      for (let k = start[m]!, e = end[m]!; k < e; k++) acc += weights[wo + k]! * row[k]!;
      data[m * frames + t] = acc;
    }
  });
  return { data, nMels, frames };
}

/**
 * librosa `feature.mfcc(S=logMel, n_mfcc, dct_type=2, norm='ortho')`: DCT-II (orthonormal)
 * along the mel axis of a log-mel spectrogram, keeping the first `nMfcc` coefficients.
 */
export function mfcc(logMel: Spectrogram, nMfcc = 20): Spectrogram {
  const { nMels: N, frames: T, data } = logMel;
  if (!Number.isInteger(nMfcc) || nMfcc < 1 || nMfcc > N) throw new SerError('features/bad-param', `mfcc: n_mfcc must be in 1..${N}, got ${nMfcc}`);
  const out = new Float32Array(nMfcc * T);
  const basis = new Float64Array(nMfcc * N);
  for (let k = 0; k < nMfcc; k++) {
    const s = k === 0 ? Math.sqrt(1 / N) : Math.sqrt(2 / N);
    for (let n = 0; n < N; n++) basis[k * N + n] = s * Math.cos((Math.PI * k * (2 * n + 1)) / (2 * N));
  }
  const col = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) col[n] = data[n * T + t]!;
    for (let k = 0; k < nMfcc; k++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += basis[k * N + n]! * col[n]!;
      out[k * T + t] = acc;
    }
  }
  return { data: out, nMels: nMfcc, frames: T };
}

/**
 * librosa `feature.delta(data, width=9, order=1|2, axis=-1, mode='interp')`: a Savitzky-Golay
 * derivative along time. With polyorder = deriv, 'interp' edges equal the nearest full-window
 * value. Needs at least `width` frames.
 */
export function delta(S: Spectrogram, order: 1 | 2 = 1, width = 9): Spectrogram {
  const { nMels: R, frames: T, data } = S;
  if (width < 3 || width % 2 !== 1) throw new SerError('features/bad-param', `delta: width must be an odd integer >= 3, got ${width}`);
  if (T < width) throw new SerError('features/too-short', `delta: needs at least width=${width} frames, got ${T}`);
  const h = (width - 1) / 2;
  const c = new Float64Array(width);
  if (order === 1) {
    let s2 = 0;
    for (let k = -h; k <= h; k++) s2 += k * k;
    for (let k = -h; k <= h; k++) c[k + h] = k / s2;
  } else {
    let m2 = 0;
    for (let k = -h; k <= h; k++) m2 += k * k;
    m2 /= width;
    let d = 0;
    for (let k = -h; k <= h; k++) d += (k * k - m2) ** 2;
    for (let k = -h; k <= h; k++) c[k + h] = (2 * (k * k - m2)) / d;
  }
  const out = new Float32Array(R * T);
  for (let r = 0; r < R; r++) {
    const o = r * T;
    for (let t = h; t < T - h; t++) {
      let acc = 0;
      for (let k = -h; k <= h; k++) acc += c[k + h]! * data[o + t + k]!;
      out[o + t] = acc;
    }
    for (let t = 0; t < h; t++) out[o + t] = out[o + h]!;
    for (let t = T - h; t < T; t++) out[o + t] = out[o + T - h - 1]!;
  }
  return { data: out, nMels: R, frames: T };
}

/** Stacks spectrograms with equal frame counts along the row axis. */
export function stackRows(parts: Spectrogram[]): Spectrogram {
  if (parts.length === 0) throw new SerError('features/bad-shape', 'stackRows: nothing to stack');
  const T = parts[0]!.frames;
  let rows = 0;
  for (const p of parts) {
    if (p.frames !== T) throw new SerError('features/bad-shape', `stackRows: frame counts differ (${T} vs ${p.frames})`);
    rows += p.nMels;
  }
  const data = new Float32Array(rows * T);
  let o = 0;
  for (const p of parts) { data.set(p.data, o); o += p.data.length; }
  return { data, nMels: rows, frames: T };
}
