/**
 * Spectral-gating noise reduction reproducing `noisereduce.reduce_noise` (noisereduce 3.0.x,
 * numpy/scipy path) with its defaults — what the seed study ran as
 * `reduce_noise(y=y, sr=sr, y_noise=y[:sr])`.
 *
 * What the library really does with those arguments: `stationary=False`, so `y_noise` is
 * IGNORED. The non-stationary gate, per chunk of the signal (chunk_size 600000 samples, each
 * chunk padded with 30000 samples of its neighbours or zeros on both sides):
 *  1. scipy `stft` (Hann, n_fft 1024, hop 256, zero boundary of n_fft/2, end-padded to whole hops);
 *  2. the magnitude smoothed along time by a zero-phase one-pole low-pass (`filtfilt([b], [1, b-1])`,
 *     time constant 2 s) as the noise floor estimate;
 *  3. mask = sigmoid(10 · ((|X| − floor) / floor − 2));
 *  4. mask smoothed by a normalised triangular 2-D kernel spanning ±500 Hz and ±50 ms (`fftconvolve`, 'same');
 *  5. X · mask back to samples with scipy's `istft` (window-squared normalised overlap-add).
 * The stationary variant (`stationary: true`) thresholds each bin's dB against
 * mean + 1.5·std of the noise clip's dB per frequency (noise clip = `yNoise`, else the signal).
 */
import { SerError } from '../util/errors.js';
import { fftPlan } from '../dsp/fft.js';
import { hannWindow } from '../dsp/window.js';

export interface ReduceNoiseOptions {
  /** false (the library default): non-stationary gate. true: stationary gate from a noise clip. */
  stationary?: boolean;
  /** Noise clip for the stationary gate (ignored by the non-stationary one, as in noisereduce). */
  yNoise?: ArrayLike<number> | null;
  propDecrease?: number;
  timeConstantS?: number;
  freqMaskSmoothHz?: number | null;
  timeMaskSmoothMs?: number | null;
  threshNMultNonstationary?: number;
  sigmoidSlopeNonstationary?: number;
  nStdThreshStationary?: number;
  chunkSize?: number;
  padding?: number;
  nFft?: number;
  /** null means nFft. */
  winLength?: number | null;
  /** null means winLength / 4. */
  hopLength?: number | null;
  clipNoiseStationary?: boolean;
}

interface Resolved {
  sr: number;
  stationary: boolean;
  prop: number;
  timeConstantS: number;
  thresh: number;
  slope: number;
  nStd: number;
  chunkSize: number;
  padding: number;
  nFft: number;
  win: number;
  hop: number;
  window: Float64Array;
  /** Separable smoothing kernels (each normalised), or null when no smoothing. */
  kFreq: Float64Array | null;
  kTime: Float64Array | null;
}

function triangle(g: number): Float64Array {
  // concat(linspace(0,1,g+1,endpoint=False), linspace(1,0,g+2))[1:-1], normalised to sum 1
  const k = new Float64Array(2 * g + 1);
  let s = 0;
  for (let i = 1; i <= g; i++) { k[i - 1] = i / (g + 1); }
  for (let i = 0; i <= g; i++) { k[g + i] = 1 - i / (g + 1); }
  for (let i = 0; i < k.length; i++) s += k[i]!;
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  return k;
}

function resolve(sr: number, o: ReduceNoiseOptions): Resolved {
  if (!(sr > 0)) throw new SerError('audio/bad-param', `reduceNoise: sample rate must be positive, got ${sr}`);
  const nFft = o.nFft ?? 1024;
  const win = o.winLength ?? nFft;
  const hop = o.hopLength ?? Math.floor(win / 4);
  if (win > nFft) throw new SerError('audio/bad-param', `reduceNoise: win_length ${win} exceeds n_fft ${nFft}`);
  if (!(hop >= 1) || hop > win) throw new SerError('audio/bad-param', `reduceNoise: hop_length must be in 1..win_length, got ${hop}`);
  const freqHz = o.freqMaskSmoothHz === undefined ? 500 : o.freqMaskSmoothHz;
  const timeMs = o.timeMaskSmoothMs === undefined ? 50 : o.timeMaskSmoothMs;
  let kFreq: Float64Array | null = null, kTime: Float64Array | null = null;
  if (freqHz !== null || timeMs !== null) {
    let gF = 1, gT = 1;
    if (freqHz !== null) {
      gF = Math.trunc(freqHz / (sr / (nFft / 2)));
      if (gF < 1) throw new SerError('audio/bad-param', `reduceNoise: freqMaskSmoothHz must be at least ${Math.trunc(sr / (nFft / 2))} Hz`);
    }
    if (timeMs !== null) {
      gT = Math.trunc(timeMs / ((hop / sr) * 1000));
      if (gT < 1) throw new SerError('audio/bad-param', `reduceNoise: timeMaskSmoothMs must be at least ${Math.trunc((hop / sr) * 1000)} ms`);
    }
    if (!(gF === 1 && gT === 1)) { kFreq = triangle(gF); kTime = triangle(gT); }
  }
  return {
    sr,
    stationary: o.stationary ?? false,
    prop: o.propDecrease ?? 1,
    timeConstantS: o.timeConstantS ?? 2,
    thresh: o.threshNMultNonstationary ?? 2,
    slope: o.sigmoidSlopeNonstationary ?? 10,
    nStd: o.nStdThreshStationary ?? 1.5,
    chunkSize: o.chunkSize ?? 600000,
    padding: o.padding ?? 30000,
    nFft,
    win,
    hop,
    window: hannWindow(win, true),
    kFreq,
    kTime,
  };
}

