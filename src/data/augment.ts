/**
 * Data augmentation, as pure functions (a seeded `Rng` is passed in; inputs are never
 * modified). Waveform: `addNoise`, `pitchShift` (phase-vocoder time stretch + resampling),
 * `timeStretch`, `speedPerturb`, `randomEq`, `reverb`. Spectrogram: `frequencyMask`, `timeMask`,
 * `specAugment` (the study's), `vtlp` (mel-axis warping), `gaussianNoise`. Batch: `mixup`.
 */
import { resample } from '../audio/resample.js';
import { fftPlan } from '../dsp/fft.js';
import { istft, stft } from '../dsp/stft.js';
import type { Spectrogram } from '../features/types.js';
import { SerError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';

// ---------------------------------------------------------------------------------------------
// waveform

function power(y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] as number) * (y[i] as number);
  return y.length ? s / y.length : 0;
}

/** Adds white Gaussian noise at a signal-to-noise ratio of `snrDb` (signal power / noise power). */
export function addNoise(y: Float32Array, snrDb: number, rng: Rng): Float32Array {
  const p = power(y);
  const out = new Float32Array(y);
  if (p === 0) return out;
  const std = Math.sqrt(p / Math.pow(10, snrDb / 10));
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + std * rng.normal();
  return out;
}

/**
 * Time-stretches by `rate` (> 1 faster/shorter, < 1 slower/longer) without changing pitch:
 * librosa's phase vocoder on an STFT (nFft 2048, hop 512). Output length round(n / rate).
 */
export function timeStretch(y: Float32Array, rate: number, nFft = 2048, hopLength = nFft / 4): Float32Array {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new SerError('augment/bad-rate', `timeStretch: rate must be a positive number, got ${rate}`);
  const outLen = Math.round(y.length / rate);
  if (y.length === 0) return new Float32Array(outLen);
  const D = stft(y, { nFft, hopLength });
  const { bins, frames } = D;
  // magnitude and phase of every bin once (frames + 1 zero column at the end, like librosa's padding)
  const mag = new Float32Array((frames + 2) * bins);
  const ang = new Float32Array((frames + 2) * bins);
  for (let i = 0; i < frames * bins; i++) {
    const r = D.re[i] as number, q = D.im[i] as number;
    mag[i] = Math.hypot(r, q);
    ang[i] = Math.atan2(q, r);
  }
  const n = Math.ceil(frames / rate - 1e-9);
  const re = new Float32Array(n * bins);
  const im = new Float32Array(n * bins);
  const phase = new Float64Array(bins);
  const advance = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    advance[k] = (Math.PI * hopLength * k) / (bins - 1);
    phase[k] = ang[k] as number;
  }
  const TWO_PI = 2 * Math.PI;
  for (let s = 0; s < n; s++) {
    const st = s * rate;
    const t0 = Math.floor(st);
    const alpha = st - t0;
    const o0 = t0 * bins, o1 = (t0 + 1) * bins, o = s * bins;
    for (let k = 0; k < bins; k++) {
      const m = (1 - alpha) * (mag[o0 + k] as number) + alpha * (mag[o1 + k] as number);
      const ph = phase[k] as number;
      re[o + k] = m * Math.cos(ph);
      im[o + k] = m * Math.sin(ph);
      let dp = (ang[o1 + k] as number) - (ang[o0 + k] as number) - (advance[k] as number);
      dp -= TWO_PI * Math.round(dp / TWO_PI);
      phase[k] = ph + (advance[k] as number) + dp;
    }
  }
  return istft({ re, im, bins, frames: n }, { nFft, hopLength, length: outLen });
}

function fixLength(y: Float32Array, n: number): Float32Array {
  if (y.length === n) return y;
  const out = new Float32Array(n);
  out.set(y.subarray(0, Math.min(n, y.length)));
  return out;
}

