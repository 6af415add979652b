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
  /** Mask smoothing: triangular kernel half-widths in bins / frames; smooth=false when none. */
  smooth: boolean;
  gF: number;
  gT: number;
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
  let smooth = false, gF = 1, gT = 1;
  if (freqHz !== null || timeMs !== null) {
    if (freqHz !== null) {
      gF = Math.trunc(freqHz / (sr / (nFft / 2)));
      if (gF < 1) throw new SerError('audio/bad-param', `reduceNoise: freqMaskSmoothHz must be at least ${Math.trunc(sr / (nFft / 2))} Hz`);
    }
    if (timeMs !== null) {
      gT = Math.trunc(timeMs / ((hop / sr) * 1000));
      if (gT < 1) throw new SerError('audio/bad-param', `reduceNoise: timeMaskSmoothMs must be at least ${Math.trunc((hop / sr) * 1000)} ms`);
    }
    smooth = !(gF === 1 && gT === 1);
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
    smooth,
    gF,
    gT,
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
// Scratch buffers reused across calls (grown on demand), float32 like noisereduce's complex64
// STFT: the hot path allocates nothing and moves half the bytes.
let scratchRe = new Float32Array(0);
let scratchIm = new Float32Array(0);
let scratchMag = new Float32Array(0);
let scratchMask = new Float32Array(0);
let scratchTmp = new Float32Array(0);
let scratchBox = new Float32Array(0);
let scratchRow = new Float64Array(0);
let scratchRow2 = new Float64Array(0);
function ensure(n: number, boxN: number, bins: number): void {
  if (scratchRe.length < n) {
    scratchRe = new Float32Array(n); scratchIm = new Float32Array(n); scratchMag = new Float32Array(n);
    scratchMask = new Float32Array(n); scratchTmp = new Float32Array(n);
  }
  if (scratchBox.length < boxN) scratchBox = new Float32Array(boxN);
  if (scratchRow.length < 2 * bins + 64) { scratchRow = new Float64Array(2 * bins + 64); scratchRow2 = new Float64Array(2 * bins + 64); }
}

/**
 * scipy `stft` of x[0..m) (values outside [lo, hi) are zero) into frame-major re/im/mag
 * (unscaled; scipy's 1/sum(window) 'spectrum' scaling is applied only where it matters).
 * Frames entirely in the zero region are written as zeros without an FFT. When `fwd` is
 * given, also runs the forward pass of the noise-floor filter (see `noiseFloor`) on the fly.
 */
function forwardStft(x: Float32Array, xOffset: number, lo: number, hi: number, frames: number, r: Resolved, re: Float32Array, im: Float32Array, mag: Float32Array, fwd: Float32Array | null, b: number): void {
  const { nFft, win, hop, window } = r;
  const bins = (nFft >> 1) + 1;
  const plan = fftPlan(nFft);
  const buf = frameScratch(nFft);
  const half = win >> 1;
  const a1 = 1 - b;
  for (let t = 0; t < frames; t++) {
    const s = t * hop - half; // chunk coordinate of the segment's first sample
    const o = t * bins;
    if (s + win <= lo || s >= hi) {
      re.fill(0, o, o + bins); im.fill(0, o, o + bins); mag.fill(0, o, o + bins);
      if (fwd) {
        if (t === 0) fwd.fill(0, 0, bins);
        else for (let k = 0; k < bins; k++) fwd[o + k] = a1 * fwd[o - bins + k]!;
      }
      continue;
    }
    const a = Math.max(s, lo), e = Math.min(s + win, hi);
    if (a > s || e < s + win) buf.fill(0);
    for (let j = a; j < e; j++) buf[j - s] = x[j + xOffset]! * window[j - s]!;
    const spec = plan.forward(buf);
    if (fwd && t > 0) {
      for (let k = 0; k < bins; k++) {
        const pr = spec[2 * k]!, pi = spec[2 * k + 1]!;
        re[o + k] = pr; im[o + k] = pi;
        const mg = Math.fround(Math.sqrt(pr * pr + pi * pi));
        mag[o + k] = mg;
        fwd[o + k] = b * mg + a1 * fwd[o - bins + k]!;
      }
    } else {
      for (let k = 0; k < bins; k++) {
        const pr = spec[2 * k]!, pi = spec[2 * k + 1]!;
        re[o + k] = pr; im[o + k] = pi; mag[o + k] = Math.sqrt(pr * pr + pi * pi);
      }
      if (fwd) for (let k = 0; k < bins; k++) fwd[k] = mag[k]!;
    }
  }
}

let frameBuf = new Float64Array(0);
function frameScratch(n: number): Float64Array { if (frameBuf.length !== n) frameBuf = new Float64Array(n); return frameBuf; }

/**
 * noisereduce smooths the mask with a normalised triangular 2-D kernel (half-widths gF bins,
 * gT frames) by `fftconvolve(..., mode='same')` (zero edges). The kernel is separable, and a
 * triangle of width 2g+1 is two boxcars of width g+1 convolved (B[j] = Σ x[j−g..j],
 * y[k] = Σ B[k..k+g]), so each axis costs two running sums per cell whatever the width.
 */
function smoothRowFreq(row: Float64Array, box: Float64Array, bins: number, gF: number, out: Float32Array, o: number): void {
  const lf = gF + 1;
  const norm = 1 / (lf * lf);
  let run = 0;
  for (let j = 0; j < bins + gF; j++) {
    if (j < bins) run += row[j]!;
    if (j >= lf) run -= row[j - lf]!;
    box[j] = run;
  }
  run = 0;
  for (let j = 0; j < gF; j++) run += box[j]!;
  for (let k = 0; k < bins; k++) {
    run += box[k + gF]!;
    out[o + k] = run * norm;
    run -= box[k]!;
  }
}

/**
 * The time axis of the mask smoothing (see `smoothRowFreq`): `src` rows [ra, rb) (others count
 * as zero) → `dst` rows [t0, t1), with `box` as scratch for (t1 + gT − t0 + 1) rows.
 */
function smoothTime(src: Float32Array, dst: Float32Array, box: Float32Array, bins: number, gT: number, ra: number, rb: number, t0: number, t1: number): void {
  const lt = gT + 1;
  const normT = 1 / (lt * lt);
  const acc = scratchRow2;
  acc.fill(0, 0, bins);
  for (let v = ra; v < t0; v++) { const vo = v * bins; for (let k = 0; k < bins; k++) acc[k]! += src[vo + k]!; }
  for (let u = t0; u < t1 + gT; u++) {
    const bo = (u - t0) * bins;
    const d = u - lt;
    const addRow = u < rb, subRow = d >= ra && d < rb;
    const uo = u * bins, dO = d * bins;
    if (addRow && subRow) for (let k = 0; k < bins; k++) { const v = acc[k]! + src[uo + k]! - src[dO + k]!; acc[k] = v; box[bo + k] = v; }
    else if (addRow) for (let k = 0; k < bins; k++) { const v = acc[k]! + src[uo + k]!; acc[k] = v; box[bo + k] = v; }
    else if (subRow) for (let k = 0; k < bins; k++) { const v = acc[k]! - src[dO + k]!; acc[k] = v; box[bo + k] = v; }
    else for (let k = 0; k < bins; k++) box[bo + k] = acc[k]!;
  }
  acc.fill(0, 0, bins);
  for (let u = t0; u < t0 + gT; u++) { const bo = (u - t0) * bins; for (let k = 0; k < bins; k++) acc[k]! += box[bo + k]!; }
  for (let t = t0; t < t1; t++) {
    const ao = (t + gT - t0) * bins, so = (t - t0) * bins, mo = t * bins;
    for (let k = 0; k < bins; k++) {
      const v = acc[k]! + box[ao + k]!;
      dst[mo + k] = v * normT;
      acc[k] = v - box[so + k]!;
    }
  }
}

/** Both axes of the mask smoothing for output rows [t0, t1): mask → tmp (freq) → mask (time). */
function smoothMask(mask: Float32Array, tmp: Float32Array, box: Float32Array, frames: number, bins: number, gF: number, gT: number, t0: number, t1: number): void {
  const ra = Math.max(0, t0 - gT), rb = Math.min(frames, t1 + gT);
  const row = scratchRow;
  const rowBox = scratchRow2;
  for (let t = ra; t < rb; t++) {
    const o = t * bins;
    for (let k = 0; k < bins; k++) row[k] = mask[o + k]!;
    smoothRowFreq(row, rowBox, bins, gF, tmp, o);
  }
  smoothTime(tmp, mask, box, bins, gT, ra, rb, t0, t1);
}

const LOG2E = 1.4426950408889634, LN2_HI = 0.6931471803691238, LN2_LO = 1.9082149292705877e-10;
/** Powers of two 2^(i − 1100) for the exponent of `expNeg` (covers the whole double range). */
const POW2 = Float64Array.from({ length: 2200 }, (_, i) => Math.pow(2, i - 1100));

/**
 * e^(−a) (here a > −(1 + thresh)·slope and a ≤ 37; Math.exp outside ±700): range reduction
 * to r ∈ [−ln2/2, ln2/2] and a degree-6 Taylor polynomial, relative error < 2e-7 — the
 * float32 precision noisereduce itself computes in — and several times faster than Math.exp, which
 * V8 calls out of line for each of the ~300 000 cells of a typical file.
 */
function expNeg(a: number): number {
  const v = -a;
  if (!(v > -700 && v < 700)) return Math.exp(v);
  const k = Math.round(v * LOG2E);
  const r = v - k * LN2_HI - k * LN2_LO;
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720))))));
  return p * POW2[k + 1100]!;
}