/** Number of scipy `stft` segments for `m` samples (boundary='zeros', padded=True). */
export function scipyStftFrames(m: number, win: number, hop: number): number {
  const len = m + 2 * (win >> 1);
  const r = len - win;
  const nadd = ((((-r) % hop) + hop) % hop) % win;
  return (len + nadd - win) / hop + 1;
}

// Scratch buffers reused across calls (grown on demand): the hot path allocates nothing per frame.
let scratchRe = new Float64Array(0);
let scratchIm = new Float64Array(0);
let scratchMag = new Float64Array(0);
let scratchMask = new Float64Array(0);
let scratchTmp = new Float64Array(0);
function ensure(n: number): void {
  if (scratchRe.length < n) {
    scratchRe = new Float64Array(n); scratchIm = new Float64Array(n); scratchMag = new Float64Array(n);
    scratchMask = new Float64Array(n); scratchTmp = new Float64Array(n);
  }
}

/**
 * scipy `stft` of x[0..m) (values outside [lo, hi) are zero) into frame-major re/im/mag
 * (unscaled; scipy's 1/sum(window) 'spectrum' scaling is applied only where it matters).
 * Frames entirely in the zero region are written as zeros without an FFT.
 */
function forwardStft(x: ArrayLike<number>, xOffset: number, lo: number, hi: number, frames: number, r: Resolved, re: Float64Array, im: Float64Array, mag: Float64Array): void {
  const { nFft, win, hop, window } = r;
  const bins = (nFft >> 1) + 1;
  const plan = fftPlan(nFft);
  const buf = new Float64Array(nFft);
  const half = win >> 1;
  for (let t = 0; t < frames; t++) {
    const s = t * hop - half; // chunk coordinate of the segment's first sample
    const o = t * bins;
    if (s + win <= lo || s >= hi) {
      re.fill(0, o, o + bins); im.fill(0, o, o + bins); mag.fill(0, o, o + bins);
      continue;
    }
    const a = Math.max(s, lo), b = Math.min(s + win, hi);
    buf.fill(0);
    for (let j = a; j < b; j++) buf[j - s] = x[j + xOffset]! * window[j - s]!;
    const spec = plan.forward(buf);
    for (let k = 0; k < bins; k++) {
      const pr = spec[2 * k]!, pi = spec[2 * k + 1]!;
      re[o + k] = pr; im[o + k] = pi; mag[o + k] = Math.sqrt(pr * pr + pi * pi);
    }
  }
}

/** Separable 'same' convolution (zero edges) of a frame-major [frames][bins] array, in place. */
function smoothMask(mask: Float64Array, tmp: Float64Array, frames: number, bins: number, kF: Float64Array, kT: Float64Array, t0: number, t1: number): void {
  const hf = (kF.length - 1) >> 1, ht = (kT.length - 1) >> 1;
  // along frequency, rows [max(0,t0-ht), min(frames,t1+ht))
  const ra = Math.max(0, t0 - ht), rb = Math.min(frames, t1 + ht);
  for (let t = ra; t < rb; t++) {
    const o = t * bins;
    for (let k = 0; k < bins; k++) {
      const lo = k - hf < 0 ? hf - k : 0;
      const hi = k + hf >= bins ? hf + (bins - 1 - k) : 2 * hf;
      let acc = 0;
      for (let i = lo; i <= hi; i++) acc += kF[i]! * mask[o + k - hf + i]!;
      tmp[o + k] = acc;
    }
  }
  // along time, output rows [t0, t1)
  for (let t = t0; t < t1; t++) {
    const o = t * bins;
    for (let k = 0; k < bins; k++) mask[o + k] = 0;
    for (let i = 0; i < kT.length; i++) {
      const u = t - ht + i;
      if (u < 0 || u >= frames) continue;
      const w = kT[i]!, uo = u * bins;
      for (let k = 0; k < bins; k++) mask[o + k]! += w * tmp[uo + k]!;
    }
  }
}