/**
 * Shifts pitch by `semitones` keeping the duration (librosa's `effects.pitch_shift`): time-stretch
 * by 2^(-semitones/12), then resample back to the original length.
 */
export function pitchShift(y: Float32Array, sr: number, semitones: number): Float32Array {
  if (semitones === 0) return new Float32Array(y);
  const rate = Math.pow(2, -semitones / 12);
  const stretched = timeStretch(y, rate);
  return fixLength(resample(stretched, sr / rate, sr, 'fast'), y.length);
}

/**
 * Speed perturbation (tempo and pitch together, like playing a tape faster): resamples so the
 * result has ceil(n / factor) samples. factor 1.1 → 10% faster and higher.
 */
export function speedPerturb(y: Float32Array, factor: number): Float32Array {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new SerError('augment/bad-factor', `speedPerturb: factor must be a positive number, got ${factor}`);
  if (factor === 1) return new Float32Array(y);
  const from = Math.round(factor * 1000);
  if (Math.abs(from / 1000 - factor) < 1e-12) return resample(y, from, 1000, 'fast');
  return resample(y, factor, 1, 'fast');
}

/** Biquad coefficients [b0, b1, b2, a1, a2] (a0 normalised to 1). */
export type Biquad = [number, number, number, number, number];

/** RBJ peaking-EQ biquad: `gainDb` at `f0` Hz with quality `q`. */
export function peakingBiquad(sr: number, f0: number, gainDb: number, q = 1): Biquad {
  const A = Math.pow(10, gainDb / 40);
  const w = (2 * Math.PI * f0) / sr;
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha / A;
  return [(1 + alpha * A) / a0, (-2 * Math.cos(w)) / a0, (1 - alpha * A) / a0, (-2 * Math.cos(w)) / a0, (1 - alpha / A) / a0];
}

/** RBJ high-shelf biquad (shelf slope 1): `gainDb` above about `f0` Hz. */
export function highShelfBiquad(sr: number, f0: number, gainDb: number): Biquad {
  const A = Math.pow(10, gainDb / 40);
  const w = (2 * Math.PI * f0) / sr;
  const cw = Math.cos(w);
  const alpha = (Math.sin(w) / 2) * Math.SQRT2;
  const sA = 2 * Math.sqrt(A) * alpha;
  const a0 = A + 1 - (A - 1) * cw + sA;
  return [
    (A * (A + 1 + (A - 1) * cw + sA)) / a0,
    (-2 * A * (A - 1 + (A + 1) * cw)) / a0,
    (A * (A + 1 + (A - 1) * cw - sA)) / a0,
    (2 * (A - 1 - (A + 1) * cw)) / a0,
    (A + 1 - (A - 1) * cw - sA) / a0,
  ];
}

/** Runs a biquad over `y` (direct form I), returning a new array. */
export function applyBiquad(y: Float32Array, c: Biquad): Float32Array {
  const [b0, b1, b2, a1, a2] = c;
  const out = new Float32Array(y.length);
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (let i = 0; i < y.length; i++) {
    const x = y[i] as number;
    const v = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    out[i] = v;
    x2 = x1; x1 = x; y2 = y1; y1 = v;
  }
  return out;
}

export interface RandomEqOptions {
  /** Spectral tilt: high-shelf gain at `tiltHz`, uniform in ±tiltDb. */
  tiltDb?: number;
  tiltHz?: number;
  /** Number of peaking filters, uniform in [min, max]. */
  peaks?: [number, number];
  /** Peak gain uniform in ±peakDb; centre log-uniform in [fmin, fmax] Hz; Q uniform in qRange. */
  peakDb?: number;
  fmin?: number;
  fmax?: number;
  qRange?: [number, number];
}

/**
 * Random channel/EQ colouring: a random spectral tilt (high shelf) and a few random peaking
 * filters, like a different microphone or room. The output is rescaled to the input's peak.
 */