/**
 * The non-stationary mask, backward half: the noise floor is scipy's
 * `filtfilt([b], [1, b-1], |X|, padtype=None)` along time (lfilter_zi makes each pass start at
 * its first input); `fwd` already holds the forward pass. Sweeping rows from the last down to
 * `ma`, each row's floor gives mask = sigmoid(slope · ((|X| − floor)/floor − thresh)) for rows
 * in [ma, mb), frequency-smoothed into `out` (or copied when there is no smoothing).
 */
function backwardMask(mag: Float32Array, fwd: Float32Array, out: Float32Array, frames: number, bins: number, b: number, thresh: number, slope: number, ma: number, mb: number, gF: number, smooth: boolean): void {
  const a1 = 1 - b;
  const floor = scratchRow, row = scratchRow.subarray(bins, 2 * bins), box = scratchRow2;
  const lastO = (frames - 1) * bins;
  for (let k = 0; k < bins; k++) floor[k] = fwd[lastO + k]!;
  for (let t = frames - 1; t >= ma; t--) {
    const o = t * bins;
    if (t < frames - 1) for (let k = 0; k < bins; k++) floor[k] = b * fwd[o + k]! + a1 * floor[k]!;
    if (t >= mb) continue;
    for (let k = 0; k < bins; k++) {
      const f = Math.fround(floor[k]!);
      // 0/0 (an all-zero bin) is NaN in numpy and would poison the FFT convolution; call it silence.
      const ratio = f > 0 ? (mag[o + k]! - f) / f : -1;
      const arg = (ratio - thresh) * slope;
      // 1 / (1 + e^-arg) is exactly 1.0 in double once e^-arg < 2^-53 (arg > 36.8)
      row[k] = arg > 37 ? 1 : 1 / (1 + expNeg(arg));
    }
    if (smooth) smoothRowFreq(row, box, bins, gF, out, o);
    else for (let k = 0; k < bins; k++) out[o + k] = row[k]!;
  }
}

