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
import { realFft } from '../dsp/rfft.js';
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
 * Frames entirely in the zero region get a zero magnitude without an FFT (their re/im are
 * left stale: no kept output sample depends on them). When `fwd` is
 * given, also runs the forward pass of the noise-floor filter (see `noiseFloor`) on the fly.
 */
function forwardStft(x: Float32Array, xOffset: number, lo: number, hi: number, frames: number, r: Resolved, re: Float32Array, im: Float32Array, mag: Float32Array, fwd: Float32Array | null, b: number): void {
  const { nFft, win, hop } = r;
  const bins = (nFft >> 1) + 1;
  const fft = realFft(nFft);
  const window = paddedWindow(r);
  const half = win >> 1;
  const a1 = 1 - b;
  const sr = fft.outRe, si = fft.outIm;
  for (let t = 0; t < frames; t++) {
    const s = t * hop - half; // chunk coordinate of the segment's first sample
    const o = t * bins;
    if (s + win <= lo || s >= hi) {
      // an all-zero frame: its re/im are never read (the inverse only runs over frames that
      // reach the kept range, which all touch [lo, hi)); the mask rows may read its magnitude
      mag.fill(0, o, o + bins);
      if (fwd) {
        if (s + win <= lo) fwd.fill(0, o, o + bins); // leading zeros: the filter state is still 0
        else for (let k = 0; k < bins; k++) fwd[o + k] = a1 * fwd[o - bins + k]!;
      }
      continue;
    }
    fft.forwardWindowed(x, s + xOffset, window, lo + xOffset, Math.min(hi, s + win) + xOffset, bins);
    if (fwd && t > 0) {
      for (let k = 0; k < bins; k++) {
        const pr = sr[k]!, pi = si[k]!;
        re[o + k] = pr; im[o + k] = pi;
        const mg = Math.fround(Math.sqrt(pr * pr + pi * pi));
        mag[o + k] = mg;
        fwd[o + k] = b * mg + a1 * fwd[o - bins + k]!;
      }
    } else {
      for (let k = 0; k < bins; k++) {
        const pr = sr[k]!, pi = si[k]!;
        re[o + k] = pr; im[o + k] = pi; mag[o + k] = Math.sqrt(pr * pr + pi * pi);
      }
      if (fwd) for (let k = 0; k < bins; k++) fwd[k] = mag[k]!;
    }
  }
}

/** The analysis window zero-padded at the end to nFft (scipy pads short segments that way). */
function paddedWindow(r: Resolved): Float64Array {
  if (r.window.length === r.nFft) return r.window;
  const w = new Float64Array(r.nFft);
  w.set(r.window);
  return w;
}


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

const EXP_K = 32 / Math.LN2, EXP_HI = Math.LN2 / 32;
/** Powers of two 2^(i − 1100) for the exponent of `expNeg` (covers the whole double range). */
const POW2 = Float64Array.from({ length: 2200 }, (_, i) => Math.pow(2, i - 1100));
/** 2^(j/32), j in [0, 32). */
const POW2_32 = Float64Array.from({ length: 32 }, (_, j) => Math.pow(2, j / 32));

/**
 * e^(−a): range reduction to e^r · 2^(n/32) with |r| ≤ ln2/64 (two small tables) and a cubic
 * for e^r, relative error < 6e-10 — far below the float32 precision noisereduce itself
 * computes in — and several times faster than Math.exp, which V8 calls out of line for each
 * of the ~300 000 cells of a typical file. Math.exp outside ±700.
 */