export function randomEq(y: Float32Array, sr: number, rng: Rng, { tiltDb = 6, tiltHz = 1000, peaks = [1, 3], peakDb = 9, fmin = 150, fmax = 6000, qRange = [0.7, 3] }: RandomEqOptions = {}): Float32Array {
  let out = applyBiquad(y, highShelfBiquad(sr, Math.min(tiltHz, 0.4 * sr), rng.uniform(-tiltDb, tiltDb)));
  const nPeaks = peaks[0] + rng.int(peaks[1] - peaks[0] + 1);
  const hi = Math.min(fmax, 0.45 * sr);
  for (let i = 0; i < nPeaks; i++) {
    const f0 = Math.exp(rng.uniform(Math.log(fmin), Math.log(hi)));
    out = applyBiquad(out, peakingBiquad(sr, f0, rng.uniform(-peakDb, peakDb), rng.uniform(qRange[0], qRange[1])));
  }
  return matchPeak(out, y);
}

function peakOf(y: ArrayLike<number>): number {
  let p = 0;
  for (let i = 0; i < y.length; i++) p = Math.max(p, Math.abs(y[i] as number));
  return p;
}

function matchPeak(out: Float32Array, ref: Float32Array): Float32Array {
  const po = peakOf(out);
  const pr = peakOf(ref);
  if (po > 0 && pr > 0) {
    const g = pr / po;
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * g;
  }
  return out;
}

function nextPow2(n: number): number {
  let p = 4;
  while (p < n) p *= 2;
  return p;
}

/** Linear convolution of `x` with `h` via FFT, truncated to x.length samples. */
export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  const n = nextPow2(x.length + h.length - 1);
  const plan = fftPlan(n);
  const a = new Float64Array(n);
  a.set(x);
  const A = plan.forward(a).slice(0, 2 * plan.bins);
  const b = new Float64Array(n);
  b.set(h);
  const B = plan.forward(b).slice(0, 2 * plan.bins);
  const C = new Float64Array(2 * plan.bins);
  for (let k = 0; k < plan.bins; k++) {
    const ar = A[2 * k] as number, ai = A[2 * k + 1] as number, br = B[2 * k] as number, bi = B[2 * k + 1] as number;
    C[2 * k] = ar * br - ai * bi;
    C[2 * k + 1] = ar * bi + ai * br;
  }
  const out = new Float64Array(n);
  plan.inverse2(C, null, out, null);
  return Float32Array.from(out.subarray(0, x.length));
}

/** A synthetic room impulse response: a unit direct path then exponentially decaying noise (−60 dB at rt60). */
export function syntheticRir(sr: number, rt60: number, rng: Rng, preDelay = 0.005): Float32Array {
  const n = Math.max(2, Math.round(rt60 * sr));
  const h = new Float32Array(n);
  h[0] = 1;
  const start = Math.max(1, Math.round(preDelay * sr));
  const k = Math.log(1000) / (rt60 * sr); // amplitude e^(-k t) reaches 1e-3 (−60 dB) at rt60
  let energy = 0;
  for (let i = start; i < n; i++) {
    h[i] = rng.normal() * Math.exp(-k * (i - start));
    energy += (h[i] as number) ** 2;
  }
  // scale the tail to carry about as much energy as the direct path
  const g = energy > 0 ? 1 / Math.sqrt(energy) : 0;
  for (let i = start; i < n; i++) h[i] = (h[i] as number) * g;
  return h;
}

export interface ReverbOptions {
  /** Reverberation time range in seconds. */
  rt60?: [number, number];
  /** Wet (reverberant) share range. */
  wet?: [number, number];
}

/**
 * Adds synthetic room reverberation: convolution with an exponentially decaying noise RIR of
 * random RT60, mixed with the dry signal; same length, rescaled to the input's peak.
 */