/**
 * Filters one padded chunk. `x` holds the real samples; the chunk spans chunk coordinates
 * [0, m) mapped to x[c + xOffset], with only [lo, hi) non-zero. Writes the denoised samples of
 * chunk range [keepA, keepB) to out[outOffset ...].
 */
function filterChunk(x: Float32Array, xOffset: number, m: number, lo: number, hi: number, keepA: number, keepB: number, r: Resolved, noiseThresh: Float64Array | null, out: Float32Array, outOffset: number): void {
  const { nFft, win, hop, window } = r;
  const bins = (nFft >> 1) + 1;
  const frames = scipyStftFrames(m, win, hop);
  const gT = r.gT, gF = r.gF;
  ensure(frames * bins, (frames + 2 * gT + 2) * bins + 2 * gF + 2, bins + 2 * gF + 2);
  const re = scratchRe, im = scratchIm, mag = scratchMag, mask = scratchMask, tmp = scratchTmp;
  const tFrames = (r.timeConstantS * r.sr) / hop;
  const bCoef = (Math.sqrt(1 + 4 * tFrames * tFrames) - 1) / (2 * tFrames * tFrames);
  forwardStft(x, xOffset, lo, hi, frames, r, re, im, mag, r.stationary ? null : tmp, bCoef);

  // frames whose output reaches the kept range, and the mask rows they need
  const half = win >> 1;
  const fa = Math.max(0, Math.floor((keepA + half - win) / hop));
  const fb = Math.min(frames, Math.ceil((keepB + half) / hop) + 1);
  const ht = r.smooth ? gT : 0;
  const ma = Math.max(0, fa - ht), mb = Math.min(frames, fb + ht);

  if (!r.stationary) {
    // tmp holds the forward filter pass; mask rows [ma, mb) ← frequency-smoothed sigmoid mask
    // (in place: each row's forward value is read before the row is overwritten)
    backwardMask(mag, tmp, tmp, frames, bins, bCoef, r.thresh, r.slope, ma, mb, gF, r.smooth);
    if (r.smooth) smoothTime(tmp, mask, scratchBox, bins, gT, ma, mb, fa, fb);
    else mask.set(tmp.subarray(fa * bins, fb * bins), fa * bins);
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
    if (r.smooth) smoothMask(mask, tmp, scratchBox, frames, bins, gF, gT, fa, fb);
  }

  inverseOverlapAdd(re, im, mask, bins, fa, fb, r, keepA, keepB, m, out, outOffset);
}

