/** Mel scale and mel filterbank, matching librosa (`hz_to_mel`, `mel_frequencies`, `filters.mel`). */
import { SerError } from '../util/errors.js';
import type { Spectrogram } from './types.js';
import type { FeatureParams } from './params.js';

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOGSTEP = Math.log(6.4) / 27;

/** Hz → mel: Slaney's (linear below 1 kHz, log above; librosa default) or HTK's formula. */
export function hzToMel(hz: number, htk = false): number {
  if (htk) return 2595 * Math.log10(1 + hz / 700);
  if (hz >= MIN_LOG_HZ) return MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOGSTEP;
  return hz / F_SP;
}

/** Mel → Hz, the inverse of `hzToMel`. */
export function melToHz(mel: number, htk = false): number {
  if (htk) return 700 * (Math.pow(10, mel / 2595) - 1);
  if (mel >= MIN_LOG_MEL) return MIN_LOG_HZ * Math.exp(LOGSTEP * (mel - MIN_LOG_MEL));
  return F_SP * mel;
}

/** `nMels` frequencies (Hz) evenly spaced on the mel scale from fmin to fmax (librosa `mel_frequencies`). */
export function melFrequencies(nMels = 128, fmin = 0, fmax = 11025, htk = false): Float64Array {
  const lo = hzToMel(fmin, htk), hi = hzToMel(fmax, htk);
  const out = new Float64Array(nMels);
  for (let i = 0; i < nMels; i++) {
    // numpy linspace: lo + i * step, last point exactly hi
    const m = nMels === 1 ? lo : i === nMels - 1 ? hi : lo + (i * (hi - lo)) / (nMels - 1);
    out[i] = melToHz(m, htk);
  }
  return out;
}

export interface MelFilterbankOptions {
  sr: number;
  nFft: number;
  nMels?: number;
  fmin?: number;
  /** null/undefined means sr / 2. */
  fmax?: number | null;
  htk?: boolean;
  norm?: 'slaney' | null;
}

/**
 * A mel filterbank: `weights` is [nMels][bins] row-major float32 (librosa `filters.mel`, whose
 * weights are float32 too); `start`/`end` give each row's non-zero bin range [start, end) so
 * the product with a spectrum can skip the zeros.
 */
export interface MelFilterbank {
  weights: Float32Array;
  nMels: number;
  bins: number;
  start: Int32Array;
  end: Int32Array;
}

/** librosa `filters.mel(sr, n_fft, n_mels=128, fmin=0, fmax=sr/2, htk=False, norm='slaney')`. */
export function melFilterbank({ sr, nFft, nMels = 128, fmin = 0, fmax = null, htk = false, norm = 'slaney' }: MelFilterbankOptions): MelFilterbank {
  const top = fmax ?? sr / 2;
  if (!(sr > 0)) throw new SerError('features/bad-param', `melFilterbank: sample rate must be positive, got ${sr}`);
  if (!(fmin >= 0) || !(top > fmin)) throw new SerError('features/bad-param', `melFilterbank: need 0 <= fmin < fmax, got fmin=${fmin} fmax=${top}`);
  if (!Number.isInteger(nMels) || nMels < 1) throw new SerError('features/bad-param', `melFilterbank: n_mels must be a positive integer, got ${nMels}`);
  const bins = (nFft >> 1) + 1;
  const fftFreqs = new Float64Array(bins);
  for (let k = 0; k < bins; k++) fftFreqs[k] = (k * sr) / nFft; // == linspace(0, sr/2, bins)
  const melF = melFrequencies(nMels + 2, fmin, top, htk);
  const weights = new Float32Array(nMels * bins);
  const start = new Int32Array(nMels), end = new Int32Array(nMels);
  for (let i = 0; i < nMels; i++) {
    const fd0 = melF[i + 1]! - melF[i]!;
    const fd1 = melF[i + 2]! - melF[i + 1]!;
    const enorm = norm === 'slaney' ? 2 / (melF[i + 2]! - melF[i]!) : 1;
    let s = -1, e = -1;
    for (let k = 0; k < bins; k++) {
      const lower = -(melF[i]! - fftFreqs[k]!) / fd0;
      const upper = (melF[i + 2]! - fftFreqs[k]!) / fd1;
      const w = Math.max(0, Math.min(lower, upper));
      if (w > 0) {
        weights[i * bins + k] = w * enorm;
        if (s < 0) s = k;
        e = k + 1;
      }
    }
    start[i] = s < 0 ? 0 : s;
    end[i] = e < 0 ? 0 : e;
  }
  return { weights, nMels, bins, start, end };
}

/** Number of leading FFT bins a filterbank actually uses (1 + its highest non-zero bin). */
export function usedBins(fb: MelFilterbank): number {
  let e = 0;
  for (let m = 0; m < fb.nMels; m++) if (fb.end[m]! > e) e = fb.end[m]!;
  return e;
}

const fbCache = new Map<string, MelFilterbank>();

/** `melFilterbank` memoised on its options (filterbanks are immutable once built). */
export function cachedMelFilterbank(opts: MelFilterbankOptions): MelFilterbank {
  const key = JSON.stringify([opts.sr, opts.nFft, opts.nMels ?? 128, opts.fmin ?? 0, opts.fmax ?? null, opts.htk ?? false, opts.norm === undefined ? 'slaney' : opts.norm]);
  let fb = fbCache.get(key);
  if (!fb) { fb = melFilterbank(opts); fbCache.set(key, fb); }
  return fb;
}

/**
 * Applies a filterbank to a frame-major power spectrum ([frames][bins]) → mel spectrogram in
 * librosa's layout ([nMels][frames]), i.e. `mel_basis @ S`.
 */
export function applyMelFilterbank(fb: MelFilterbank, power: Float32Array, frames: number, powerBins = fb.bins): Spectrogram {
  const { nMels, bins: fbBins, weights, start, end } = fb;
  const bins = powerBins;
  if (power.length !== frames * bins) throw new SerError('features/bad-shape', `applyMelFilterbank: spectrum has ${power.length} values, expected ${frames}×${bins}`);
  if (bins < usedBins(fb)) throw new SerError('features/bad-shape', `applyMelFilterbank: spectrum keeps ${bins} bins, the filterbank needs ${usedBins(fb)}`);
  const data = new Float32Array(nMels * frames);
  for (let t = 0; t < frames; t++) {
    const po = t * bins;
    for (let m = 0; m < nMels; m++) {
      const wo = m * fbBins;
      let acc = 0;
      for (let k = start[m]!, e = end[m]!; k < e; k++) acc += weights[wo + k]! * power[po + k]!;
      data[m * frames + t] = acc;
    }
  }
  return { data, nMels, frames };
}

/**
 * The frequency range (Hz) the mel bands of `params` span: `fmin` to `fmax`, where `fmax: null`
 * means the Nyquist frequency of the rate the features are computed at (`params.sampleRate`, or the
 * file's own rate `fileRate` when sampleRate is null). Throws when that rate is unknown.
 */
export function melRange(params: Pick<FeatureParams, 'fmin' | 'fmax' | 'sampleRate'>, fileRate?: number): { fmin: number; fmax: number } {
  const rate = params.sampleRate ?? fileRate;
  if (params.fmax !== null) return { fmin: params.fmin, fmax: params.fmax };
  if (rate === undefined) {
    throw new SerError('features/bad-param', 'fmax null (Nyquist) with sampleRate null: the mel range depends on each file\'s rate; set features.sampleRate or features.fmax');
  }
  return { fmin: params.fmin, fmax: rate / 2 };
}