export function reverb(y: Float32Array, sr: number, rng: Rng, { rt60 = [0.2, 0.8], wet = [0.1, 0.5] }: ReverbOptions = {}): Float32Array {
  if (y.length === 0) return new Float32Array(0);
  const h = syntheticRir(sr, rng.uniform(rt60[0], rt60[1]), rng);
  const w = rng.uniform(wet[0], wet[1]);
  const wetSig = convolve(y, h);
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = (1 - w) * (y[i] as number) + w * (wetSig[i] as number);
  return matchPeak(out, y);
}

// ---------------------------------------------------------------------------------------------
// channel: how real audio reaches us (telephone lines, codecs, microphones, noise, rooms)

/** RBJ low-pass biquad at `f0` Hz (Q 1/√2: Butterworth). */
export function lowpassBiquad(sr: number, f0: number, q = Math.SQRT1_2): Biquad {
  const w = (2 * Math.PI * Math.min(f0, 0.49 * sr)) / sr;
  const cw = Math.cos(w);
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha;
  return [(1 - cw) / 2 / a0, (1 - cw) / a0, (1 - cw) / 2 / a0, (-2 * cw) / a0, (1 - alpha) / a0];
}

/** RBJ high-pass biquad at `f0` Hz (Q 1/√2: Butterworth). */
export function highpassBiquad(sr: number, f0: number, q = Math.SQRT1_2): Biquad {
  const w = (2 * Math.PI * Math.min(f0, 0.49 * sr)) / sr;
  const cw = Math.cos(w);
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha;
  return [(1 + cw) / 2 / a0, -(1 + cw) / a0, (1 + cw) / 2 / a0, (-2 * cw) / a0, (1 - alpha) / a0];
}

/**
 * Band-limits `y` to [lowHz, highHz] with `sections` cascaded Butterworth biquads per edge
 * (12 dB/octave each). lowHz ≤ 0 skips the high-pass; highHz ≥ sr/2 skips the low-pass.
 */
export function bandLimit(y: Float32Array, sr: number, lowHz: number, highHz: number, sections = 2): Float32Array {
  let out = y;
  for (let s = 0; s < sections; s++) {
    if (lowHz > 0) out = applyBiquad(out, highpassBiquad(sr, lowHz));
    if (highHz < sr / 2) out = applyBiquad(out, lowpassBiquad(sr, highHz));
  }
  return out === y ? new Float32Array(y) : out;
}

/** Companding law of G.711 telephony: μ-law (North America, Japan) or A-law (Europe). */
export type CompandingLaw = 'mu' | 'a';

/**
 * G.711-style 8-bit companding round trip: compress with μ-law (μ = 255) or A-law (A = 87.6),
 * quantise to 8 bits (256 levels), expand. Input is clipped to ±1; the result carries the
 * level-dependent quantisation noise of a telephone line.
 */
export function compand(y: Float32Array, law: CompandingLaw = 'mu'): Float32Array {
  const out = new Float32Array(y.length);
  const MU = 255, A = 87.6, lnA1 = 1 + Math.log(A), ln1mu = Math.log1p(MU);
  for (let i = 0; i < y.length; i++) {
    const x = Math.max(-1, Math.min(1, y[i] as number));
    const a = Math.abs(x);
    let c = law === 'mu' ? Math.log1p(MU * a) / ln1mu : a < 1 / A ? (A * a) / lnA1 : (1 + Math.log(A * a)) / lnA1;
    c = Math.round(c * 127) / 127; // sign + 7 bits
    const e = law === 'mu' ? (Math.pow(1 + MU, c) - 1) / MU : c < 1 / lnA1 ? (c * lnA1) / A : Math.exp(c * lnA1 - 1) / A;
    out[i] = x < 0 ? -e : e;
  }
  return out;
}

/** Down to `rate` Hz and back up to `sr`: everything above rate/2 is lost, as in a low-rate recording. */
export function resampleThrough(y: Float32Array, sr: number, rate: number): Float32Array {
  if (rate >= sr) return new Float32Array(y);
  const back = resample(resample(y, sr, rate, 'fast'), rate, sr, 'fast');
  return back.length === y.length ? back : Float32Array.from({ length: y.length }, (_, i) => back[i] ?? 0);
}