/**
 * scipy `istft` restricted to output samples [keepA, keepB) of the chunk: irfft of the masked
 * frames [fa, fb), window, overlap-add, divide by the window-squared sum where it exceeds
 * 1e-10. Two real frames go through one complex inverse FFT (Z = A + iB, A and B Hermitian →
 * real part frame t, imaginary part frame t+1), with the mask applied while packing.
 */
function inverseOverlapAdd(re: Float32Array, im: Float32Array, mask: Float32Array, bins: number, fa: number, fb: number, r: Resolved, keepA: number, keepB: number, m: number, out: Float32Array, outOffset: number): void {
  const { nFft, win, hop, window } = r;
  const half = win >> 1;
  const n = nFft, nh = nFft >> 1;
  const plan = fftPlan(nFft);
  const { z, acc, norm } = inverseScratch(nFft, keepB - keepA);
  const len = keepB - keepA;
  acc.fill(0, 0, len);
  // with at least a window of padding on both sides every kept sample is covered by all its
  // frames, so the window-squared sum is periodic in the hop: precompute it
  const periodic = keepA >= win && m - keepB >= win;
  if (!periodic) norm.fill(0, 0, len);
  for (let t = fa; t < fb; t += 2) {
    const two = t + 1 < fb;
    const oa = t * bins, ob = oa + bins;
    // Z[k] = A[k] + i B[k] for k in 0..n/2, Z[n-k] = conj(A[k]) + i conj(B[k])
    if (two) {
      z[0] = re[oa]! * mask[oa]!; z[1] = re[ob]! * mask[ob]!;
      z[n] = re[oa + nh]! * mask[oa + nh]!; z[n + 1] = re[ob + nh]! * mask[ob + nh]!;
      for (let k = 1; k < nh; k++) {
        const ma = mask[oa + k]!, mb = mask[ob + k]!;
        const ar = re[oa + k]! * ma, ai = im[oa + k]! * ma, br = re[ob + k]! * mb, bi = im[ob + k]! * mb;
        z[2 * k] = ar - bi; z[2 * k + 1] = ai + br;
        const q = 2 * (n - k);
        z[q] = ar + bi; z[q + 1] = br - ai;
      }
    } else {
      z[0] = re[oa]! * mask[oa]!; z[1] = 0;
      z[n] = re[oa + nh]! * mask[oa + nh]!; z[n + 1] = 0;
      for (let k = 1; k < nh; k++) {
        const ma = mask[oa + k]!;
        const ar = re[oa + k]! * ma, ai = im[oa + k]! * ma;
        z[2 * k] = ar; z[2 * k + 1] = ai;
        const q = 2 * (n - k);
        z[q] = ar; z[q + 1] = -ai;
      }
    }
    const x = plan.complexInverse(z);
    for (let f = 0; f < (two ? 2 : 1); f++) {
      const s = (t + f) * hop - half;
      const a = Math.max(s, keepA), e = Math.min(s + win, keepB);
      const base = a - keepA, w0 = a - s;
      if (periodic) {
        for (let j = 0, c = e - a; j < c; j++) acc[base + j]! += x[2 * (w0 + j) + f]! * window[w0 + j]!;
      } else {
        for (let j = 0, c = e - a; j < c; j++) { const w = window[w0 + j]!; acc[base + j]! += x[2 * (w0 + j) + f]! * w; norm[base + j]! += w * w; }
      }
    }
  }
  if (periodic) {
    // norm at chunk position p: Σ_j w[(p + half) mod hop + j·hop]²
    const invP = new Float64Array(hop);
    for (let q = 0; q < hop; q++) { let sN = 0; for (let i = q; i < win; i += hop) sN += window[i]! * window[i]!; invP[q] = sN > 1e-10 ? 1 / sN : 1; }
    let q = (keepA + half) % hop;
    for (let i = 0; i < len; i++) {
      out[outOffset + i] = acc[i]! * invP[q]!;
      if (++q === hop) q = 0;
    }
  } else {
    for (let i = 0; i < len; i++) {
      const nv = norm[i]!;
      out[outOffset + i] = nv > 1e-10 ? acc[i]! / nv : acc[i]!;
    }
  }
}