function expNeg(a: number): number {
  const v = -a;
  if (!(v > -700 && v < 700)) return Math.exp(v);
  const n = Math.floor(v * EXP_K + 0.5);
  const r = v - n * EXP_HI;
  return POW2[(n >> 5) + 1100]! * POW2_32[n & 31]! * (1 + r * (1 + r * (0.5 + r * (1 / 6))));
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
    if (t >= mb) {
      if (t < frames - 1) for (let k = 0; k < bins; k++) floor[k] = b * fwd[o + k]! + a1 * floor[k]!;
      continue;
    }
    const upd = t < frames - 1;
    // sigmoid mask and, when smoothing, both running sums of `smoothRowFreq` in the same pass
    // (same additions in the same order, so the same values): run1 = boxcar of the row,
    // run2 = boxcar of run1, output k complete once j = k + gF
    const lf = gF + 1, norm = 1 / (lf * lf);
    let run1 = 0, run2 = 0;
    for (let k = 0; k < bins; k++) {
      let fl = floor[k]!;
      if (upd) { fl = b * fwd[o + k]! + a1 * fl; floor[k] = fl; }
      const f = Math.fround(fl);
      // 0/0 (an all-zero bin) is NaN in numpy and would poison the FFT convolution; call it silence.
      const ratio = f > 0 ? (mag[o + k]! - f) / f : -1;
      const arg = (ratio - thresh) * slope;
      // 1 / (1 + e^-arg) is exactly 1.0 in double once e^-arg < 2^-53 (arg > 36.8)
      const v = arg > 37 ? 1 : 1 / (1 + expNeg(arg));
      row[k] = v;
      if (smooth) {
        run1 += v;
        if (k >= lf) { run1 -= row[k - lf]!; run2 -= box[k - lf]!; }
        box[k] = run1;
        run2 += run1;
        if (k >= gF) out[o + k - gF] = run2 * norm;
      }
    }
    if (smooth) {
      for (let j = bins; j < bins + gF; j++) {
        if (j >= lf) { run1 -= row[j - lf]!; run2 -= box[j - lf]!; }
        box[j] = run1;
        run2 += run1;
        if (j >= gF) out[o + j - gF] = run2 * norm;
      }
    } else for (let k = 0; k < bins; k++) out[o + k] = row[k]!;
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
 * 1e-10. Each frame is one half-size complex FFT (dsp/rfft.ts), the mask applied while
 * packing its input.
 */
function inverseOverlapAdd(re: Float32Array, im: Float32Array, mask: Float32Array, bins: number, fa: number, fb: number, r: Resolved, keepA: number, keepB: number, m: number, out: Float32Array, outOffset: number): void {
  const { nFft, win, hop, window } = r;
  const half = win >> 1;
  const fft = realFft(nFft);
  const { acc, norm } = inverseScratch(nFft, keepB - keepA);
  const len = keepB - keepA;
  acc.fill(0, 0, len);
  // with at least a window of padding on both sides every kept sample is covered by all its
  // frames, so the window-squared sum is periodic in the hop: fold its inverse (and the FFT's
  // 1/(N/2) scale and the sign of the odd samples) into the synthesis window
  const periodic = keepA >= win && m - keepB >= win;
  if (periodic) {
    const wsc = synthesisWindow(r);
    const zr = fft.rawRe, zi = fft.rawIm;
    for (let t = fa; t < fb; t++) {
      const o = t * bins;
      const s = t * hop - half;
      const a = Math.max(s, keepA), e = Math.min(s + win, keepB);
      if (e <= a) continue; // fa is rounded down: this frame ends before the kept range
      fft.inverseRaw(re, im, o, mask, o);
      const base = s - keepA; // acc index of window sample 0
      if (a === s && e === s + win && (win & 1) === 0) {
        for (let j = 0, h = win >> 1; j < h; j++) {
          const i = 2 * j;
          acc[base + i]! += zr[j]! * wsc[i]!;
          acc[base + i + 1]! += zi[j]! * wsc[i + 1]!;
        }
      } else {
        for (let i = a - s; i < e - s; i++) acc[base + i]! += ((i & 1) === 0 ? zr[i >> 1]! : zi[i >> 1]!) * wsc[i]!;
      }
    }
    out.set(acc.subarray(0, len), outOffset); // native float64 → float32 conversion
    return;
  }
  norm.fill(0, 0, len);
  for (let t = fa; t < fb; t++) {
    const o = t * bins;
    const s = t * hop - half;
    const a = Math.max(s, keepA), e = Math.min(s + win, keepB);
    if (e <= a) continue;
    const x = fft.inverse(re, im, o, mask, o);
    const base = a - keepA, w0 = a - s;
    for (let j = 0, c = e - a; j < c; j++) { const w = window[w0 + j]!; acc[base + j]! += x[w0 + j]! * w; norm[base + j]! += w * w; }
  }
  for (let i = 0; i < len; i++) {
    const nv = norm[i]!;
    out[outOffset + i] = nv > 1e-10 ? acc[i]! / nv : acc[i]!;
  }
}

const synthCache = new Map<string, Float64Array>();
/**
 * window[i] / Σ_j window[(i mod hop) + j·hop]² / (nFft/2), negated at odd i: the overlap-add
 * weight of `RealFft.inverseRaw`'s packed output when every sample is covered by all its frames.
 */
function synthesisWindow(r: Resolved): Float64Array {
  const key = `${r.nFft}/${r.win}/${r.hop}`;
  let w = synthCache.get(key);
  if (!w) {
    const { win, hop, window } = r;
    const invP = new Float64Array(hop);
    for (let q = 0; q < hop; q++) { let sN = 0; for (let i = q; i < win; i += hop) sN += window[i]! * window[i]!; invP[q] = sN > 1e-10 ? 1 / sN : 1; }
    w = new Float64Array(win);
    const scale = 2 / r.nFft;
    for (let i = 0; i < win; i++) w[i] = window[i]! * invP[i % hop]! * scale * ((i & 1) === 0 ? 1 : -1);
    synthCache.set(key, w);
  }
  return w;
}

let invBufs: { n: number; len: number; acc: Float64Array; norm: Float64Array } | null = null;
function inverseScratch(n: number, len: number) {
  if (!invBufs || invBufs.n !== n || invBufs.len < len) {
    invBufs = { n, len: Math.max(len, invBufs?.len ?? 0), acc: new Float64Array(len), norm: new Float64Array(len) };
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
 * the same length (or fills and returns `into`, which must have that length and not overlap
 * the input). Defaults are the library's (non-stationary gate, n_fft 1024, ...).
 */
export function reduceNoise(input: ArrayLike<number>, sr: number, opts: ReduceNoiseOptions = {}, into: Float32Array | null = null): Float32Array {
  const r = resolve(sr, opts);
  const y = input instanceof Float32Array ? input : Float32Array.from(input);
  const n = y.length;
  if (into && into.length !== n) throw new SerError('audio/bad-param', `reduceNoise: output buffer holds ${into.length} samples, the signal has ${n}`);
  if (into && into.buffer === y.buffer) throw new SerError('audio/bad-param', 'reduceNoise: the output buffer must not share memory with the input');
  // a fresh multi-megabyte array costs page faults on first touch; callers in a loop pass `into`
  const out = into ?? new Float32Array(n);
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