export interface TelephoneOptions {
  law?: CompandingLaw;
  lowHz?: number;
  highHz?: number;
  /** The line's sample rate (8000 Hz for narrow-band telephony). */
  rate?: number;
}

/** A narrow-band telephone line: 300–3400 Hz band, 8 kHz, G.711 companding; returned at `sr`. */
export function telephone(y: Float32Array, sr: number, { law = 'mu', lowHz = 300, highHz = 3400, rate = 8000 }: TelephoneOptions = {}): Float32Array {
  const band = bandLimit(y, sr, lowHz, highHz);
  const peak = peakOf(band);
  // a line carries a sensible level: scale into [-0.7, 0.7] before companding, then back
  const g = peak > 0 ? 0.7 / peak : 1;
  for (let i = 0; i < band.length; i++) band[i] = (band[i] as number) * g;
  const lo = resample(band, sr, rate, 'fast');
  const c = compand(lo, law);
  const back = resample(c, rate, sr, 'fast');
  const out = new Float32Array(y.length);
  for (let i = 0; i < out.length; i++) out[i] = (back[i] ?? 0) / g;
  return out;
}

/**
 * Noise with a power spectrum ∝ 1/f^exponent (0 white, 1 pink, 2 brown), unit RMS, made by
 * shaping white Gaussian noise in the frequency domain (bins below 20 Hz are left out).
 */
export function coloredNoise(n: number, sr: number, exponent: number, rng: Rng): Float32Array {
  if (n === 0) return new Float32Array(0);
  const size = nextPow2(n);
  const plan = fftPlan(size);
  const white = new Float64Array(size);
  for (let i = 0; i < size; i++) white[i] = rng.normal();
  const spec = plan.forward(white).slice(0, 2 * plan.bins);
  const f0 = Math.max(1, Math.round((20 * size) / sr));
  for (let k = 0; k < plan.bins; k++) {
    const g = k < f0 ? 0 : Math.pow(k / f0, -exponent / 2);
    spec[2 * k] = (spec[2 * k] as number) * g;
    spec[2 * k + 1] = (spec[2 * k + 1] as number) * g;
  }
  const out64 = new Float64Array(size);
  plan.inverse2(spec, null, out64, null);
  const out = Float32Array.from(out64.subarray(0, n));
  const r = Math.sqrt(power(out));
  if (r > 0) for (let i = 0; i < n; i++) out[i] = (out[i] as number) / r;
  return out;
}

/**
 * `y` plus `noise` scaled so that power(y) / power(scaled noise) is `snrDb` (the noise is tiled
 * or cut to y's length). Silent `y` or `noise` returns a copy of `y`.
 */
export function mixAtSnr(y: Float32Array, noise: Float32Array, snrDb: number): Float32Array {
  const out = new Float32Array(y);
  if (noise.length === 0) return out;
  const py = power(y);
  let pn = 0;
  for (let i = 0; i < y.length; i++) pn += (noise[i % noise.length] as number) ** 2;
  pn /= Math.max(1, y.length);
  if (py === 0 || pn === 0) return out;
  const g = Math.sqrt(py / (pn * Math.pow(10, snrDb / 10)));
  for (let i = 0; i < y.length; i++) out[i] = (out[i] as number) + g * (noise[i % noise.length] as number);
  return out;
}

/**
 * Babble: `talkers` utterances drawn from `pool` (each at a random offset, looped to length `n`,
 * scaled to unit RMS) summed — the sound of other people talking.
 */
export function babble(pool: readonly Float32Array[], n: number, talkers: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  const usable = pool.filter((p) => p.length > 0);
  if (usable.length === 0 || n === 0) return out;
  for (let t = 0; t < talkers; t++) {
    const src = usable[rng.int(usable.length)] as Float32Array;
    const r = Math.sqrt(power(src)) || 1;
    const off = rng.int(src.length);
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (src[(off + i) % src.length] as number) / r;
  }
  return out;
}