let invBufs: { n: number; len: number; z: Float64Array; acc: Float64Array; norm: Float64Array } | null = null;
function inverseScratch(n: number, len: number) {
  if (!invBufs || invBufs.n !== n || invBufs.len < len) {
    invBufs = { n, len: Math.max(len, invBufs?.len ?? 0), z: new Float64Array(2 * n), acc: new Float64Array(len), norm: new Float64Array(len) };
    if (invBufs.acc.length < invBufs.len) { invBufs.acc = new Float64Array(invBufs.len); invBufs.norm = new Float64Array(invBufs.len); }
  }
  return invBufs;
}

const EPS = 2.220446049250313e-16;

function sumOf(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Per-frequency threshold (mean + nStd·std of the noise clip's floored dB) for the stationary gate. */
function noiseThreshold(noise: Float32Array, r: Resolved): Float64Array {
  const { nFft, win, hop, window } = r;
  const bins = (nFft >> 1) + 1;
  const m = noise.length;
  if (m === 0) throw new SerError('audio/too-short', 'reduceNoise: the noise clip is empty');
  const frames = scipyStftFrames(m, win, hop);
  const re = new Float32Array(frames * bins), im = new Float32Array(frames * bins), mag = new Float32Array(frames * bins);
  forwardStft(noise, 0, 0, m, frames, r, re, im, mag, null, 0);
  const scale = 1 / sumOf(window);
  const db = new Float64Array(frames * bins);
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
export function reduceNoise(input: ArrayLike<number>, sr: number, opts: ReduceNoiseOptions = {}): Float32Array {
  const r = resolve(sr, opts);
  const y = input instanceof Float32Array ? input : Float32Array.from(input);
  const n = y.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  let noiseThresh: Float64Array | null = null;
  if (r.stationary) {
    const given = opts.yNoise ?? y;
    let noise = given instanceof Float32Array ? given : Float32Array.from(given);
    if ((opts.clipNoiseStationary ?? true) && noise.length > r.chunkSize) noise = noise.subarray(0, r.chunkSize);
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