/**
 * Filters one padded chunk. `x` holds the real samples; the chunk spans chunk coordinates
 * [0, m) mapped to x[c + xOffset], with only [lo, hi) non-zero. Writes the denoised samples of
 * chunk range [keepA, keepB) to out[outOffset ...].
 */
function filterChunk(x: ArrayLike<number>, xOffset: number, m: number, lo: number, hi: number, keepA: number, keepB: number, r: Resolved, noiseThresh: Float64Array | null, out: Float32Array, outOffset: number): void {
  const { nFft, win, hop, window } = r;
  const bins = (nFft >> 1) + 1;
  const frames = scipyStftFrames(m, win, hop);
  ensure(frames * bins);
  const re = scratchRe, im = scratchIm, mag = scratchMag, mask = scratchMask, tmp = scratchTmp;
  forwardStft(x, xOffset, lo, hi, frames, r, re, im, mag);

  // frames whose output reaches the kept range, and the mask rows they need
  const half = win >> 1;
  const fa = Math.max(0, Math.floor((keepA + half - win) / hop));
  const fb = Math.min(frames, Math.ceil((keepB + half) / hop) + 1);
  const ht = r.kTime ? (r.kTime.length - 1) >> 1 : 0;
  const ma = Math.max(0, fa - ht), mb = Math.min(frames, fb + ht);

  if (!r.stationary) {
    // noise floor: filtfilt([b], [1, b-1]) along time, initial state = first sample (lfilter_zi)
    const tFrames = (r.timeConstantS * r.sr) / hop;
    const b = (Math.sqrt(1 + 4 * tFrames * tFrames) - 1) / (2 * tFrames * tFrames);
    const a = 1 - b;
    const fwd = tmp;
    for (let k = 0; k < bins; k++) fwd[k] = mag[k]!;
    for (let t = 1; t < frames; t++) {
      const o = t * bins, p = o - bins;
      for (let k = 0; k < bins; k++) fwd[o + k] = b * mag[o + k]! + a * fwd[p + k]!;
    }
    // backward pass into `mask` (as the smoothed floor), starting from the last forward value
    const lastO = (frames - 1) * bins;
    for (let k = 0; k < bins; k++) mask[lastO + k] = fwd[lastO + k]!;
    for (let t = frames - 2; t >= 0; t--) {
      const o = t * bins, q = o + bins;
      for (let k = 0; k < bins; k++) mask[o + k] = b * fwd[o + k]! + a * mask[q + k]!;
    }
    // sigmoid mask on the rows needed
    const thr = r.thresh, slope = r.slope;
    for (let i = ma * bins, e = mb * bins; i < e; i++) {
      const floor = mask[i]!;
      // 0/0 (an all-zero bin) is NaN in numpy and would poison the FFT convolution; call it silence.
      const ratio = floor > 0 ? (mag[i]! - floor) / floor : -1;
      mask[i] = 1 / (1 + Math.exp(-(ratio - thr) * slope));
    }
    if (r.kFreq && r.kTime) smoothMask(mask, tmp, frames, bins, r.kFreq, r.kTime, fa, fb);
    if (r.prop !== 1) for (let i = fa * bins, e = fb * bins; i < e; i++) mask[i] = mask[i]! * r.prop + (1 - r.prop);
  } else {
    // stationary: dB of |X|/sum(win) floored per frequency at (row max − 80), compared to the noise threshold
    const scale = 1 / sumOf(window);
    const rowMax = new Float64Array(bins).fill(-Infinity);
    for (let t = 0; t < frames; t++) {
      const o = t * bins;
      for (let k = 0; k < bins; k++) {
        const d = 20 * Math.log10(mag[o + k]! * scale + EPS);
        tmp[o + k] = d;
        if (d > rowMax[k]!) rowMax[k] = d;
      }
    }
    for (let i = ma * bins, e = mb * bins; i < e; i++) {
      const k = i % bins;
      const d = Math.max(tmp[i]!, rowMax[k]! - 80);
      const m0 = d > noiseThresh![k]! ? 1 : 0;
      mask[i] = m0 * r.prop + (1 - r.prop);
    }
    if (r.kFreq && r.kTime) smoothMask(mask, tmp, frames, bins, r.kFreq, r.kTime, fa, fb);
  }

  // inverse: irfft of masked frames, window, overlap-add, divide by the window-squared sum
  const plan = fftPlan(nFft);
  const sa = new Float64Array(2 * nFft), sb = new Float64Array(2 * nFft);
  const xa = new Float64Array(nFft), xb = new Float64Array(nFft);
  const len = keepB - keepA;
  const acc = new Float64Array(len), norm = new Float64Array(len);
  const addFrame = (t: number, seg: Float64Array): void => {
    const s = t * hop - half;
    const a = Math.max(s, keepA), e = Math.min(s + win, keepB);
    for (let j = a; j < e; j++) {
      const w = window[j - s]!;
      acc[j - keepA]! += seg[j - s]! * w;
      norm[j - keepA]! += w * w;
    }
  };
  const load = (t: number, dst: Float64Array): void => {
    const o = t * bins;
    for (let k = 0; k < bins; k++) {
      const mk = mask[o + k]!;
      dst[2 * k] = re[o + k]! * mk;
      dst[2 * k + 1] = im[o + k]! * mk;
    }
  };
  for (let t = fa; t < fb; t += 2) {
    const two = t + 1 < fb;
    load(t, sa);
    if (two) load(t + 1, sb);
    plan.inverse2(sa, two ? sb : null, xa, two ? xb : null);
    addFrame(t, xa);
    if (two) addFrame(t + 1, xb);
  }
  for (let i = 0; i < len; i++) {
    const nv = norm[i]!;
    out[outOffset + i] = nv > 1e-10 ? acc[i]! / nv : acc[i]!;
  }
}