/** Multiplies by 10^(db/20). */
export function gain(y: Float32Array, db: number): Float32Array {
  const g = Math.pow(10, db / 20);
  return Float32Array.from(y, (v) => v * g);
}

/**
 * Channel augmentation as a recipe declares it: each op applies independently with its
 * probability `p`, in the order sound travels — room (reverb), microphone (eq), surroundings
 * (noise, babble), line (telephone / codec band-limit / low-rate recording), level (gain).
 */
export interface ChannelAugment {
  /** Synthetic room: RT60 (s) and wet share ranges. */
  reverb?: { p: number; rt60: [number, number]; wet: [number, number] };
  /** Random microphone colouring (`randomEq` options). */
  eq?: { p: number } & RandomEqOptions;
  /** Coloured noise: spectral exponent uniform in `exponent` (0 white … 2 brown), SNR uniform in `snrDb`. */
  noise?: { p: number; snrDb: [number, number]; exponent: [number, number] };
  /** Babble of `talkers` other training utterances at SNR uniform in `snrDb` (needs a pool). */
  babble?: { p: number; snrDb: [number, number]; talkers: [number, number] };
  /** Telephone line (300–3400 Hz, 8 kHz, μ- or A-law, band edges jittered by ±`jitter` of their value). */
  telephone?: { p: number; jitter: number };
  /** Low-bitrate codec-like low-pass, cut-off uniform in `cutoffHz`. */
  codec?: { p: number; cutoffHz: [number, number] };
  /** Recorded at a lower rate: down to one of `rates` and back. */
  resample?: { p: number; rates: number[] };
  /** Level change uniform in ±maxDb. */
  gain?: { p: number; maxDb: number };
}

/** Every op name of `ChannelAugment`, in the order `applyChannel` applies them. */
export const CHANNEL_OPS = ['reverb', 'eq', 'noise', 'babble', 'telephone', 'codec', 'resample', 'gain'] as const;
export type ChannelOp = (typeof CHANNEL_OPS)[number];

/**
 * One op of a channel augmentation on `y` at `sr` (exported so the exploration report can show
 * each op on its own, exactly as training applies it).
 */
export function applyChannelOp(op: ChannelOp, y: Float32Array, sr: number, aug: ChannelAugment, rng: Rng, babblePool: readonly Float32Array[] = []): Float32Array {
  switch (op) {
    case 'reverb': {
      const o = aug.reverb!;
      return reverb(y, sr, rng, { rt60: o.rt60, wet: o.wet });
    }
    case 'eq':
      return randomEq(y, sr, rng, aug.eq);
    case 'noise': {
      const o = aug.noise!;
      return mixAtSnr(y, coloredNoise(y.length, sr, rng.uniform(o.exponent[0], o.exponent[1]), rng), rng.uniform(o.snrDb[0], o.snrDb[1]));
    }
    case 'babble': {
      const o = aug.babble!;
      if (babblePool.length === 0) return new Float32Array(y);
      const talkers = o.talkers[0] + rng.int(o.talkers[1] - o.talkers[0] + 1);
      return mixAtSnr(y, babble(babblePool, y.length, talkers, rng), rng.uniform(o.snrDb[0], o.snrDb[1]));
    }
    case 'telephone': {
      const j = aug.telephone!.jitter;
      return telephone(y, sr, { law: rng.chance(0.5) ? 'mu' : 'a', lowHz: 300 * rng.uniform(1 - j, 1 + j), highHz: 3400 * rng.uniform(1 - j, 1 + j) });
    }
    case 'codec': {
      const o = aug.codec!;
      return bandLimit(y, sr, 0, rng.uniform(o.cutoffHz[0], o.cutoffHz[1]), 3);
    }
    case 'resample': {
      const rates = aug.resample!.rates;
      return resampleThrough(y, sr, rates[rng.int(rates.length)] as number);
    }
    case 'gain':
      return gain(y, rng.uniform(-aug.gain!.maxDb, aug.gain!.maxDb));
  }
}

