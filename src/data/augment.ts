/**
 * Data augmentation — the one home of every augmentation op training applies (and the
 * exploration report shows), as functions of a seeded `Rng`:
 * - waveform: `pitchShift` (phase-vocoder time stretch + resampling), `randomEq`, `reverb`;
 * - channel (`applyChannel`, recipe `offlineAugment.channel`): telephone line with G.711
 *   companding, codec-like band limits, lower recording rates, coloured noise and babble at a
 *   random SNR, synthetic room reverberation, EQ, gain;
 * - spectrogram (dB): the study's ops (`augmentOffline`: pitch, noise, frequency / time masks),
 *   on-the-fly ops (`augmentOnline`: SpecAugment, tilt, EQ, mel warp, speed, gain, noise), mixup.
 * The recipe types of these ops (`OfflineAugment`, `OnlineAugment`, `ChannelAugment`) live here too.
 */
import { resample } from '../audio/resample.js';
import { irfft, rfft } from '../dsp/rfft.js';
import { istft, stft } from '../dsp/stft.js';
import type { Spectrogram } from '../features/types.js';
import { hzToMel, melToHz } from '../features/mel.js';
import { cloneSpectrogram, interpolateTime, padTime } from '../features/reshape.js';
import { SerError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';

// ---------------------------------------------------------------------------------------------
// waveform

function power(y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] as number) * (y[i] as number);
  return y.length ? s / y.length : 0;
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

/** Options of `deviceResponse`: ranges each draw is uniform in (frequencies log-uniform). */
export interface DeviceResponseOptions {
  /** The capsule's and housing's low cut: a 12 dB/octave high-pass at this cut-off (Hz). */
  highpassHz?: [number, number];
  /** The top end: a 12 dB/octave low-pass at this cut-off (Hz; capped below Nyquist). */
  lowpassHz?: [number, number];
  /** How many resonances (presence peaks of a small capsule, a housing's cavity), uniform in [min, max]. */
  resonances?: [number, number];
  /** Each resonance's boost (dB), centre (Hz) and Q. */
  resonanceDb?: [number, number];
  resonanceHz?: [number, number];
  resonanceQ?: [number, number];
}

/**
 * One whole device's response drawn at once — a low cut, a top-end roll-off and 0–2 resonances together, as a
 * laptop's, a headset's or a phone's microphone colours speech — where `randomEq` draws a shelf and peaks of either
 * sign. The output is rescaled to the input's peak.
 */