const EPS = 2.220446049250313e-16;

function sumOf(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Per-frequency threshold (mean + nStd·std of the noise clip's floored dB) for the stationary gate. */
function noiseThreshold(noise: ArrayLike<number>, r: Resolved): Float64Array {
  const { nFft, win, hop, window } = r;
  const bins = (nFft >> 1) + 1;
  const m = noise.length;
  if (m === 0) throw new SerError('audio/too-short', 'reduceNoise: the noise clip is empty');
  const frames = scipyStftFrames(m, win, hop);
  const re = new Float64Array(frames * bins), im = new Float64Array(frames * bins), mag = new Float64Array(frames * bins);
  forwardStft(noise, 0, 0, m, frames, r, re, im, mag);
  const scale = 1 / sumOf(window);
  const db = re; // reuse
  const rowMax = new Float64Array(bins).fill(-Infinity);
  for (let i = 0; i < frames * bins; i++) {
    const d = 20 * Math.log10(mag[i]! * scale + EPS);
    db[i] = d;
    if (d > rowMax[i % bins]!) rowMax[i % bins] = d;
  }
  const mean = new Float64Array(bins), sq = new Float64Array(bins);
  for (let t = 0; t < frames; t++) for (let k = 0; k < bins; k++) {
    const d = Math.max(db[t * bins + k]!, rowMax[k]! - 80);
    mean[k]! += d; sq[k]! += d * d;
  }
  const thr = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    const mu = mean[k]! / frames;
    const v = Math.max(0, sq[k]! / frames - mu * mu);
    thr[k] = mu + Math.sqrt(v) * r.nStd;
  }
  return thr;
}

/**
 * `noisereduce.reduce_noise(y, sr, **opts)` for a mono signal: returns a new Float32Array of
 * the same length. Defaults are the library's (non-stationary gate, n_fft 1024, ...).
 */
export function reduceNoise(y: ArrayLike<number>, sr: number, opts: ReduceNoiseOptions = {}): Float32Array {
  const r = resolve(sr, opts);
  const n = y.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  let noiseThresh: Float64Array | null = null;
  if (r.stationary) {
    let noise: ArrayLike<number> = opts.yNoise ?? y;
    if ((opts.clipNoiseStationary ?? true) && noise.length > r.chunkSize) noise = Array.prototype.slice.call(noise, 0, r.chunkSize) as number[];
    noiseThresh = noiseThreshold(noise, r);
  }
  const P = r.padding, C = r.chunkSize;
  if (n <= C) {
    // one chunk: [−P, n+P) in signal coordinates
    filterChunk(y, -P, n + 2 * P, P, P + n, P, P + n, r, noiseThresh, out, 0);
    return out;
  }
  const nChunks = Math.ceil(n / C);
  for (let c = 0; c < nChunks; c++) {
    const start = c * C;
    const i1 = start - P; // chunk coordinate 0 ↔ signal index i1
    const m = C + 2 * P;
    const lo = Math.max(0, -i1), hi = Math.min(m, n - i1);
    const keepB = Math.min(n, start + C) - i1;
    filterChunk(y, i1, m, lo, hi, P, keepB, r, noiseThresh, out, start);
  }
  return out;
}