/** Applies the channel augmentation's ops (each with its probability, in `CHANNEL_OPS` order) to `y`. */
export function applyChannel(y: Float32Array, sr: number, aug: ChannelAugment, rng: Rng, babblePool: readonly Float32Array[] = []): Float32Array {
  let out = y;
  for (const op of CHANNEL_OPS) {
    const o = aug[op];
    if (o && rng.chance(o.p)) out = applyChannelOp(op, out, sr, aug, rng, babblePool);
  }
  return out === y ? new Float32Array(y) : out;
}

// ---------------------------------------------------------------------------------------------
// spectrogram

function copySpec(s: Spectrogram): Spectrogram {
  return { data: new Float32Array(s.data), nMels: s.nMels, frames: s.frames };
}

/** Sets rows [start, start+width) (mel bands) to `value`; returns a new spectrogram. */
export function maskRows(spec: Spectrogram, start: number, width: number, value = 0): Spectrogram {
  const out = copySpec(spec);
  const a = Math.max(0, start), b = Math.min(spec.nMels, start + width);
  for (let m = a; m < b; m++) out.data.fill(value, m * spec.frames, (m + 1) * spec.frames);
  return out;
}

/** Sets columns [start, start+width) (frames) to `value`; returns a new spectrogram. */
export function maskColumns(spec: Spectrogram, start: number, width: number, value = 0): Spectrogram {
  const out = copySpec(spec);
  const a = Math.max(0, start), b = Math.min(spec.frames, start + width);
  if (b <= a) return out;
  for (let m = 0; m < spec.nMels; m++) out.data.fill(value, m * spec.frames + a, m * spec.frames + b);
  return out;
}

export interface MaskOptions {
  /** The maximum width F (or T) is drawn uniformly from this integer range; the width from 0..F. */
  maxWidth?: [number, number];
  value?: number;
}

/** A band of mel rows drawn as in the study: F ~ U{10..30}, width ~ U{0..F}, start ~ U{0..nMels-width}. */
export function drawMask(size: number, rng: Rng, maxWidth: [number, number]): { start: number; width: number } {
  const F = maxWidth[0] + rng.int(maxWidth[1] - maxWidth[0] + 1);
  const width = Math.min(size, rng.int(F + 1));
  const start = rng.int(size - width + 1);
  return { start, width };
}

/** Frequency mask (SpecAugment): a random band of mel rows set to `value` (the study: F ~ U(10,30), 0). */
export function frequencyMask(spec: Spectrogram, rng: Rng, { maxWidth = [10, 30], value = 0 }: MaskOptions = {}): Spectrogram {
  const { start, width } = drawMask(spec.nMels, rng, maxWidth);
  return maskRows(spec, start, width, value);
}

/** Time mask (SpecAugment): a random run of frames set to `value` (the study: T ~ U(10,50), 0). */
export function timeMask(spec: Spectrogram, rng: Rng, { maxWidth = [10, 50], value = 0 }: MaskOptions = {}): Spectrogram {
  const { start, width } = drawMask(spec.frames, rng, maxWidth);
  return maskColumns(spec, start, width, value);
}

/** Adds Gaussian noise of standard deviation `std` to every cell (the study's: 0.01). */
export function gaussianNoise(spec: Spectrogram, rng: Rng, std = 0.01): Spectrogram {
  const out = copySpec(spec);
  for (let i = 0; i < out.data.length; i++) out.data[i] = (out.data[i] as number) + std * rng.normal();
  return out;
}

export interface SpecAugmentOptions {
  /** Probability of each operation. */
  p?: number;
  freq?: MaskOptions;
  time?: MaskOptions;
  /** Also add Gaussian noise (with probability p) of this std; 0 disables. */
  noiseStd?: number;
}