export function deviceResponse(
  y: Float32Array, sr: number, rng: Rng,
  { highpassHz = [60, 400], lowpassHz = [3500, 8000], resonances = [0, 2], resonanceDb = [3, 10], resonanceHz = [1500, 5000], resonanceQ = [1, 4] }: DeviceResponseOptions = {},
): Float32Array {
  const logUniform = (r: [number, number]): number => Math.exp(rng.uniform(Math.log(r[0]), Math.log(r[1])));
  let out = applyBiquad(y, highpassBiquad(sr, logUniform(highpassHz)));
  out = applyBiquad(out, lowpassBiquad(sr, Math.min(logUniform(lowpassHz), 0.45 * sr)));
  const n = resonances[0] + rng.int(resonances[1] - resonances[0] + 1);
  for (let i = 0; i < n; i++) {
    const f0 = Math.min(logUniform(resonanceHz), 0.45 * sr);
    out = applyBiquad(out, peakingBiquad(sr, f0, rng.uniform(resonanceDb[0], resonanceDb[1]), rng.uniform(resonanceQ[0], resonanceQ[1])));
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
  const bins = n / 2 + 1;
  const a = new Float64Array(n);
  a.set(x);
  const A = rfft(a);
  const b = new Float64Array(n);
  b.set(h);
  const B = rfft(b);
  const C = new Float64Array(2 * bins);
  for (let k = 0; k < bins; k++) {
    const ar = A[2 * k] as number, ai = A[2 * k + 1] as number, br = B[2 * k] as number, bi = B[2 * k + 1] as number;
    C[2 * k] = ar * br - ai * bi;
    C[2 * k + 1] = ar * bi + ai * br;
  }
  return Float32Array.from(irfft(C, n).subarray(0, x.length));
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
  /** Wet (reverberant) share range: the tail is added at `wet` × the direct path's energy-equal level (DRR −20·log10(wet) dB). */
  wet?: [number, number];
  /**
   * Direct-to-reverberant ratio range in dB, instead of `wet` (the same draw, stated as the
   * quantity room acoustics uses: 0 dB at the critical distance, negative beyond it).
   */
  drrDb?: [number, number];
}

/**
 * Adds synthetic room reverberation: convolution with an exponentially decaying noise RIR of
 * random RT60 whose tail is added to the dry signal at a random level (`wet`, or `drrDb`); same
 * length, rescaled to the input's peak.
 */
export function reverb(y: Float32Array, sr: number, rng: Rng, { rt60 = [0.2, 0.8], wet = [0.1, 0.5], drrDb }: ReverbOptions = {}): Float32Array {
  if (y.length === 0) return new Float32Array(0);
  const h = syntheticRir(sr, rng.uniform(rt60[0], rt60[1]), rng);
  // syntheticRir's tail carries the direct path's energy, so a tail gain w gives DRR = −20·log10(w)
  const w = drrDb ? 10 ** (-rng.uniform(drrDb[0], drrDb[1]) / 20) : rng.uniform(wet[0], wet[1]);
  const wetSig = convolve(y, h);
  const out = new Float32Array(y.length);
  // (1 − w)·dry + w·(dry + tail) = dry + w·tail: the RIR's direct path is a unit impulse at 0
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
  const bins = size / 2 + 1;
  const white = new Float64Array(size);
  for (let i = 0; i < size; i++) white[i] = rng.normal();
  const spec = rfft(white);
  const f0 = Math.max(1, Math.round((20 * size) / sr));
  for (let k = 0; k < bins; k++) {
    const g = k < f0 ? 0 : Math.pow(k / f0, -exponent / 2);
    spec[2 * k] = (spec[2 * k] as number) * g;
    spec[2 * k + 1] = (spec[2 * k + 1] as number) * g;
  }
  const out = Float32Array.from(irfft(spec, size).subarray(0, n));
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

/**
 * An overdriven recorder: the signal saturates at `headroomDb` below its own peak. `soft` bends it
 * smoothly (c·tanh(x / c), an analogue input stage) instead of cutting it flat (c·sign(x), a
 * converter running out of bits). Silence is returned as it is.
 */
export function clip(y: Float32Array, headroomDb: number, soft = false): Float32Array {
  let peak = 0;
  for (let i = 0; i < y.length; i++) peak = Math.max(peak, Math.abs(y[i] as number));
  if (peak === 0) return new Float32Array(y);
  const c = peak * Math.pow(10, -headroomDb / 20);
  return Float32Array.from(y, (v) => (soft ? c * Math.tanh(v / c) : Math.max(-c, Math.min(c, v))));
}

/** Multiplies by 10^(db/20). */
export function gain(y: Float32Array, db: number): Float32Array {
  const g = Math.pow(10, db / 20);
  return Float32Array.from(y, (v) => v * g);
}

/**
 * Channel augmentation as a recipe declares it: each op applies independently with its
 * probability `p`, in the order sound travels — room (reverb), microphone (eq, device), surroundings
 * (noise, babble), line (telephone / codec band-limit / low-rate recording), level (gain).
 */
export interface ChannelAugment {
  /** Synthetic room: RT60 (s) range and the tail's level, as a wet share range or a direct-to-reverberant ratio range (dB); one of the two. */
  reverb?: { p: number; rt60: [number, number]; wet?: [number, number]; drrDb?: [number, number] };
  /** Random microphone colouring (`randomEq` options). */
  eq?: { p: number } & RandomEqOptions;
  /** A whole device's response: low cut, top-end roll-off and resonances together (`deviceResponse` options). */
  device?: { p: number } & DeviceResponseOptions;
  /** Coloured noise: spectral exponent uniform in `exponent` (0 white … 2 brown), SNR uniform in `snrDb`. */
  noise?: { p: number; snrDb: [number, number]; exponent: [number, number] };
  /** Babble of `talkers` other training utterances at SNR uniform in `snrDb` (needs a pool). */
  babble?: { p: number; snrDb: [number, number]; talkers: [number, number] };
  /** Overdriven recording: saturation `headroomDb` (uniform in the range) below the peak; soft (tanh) with probability `soft`, else hard. */
  clip?: { p: number; headroomDb: [number, number]; soft: number };
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
export const CHANNEL_OPS = ['reverb', 'eq', 'device', 'noise', 'babble', 'clip', 'telephone', 'codec', 'resample', 'gain'] as const;
export type ChannelOp = (typeof CHANNEL_OPS)[number];

/**
 * One op of a channel augmentation on `y` at `sr` (exported so the exploration report can show
 * each op on its own, exactly as training applies it).
 */
export function applyChannelOp(op: ChannelOp, y: Float32Array, sr: number, aug: ChannelAugment, rng: Rng, babblePool: readonly Float32Array[] = []): Float32Array {
  switch (op) {
    case 'reverb': {
      const o = aug.reverb!;
      return reverb(y, sr, rng, { rt60: o.rt60, ...(o.drrDb ? { drrDb: o.drrDb } : { wet: o.wet }) });
    }
    case 'eq':
      return randomEq(y, sr, rng, aug.eq);
    case 'device':
      return deviceResponse(y, sr, rng, aug.device);
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
    case 'clip': {
      const o = aug.clip!;
      return clip(y, rng.uniform(o.headroomDb[0], o.headroomDb[1]), rng.chance(o.soft));
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
// spectrogram (dB domain, before normalisation, as in the study)

/** The study's offline augmentation: `copies` augmented copies of each training spectrogram, added to the originals. */
export interface OfflineAugment {
  copies: number;
  /** Each op applies independently with this probability (the study: 0.6). */
  p: number;
  /** Gaussian noise std in dB (the study: 0.01). */
  noiseStd: number;
  /** Pitch shift range ±semitones (the study: 4). */
  pitchSemitones: number;
  /**
   * How pitch is shifted: 'waveform' = on the audio, then features recomputed (what the study meant;
   * needs the audio files, semitones rounded to 0.5 so results cache), 'mel-warp' = a warp of the
   * mel axis of the spectrogram (fast approximation; used when no audio is available).
   */
  pitchShift: 'waveform' | 'mel-warp';
  /** Frequency mask: max width F drawn uniform in [lo, hi], width uniform in 0..F (the study: [10, 30]). */
  freqMask: [number, number];
  /** Time mask: max width T drawn uniform in [lo, hi], width uniform in 0..T (the study: [10, 50]). */
  timeMask: [number, number];
  /**
   * Feature-domain warp instead of the ops above: each copy's features are recomputed from the
   * audio (the loop's pitchSource, called with 12·log2(factor) semitones) with a mel-axis / F0
   * warp factor uniform in [1 − melWarp, 1 + melWarp] (utterance-stats features).
   */
  melWarp?: number;
  /**
   * Channel augmentation of each copy's audio before its features are recomputed (telephone,
   * codec band-limits, lower rates, EQ, gain, coloured noise, babble, clipping, room reverberation):
   * data/augment's `applyChannel`, each op with its own probability. Absent or null: none.
   */
  channel?: ChannelAugment | null;
  /**
   * With `melWarp`: this many more copies of each file after the `copies` channel copies, through the mel-axis /
   * F0 warp only — clean speech in another voice, so a recipe trained mostly on degraded copies still sees clean
   * speech in proportion. Absent: 0. Without a channel it changes nothing (every copy is then the warp alone).
   */
  warpOnlyCopies?: number;
}

/** On-the-fly augmentation, drawn fresh for every example every epoch (dB domain, before normalisation). */
export interface OnlineAugment {
  /** SpecAugment: `freqMasks` masks of width 0..maxFreq bands and `timeMasks` of width 0..maxTimeFraction × frames. */
  specAugment?: { p: number; freqMasks: number; maxFreq: number; timeMasks: number; maxTimeFraction: number };
  /** Spectral tilt: adds slope × log2(f / 1 kHz) dB, slope uniform in ±maxDbPerOctave (microphone / voice colour). */
  tilt?: { p: number; maxDbPerOctave: number };
  /** Random smooth EQ: `bands` random gains (±maxDb) interpolated across the mel axis. */
  eq?: { p: number; bands: number; maxDb: number };
  /** Pitch / formant warp of the mel axis by a uniform ±semitones factor (vocal-tract-length-like). */
  warp?: { p: number; semitones: number };
  /** Speed change: resamples the time axis by a factor uniform in [1 − r, 1 + r]. */
  speed?: { p: number; range: number };
  /** Gaussian noise in dB. */
  noise?: { p: number; std: number };
  /** Global gain in dB (matters only without normalisation). */
  gain?: { p: number; maxDb: number };
  /**
   * The study's four ops (pitch as a mel-axis warp, noise, frequency mask, time mask, each with
   * probability p), drawn fresh every epoch instead of as fixed offline copies.
   */
  study?: Pick<OfflineAugment, 'p' | 'noiseStd' | 'pitchSemitones' | 'freqMask' | 'timeMask'>;
}

/** Adds Gaussian noise of standard deviation `std` (dB), in place. */
export function addNoiseDb(s: Spectrogram, std: number, rng: Rng): Spectrogram {
  for (let i = 0; i < s.data.length; i++) s.data[i] = (s.data[i] as number) + std * rng.normal();
  return s;
}

/** Sets `width` mel bands starting at `start` to `value`, in place. */
export function maskFrequency(s: Spectrogram, start: number, width: number, value = 0): Spectrogram {
  const end = Math.min(s.nMels, start + width);
  for (let m = Math.max(0, start); m < end; m++) s.data.fill(value, m * s.frames, (m + 1) * s.frames);
  return s;
}

/** Sets `width` frames starting at `start` to `value` in every band, in place. */
export function maskTime(s: Spectrogram, start: number, width: number, value = 0): Spectrogram {
  const a = Math.max(0, start);
  const b = Math.min(s.frames, start + width);
  for (let m = 0; m < s.nMels; m++) s.data.fill(value, m * s.frames + a, m * s.frames + b);
  return s;
}

/** Centre frequencies (Hz) of `nMels` Slaney mel bands between fmin and fmax. */
export function melCenters(nMels: number, fmin: number, fmax: number): Float64Array {
  const lo = hzToMel(fmin);
  const hi = hzToMel(fmax);
  const c = new Float64Array(nMels);
  for (let i = 0; i < nMels; i++) c[i] = melToHz(lo + ((hi - lo) * (i + 1)) / (nMels + 1));
  return c;
}

/**
 * Warps the mel axis by a frequency `ratio` (2^(semitones/12)): band m takes the value found
 * at frequency centre(m) / ratio, linearly interpolated between bands (edges held). A
 * spectrogram-domain stand-in for pitch shifting / vocal-tract-length perturbation.
 */
export function warpMel(s: Spectrogram, ratio: number, fmin: number, fmax: number): Spectrogram {
  const { nMels, frames, data } = s;
  const centres = melCenters(nMels, fmin, fmax);
  const lo = hzToMel(fmin);
  const hi = hzToMel(fmax);
  const out = new Float32Array(data.length);
  for (let m = 0; m < nMels; m++) {
    const src = hzToMel((centres[m] as number) / ratio);
    let x = ((src - lo) / (hi - lo)) * (nMels + 1) - 1; // fractional band index
    x = Math.max(0, Math.min(nMels - 1, x));
    const i0 = Math.floor(x);
    const i1 = Math.min(nMels - 1, i0 + 1);
    const w = x - i0;
    const o = m * frames;
    const r0 = i0 * frames;
    const r1 = i1 * frames;
    for (let t = 0; t < frames; t++) out[o + t] = (data[r0 + t] as number) * (1 - w) + (data[r1 + t] as number) * w;
  }
  return { data: out, nMels, frames };
}

/** Adds a per-band offset in dB (length nMels) to every frame, in place. */
export function addBandOffsets(s: Spectrogram, offsets: ArrayLike<number>): Spectrogram {
  for (let m = 0; m < s.nMels; m++) {
    const v = offsets[m] as number;
    const o = m * s.frames;
    for (let t = 0; t < s.frames; t++) s.data[o + t] = (s.data[o + t] as number) + v;
  }
  return s;
}

/** Spectral tilt: slope dB per octave around 1 kHz, as per-band offsets. */
export function tiltOffsets(nMels: number, dbPerOctave: number, fmin: number, fmax: number): Float32Array {
  const c = melCenters(nMels, fmin, fmax);
  const out = new Float32Array(nMels);
  for (let m = 0; m < nMels; m++) out[m] = dbPerOctave * Math.log2(Math.max(c[m] as number, 50) / 1000);
  return out;
}

/** Semitones of a pitch-shift draw, rounded to 0.5 (so waveform-shifted features can be cached). */
export function drawSemitones(range: number, rng: Rng): number {
  return Math.round(rng.uniform(-range, range) * 2) / 2;
}

/**
 * One augmented copy the study's way: pitch shift, Gaussian noise, frequency mask, time mask, each
 * applied independently with probability `aug.p`. `shifted(semitones)` returns the features of the
 * pitch-shifted audio (waveform mode); without it the mel axis is warped instead.
 */
export async function augmentOffline(
  s: Spectrogram,
  aug: OfflineAugment,
  rng: Rng,
  fmax: number,
  shifted?: (semitones: number) => Promise<Spectrogram>,
): Promise<Spectrogram> {
  let x = cloneSpectrogram(s);
  let semis = 0;
  if (rng.chance(aug.p)) {
    semis = drawSemitones(aug.pitchSemitones, rng);
    if (semis !== 0 && shifted) x = cloneSpectrogram(await shifted(semis));
  }
  return studyOps(x, aug, rng, shifted ? 0 : semis, fmax);
}

/** The study's ops after the pitch draw: mel-axis pitch warp (if `semis`), noise, frequency and time masks. */
function studyOps(x: Spectrogram, aug: Pick<OfflineAugment, 'p' | 'noiseStd' | 'freqMask' | 'timeMask'>, rng: Rng, semis: number, fmax: number): Spectrogram {
  if (semis !== 0) x = warpMel(x, 2 ** (semis / 12), 0, fmax);
  if (rng.chance(aug.p)) addNoiseDb(x, aug.noiseStd, rng);
  if (rng.chance(aug.p)) {
    const F = Math.floor(rng.uniform(aug.freqMask[0], aug.freqMask[1] + 1));
    const f = rng.int(F + 1);
    maskFrequency(x, rng.int(Math.max(1, x.nMels - f)), f);
  }
  if (rng.chance(aug.p)) {
    const T = Math.floor(rng.uniform(aug.timeMask[0], aug.timeMask[1] + 1));
    const t = Math.min(rng.int(T + 1), x.frames);
    maskTime(x, rng.int(Math.max(1, x.frames - t)), t);
  }
  return x;
}

/** One on-the-fly augmented copy (a new array; the input is not touched). */
export function augmentOnline(s: Spectrogram, aug: OnlineAugment, rng: Rng, fmax: number): Spectrogram {
  let x = cloneSpectrogram(s);
  if (aug.study) {
    const semis = rng.chance(aug.study.p) ? drawSemitones(aug.study.pitchSemitones, rng) : 0;
    x = studyOps(x, aug.study, rng, semis, fmax);
  }
  if (aug.speed && rng.chance(aug.speed.p)) {
    const f = rng.uniform(1 - aug.speed.range, 1 + aug.speed.range);
    x = interpolateTime(x, Math.max(1, Math.round(x.frames / f)));
  }
  if (aug.warp && rng.chance(aug.warp.p)) x = warpMel(x, 2 ** (rng.uniform(-aug.warp.semitones, aug.warp.semitones) / 12), 0, fmax);
  if (aug.tilt && rng.chance(aug.tilt.p)) {
    addBandOffsets(x, tiltOffsets(x.nMels, rng.uniform(-aug.tilt.maxDbPerOctave, aug.tilt.maxDbPerOctave), 0, fmax));
  }
  if (aug.eq && rng.chance(aug.eq.p)) {
    const k = Math.max(2, aug.eq.bands);
    const g = Array.from({ length: k }, () => rng.uniform(-aug.eq!.maxDb, aug.eq!.maxDb));
    const off = new Float32Array(x.nMels);
    for (let m = 0; m < x.nMels; m++) {
      const p = (m / Math.max(1, x.nMels - 1)) * (k - 1);
      const i = Math.min(k - 2, Math.floor(p));
      const w = p - i;
      off[m] = (g[i] as number) * (1 - w) + (g[i + 1] as number) * w;
    }
    addBandOffsets(x, off);
  }
  if (aug.gain && rng.chance(aug.gain.p)) {
    const g = rng.uniform(-aug.gain.maxDb, aug.gain.maxDb);
    for (let i = 0; i < x.data.length; i++) x.data[i] = (x.data[i] as number) + g;
  }
  if (aug.noise && rng.chance(aug.noise.p)) addNoiseDb(x, aug.noise.std, rng);
  if (aug.specAugment && rng.chance(aug.specAugment.p)) {
    // masks are set to the utterance mean so they survive normalisation as "nothing here"
    let mean = 0;
    for (let i = 0; i < x.data.length; i++) mean += x.data[i] as number;
    mean /= Math.max(1, x.data.length);
    const sa = aug.specAugment;
    for (let i = 0; i < sa.freqMasks; i++) {
      const f = rng.int(sa.maxFreq + 1);
      maskFrequency(x, rng.int(Math.max(1, x.nMels - f)), f, mean);
    }
    for (let i = 0; i < sa.timeMasks; i++) {
      const t = rng.int(Math.floor(sa.maxTimeFraction * x.frames) + 1);
      maskTime(x, rng.int(Math.max(1, x.frames - t)), t, mean);
    }
  }
  return x;
}

/** A Beta(a, a) sample via two Gamma draws (Marsaglia–Tsang), for mixup. */
export function sampleBeta(a: number, rng: Rng): number {
  const x = sampleGamma(a, rng);
  const y = sampleGamma(a, rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}

function sampleGamma(k: number, rng: Rng): number {
  if (k < 1) return sampleGamma(k + 1, rng) * Math.pow(Math.max(rng.next(), 1e-12), 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(Math.max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** lambda · a + (1 − lambda) · b, with b cropped / zero-padded to a's frame count. */
export function mixSpectrograms(a: Spectrogram, b: Spectrogram, lambda: number): Spectrogram {
  const bb = b.frames === a.frames ? b : padTime(b, a.frames);
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = lambda * (a.data[i] as number) + (1 - lambda) * (bb.data[i] as number);
  return { data: out, nMels: a.nMels, frames: a.frames };
}