/**
 * The study's spectrogram augmentation: Gaussian noise (std 0.01), frequency mask and time
 * mask, each applied independently with probability p = 0.6. (Its fourth operation, pitch
 * shift, belongs on the waveform: `pitchShift`.)
 */
export function specAugment(spec: Spectrogram, rng: Rng, { p = 0.6, freq = {}, time = {}, noiseStd = 0.01 }: SpecAugmentOptions = {}): Spectrogram {
  let s = spec;
  if (noiseStd > 0 && rng.chance(p)) s = gaussianNoise(s, rng, noiseStd);
  if (rng.chance(p)) s = frequencyMask(s, rng, freq);
  if (rng.chance(p)) s = timeMask(s, rng, time);
  return s === spec ? copySpec(spec) : s;
}

/**
 * Warps the mel (row) axis by `alpha` (VTLP on the mel scale): row r of the output reads row
 * r/alpha of the input below a boundary at 80% of the axis (scaled by min(alpha,1)), then a
 * straight line to the top row so the top stays fixed; linear interpolation between rows.
 */
export function melWarp(spec: Spectrogram, alpha: number): Spectrogram {
  const { nMels, frames } = spec;
  const out = { data: new Float32Array(spec.data.length), nMels, frames };
  const top = nMels - 1;
  const b = 0.8 * top * Math.min(alpha, 1); // boundary in output rows
  for (let r = 0; r < nMels; r++) {
    let src: number;
    if (r <= b) src = r / alpha;
    else {
      const sb = b / alpha;
      src = top === b ? top : sb + ((r - b) * (top - sb)) / (top - b);
    }
    src = Math.min(top, Math.max(0, src));
    const r0 = Math.floor(src);
    const r1 = Math.min(top, r0 + 1);
    const f = src - r0;
    for (let t = 0; t < frames; t++) {
      out.data[r * frames + t] = (1 - f) * (spec.data[r0 * frames + t] as number) + f * (spec.data[r1 * frames + t] as number);
    }
  }
  return out;
}

/** Vocal tract length perturbation on a mel spectrogram: `melWarp` with alpha ~ U(range). */
export function vtlp(spec: Spectrogram, rng: Rng, range: [number, number] = [0.9, 1.1]): Spectrogram {
  return melWarp(spec, rng.uniform(range[0], range[1]));
}

// ---------------------------------------------------------------------------------------------
// batch

/**
 * Mixup: lambda·a + (1−lambda)·b, for spectrograms of the same shape or plain arrays (inputs or
 * one-hot labels).
 */
export function mixup<T extends Float32Array | Spectrogram>(a: T, b: T, lambda: number): T {
  const da = a instanceof Float32Array ? a : a.data;
  const db = b instanceof Float32Array ? b : (b as Spectrogram).data;
  if (da.length !== db.length || (!(a instanceof Float32Array) && ((a as Spectrogram).nMels !== (b as Spectrogram).nMels))) {
    throw new SerError('augment/shape-mismatch', `mixup: shapes differ (${da.length} vs ${db.length} values); pad or resize first`);
  }
  const out = new Float32Array(da.length);
  for (let i = 0; i < out.length; i++) out[i] = lambda * (da[i] as number) + (1 - lambda) * (db[i] as number);
  if (a instanceof Float32Array) return out as T;
  return { data: out, nMels: (a as Spectrogram).nMels, frames: (a as Spectrogram).frames } as T;
}

/** Gamma(shape, 1) sample (Marsaglia–Tsang). */
function gamma(shape: number, rng: Rng): number {
  if (shape < 1) return gamma(shape + 1, rng) * Math.pow(rng.next() || 1e-12, 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do { x = rng.normal(); v = 1 + c * x; } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Mixup's lambda ~ Beta(alpha, alpha). */
export function sampleMixupLambda(rng: Rng, alpha = 0.2): number {
  const x = gamma(alpha, rng);
  const y = gamma(alpha, rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}
