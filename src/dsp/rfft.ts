/**
 * The project's one real FFT, hand-written for the feature hot loops (log-mel STFT, the noise gate's
 * STFT and ISTFT, pitch) and used everywhere else too (`rfft` / `irfft` below, `istft`). Why not fft.js: its `realTransform` still runs a full-size radix-4 pass structure
 * with interleaved buffers and cannot stop at the bins a mel filterbank uses. Here a real
 * transform of size N is one complex FFT of size N/2 on the even/odd samples packed as
 * re/im (the usual half-size packing), radix-4 decimation in time on split re/im
 * Float64Arrays with per-stage twiddle tables, the bit-reversal permutation fused with the
 * windowing of the frame, and the split into the real spectrum computed only for the bins
 * asked for. Measured (CPU time, 2026-11-24, shared machine, provisional): a windowed 2048-point
 * frame to 372 bins 18–22 µs (fft.js) → 13 µs; 1024 points, all bins 9.7 µs → 5.5–6 µs; plain
 * log-mel 7.3 → 5.7 ms per AESDD file from this change alone (BENCHMARKS.md "Features"). Re-measured
 * against fft.js 4.0.4 before it was dropped (2026-12-02, CPU time, load ≈ 9, a throwaway probe): windowed
 * 2048-point frame to 372 bins 34–35 µs (fft.js) → 16–22 µs; plain transforms and inverses within ±15 %.
 *
 * Conventions are numpy's: forward is unnormalised with e^{−2πikn/N}; the inverse is
 * `irfft` (scaled by 1/N, imaginary parts of DC and Nyquist ignored).
 */
import { SerError } from '../util/errors.js';

/** A real FFT of one size with its own buffers (no allocation per transform). */
export class RealFft {
  /** Transform size N (a power of two, at least 4). */
  readonly size: number;
  /** Non-redundant bins: N/2 + 1. */
  readonly bins: number;
  /** Forward output: real parts of bins [0, maxBins) of the last `forward*` call. */
  readonly outRe: Float64Array;
  /** Forward output: imaginary parts (see `outRe`). */
  readonly outIm: Float64Array;
  /** Inverse output: the N real samples of the last `inverse*` call. */
  readonly time: Float64Array;
  private readonly m: number;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;
  private readonly rev: Int32Array;
  /** e^{−2πik/N} for k in [0, N/2]. */
  private readonly wr: Float64Array;
  private readonly wi: Float64Array;
  /** Radix-4 stages: span L and twiddles [w1r, w1i, w2r, w2i, w3r, w3i] per k < L/4. */
  private readonly stages: Array<{ span: number; tw: Float64Array }>;
  private readonly radix2First: boolean;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new SerError('dsp/bad-fft-size', `FFT size must be a power of two >= 4, got ${size}`);
    }
    this.size = size;
    this.bins = (size >> 1) + 1;
    const m = size >> 1;
    this.m = m;
    this.zr = new Float64Array(m);
    this.zi = new Float64Array(m);
    this.outRe = new Float64Array(this.bins);
    this.outIm = new Float64Array(this.bins);
    this.time = new Float64Array(size);
    const bits = Math.round(Math.log2(m));
    this.rev = new Int32Array(m);
    for (let j = 0; j < m; j++) {
      let r = 0;
      for (let b = 0; b < bits; b++) if (j & (1 << b)) r |= 1 << (bits - 1 - b);
      this.rev[j] = r;
    }
    this.wr = new Float64Array(m + 1);
    this.wi = new Float64Array(m + 1);
    for (let k = 0; k <= m; k++) {
      this.wr[k] = Math.cos((2 * Math.PI * k) / size);
      this.wi[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    this.radix2First = bits % 2 === 1;
    this.stages = [];
    for (let span = this.radix2First ? 8 : 16; span <= m; span *= 4) {
      const q = span >> 2;
      const tw = new Float64Array(6 * q);
      for (let k = 0; k < q; k++) {
        for (let p = 1; p <= 3; p++) {
          const a = (2 * Math.PI * p * k) / span;
          tw[6 * k + 2 * (p - 1)] = Math.cos(a);
          tw[6 * k + 2 * (p - 1) + 1] = -Math.sin(a);
        }
      }
      this.stages.push({ span, tw });
    }
  }

  /** In-place complex FFT (forward sign) of the bit-reversed zr/zi into natural order. */
  private transform(firstDone = false): void {
    const re = this.zr, im = this.zi, m = this.m;
    if (firstDone) {
      // the first stage was fused into the load
    } else if (this.radix2First) {
      for (let i = 0; i < m; i += 2) {
        const ar = re[i]!, ai = im[i]!, br = re[i + 1]!, bi = im[i + 1]!;
        re[i] = ar + br; im[i] = ai + bi; re[i + 1] = ar - br; im[i + 1] = ai - bi;
      }
    } else if (m >= 4) {
      // span-4 radix-4 stage: no twiddles. Bit-reversed blocks hold residues 0, 2, 1, 3.
      for (let i = 0; i < m; i += 4) {
        const a0r = re[i]!, a0i = im[i]!, a2r = re[i + 1]!, a2i = im[i + 1]!;
        const a1r = re[i + 2]!, a1i = im[i + 2]!, a3r = re[i + 3]!, a3i = im[i + 3]!;
        const t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i;
        const t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i;
        re[i] = t0r + t2r; im[i] = t0i + t2i;
        re[i + 2] = t0r - t2r; im[i + 2] = t0i - t2i;
        re[i + 1] = t1r + t3i; im[i + 1] = t1i - t3r;
        re[i + 3] = t1r - t3i; im[i + 3] = t1i + t3r;
      }
    }
    const stages = this.stages;
    for (let s = 0; s < stages.length; s++) {
      const { span, tw } = stages[s]!;
      const q = span >> 2;
      if (q < m / span) radix4StageByTwiddle(re, im, m, span, tw);
      else radix4StageByBlock(re, im, m, span, tw);
    }
  }

  /** Splits the half-size complex FFT into real-input bins [0, maxBins) → outRe/outIm. */
  private split(maxBins: number): void {
    const m = this.m, zr = this.zr, zi = this.zi, wr = this.wr, wi = this.wi, xr = this.outRe, xi = this.outIm;
    const kEnd = Math.min(maxBins, m);
    xr[0] = zr[0]! + zi[0]!; xi[0] = 0;
    if (maxBins > m) { xr[m] = zr[0]! - zi[0]!; xi[m] = 0; }
    if (maxBins > m) {
      // all bins: X[m−k] = conj(E − W^k·O) comes from the same four values as X[k] = E + W^k·O
      for (let k = 1, h = m >> 1; k <= h; k++) {
        const j = m - k;
        const zkr = zr[k]!, zki = zi[k]!, zjr = zr[j]!, zji = zi[j]!;
        const er = 0.5 * (zkr + zjr), ei = 0.5 * (zki - zji);
        const or = 0.5 * (zki + zji), oi = -0.5 * (zkr - zjr);
        const cr = wr[k]!, ci = wi[k]!;
        const pr = cr * or - ci * oi, pi = cr * oi + ci * or;
        xr[k] = er + pr; xi[k] = ei + pi;
        xr[j] = er - pr; xi[j] = pi - ei;
      }
      return;
    }
    for (let k = 1; k < kEnd; k++) {
      const j = m - k;
      const zkr = zr[k]!, zki = zi[k]!, zjr = zr[j]!, zji = zi[j]!;
      const er = 0.5 * (zkr + zjr), ei = 0.5 * (zki - zji);
      const or = 0.5 * (zki + zji), oi = -0.5 * (zkr - zjr);
      const cr = wr[k]!, ci = wi[k]!;
      xr[k] = er + cr * or - ci * oi;
      xi[k] = ei + cr * oi + ci * or;
    }
  }

  /**
   * Forward transform of the frame f[i] = x[start + i] · window[i] (i < N), where samples
   * outside [lo, hi) count as zero; writes bins [0, maxBins) to outRe/outIm.
   */
  forwardWindowed(x: ArrayLike<number>, start: number, window: Float64Array, lo = 0, hi = x.length, maxBins = this.bins): void {
    const m = this.m, rev = this.rev, zr = this.zr, zi = this.zi;
    if (start >= lo && start + this.size <= hi) {
      // bit-reversed load fused with the first butterfly stage: rev[j + m/2] = rev[j] + 1 and
      // rev[j + m/4] = rev[j] + 2, so sample pairs j, j + m/2 (radix 2) or the four quarter
      // points (radix 4) land next to each other.
      if (this.radix2First) {
        const h = m >> 1, d = 2 * h; // sample offset of z[j + m/2] relative to z[j]
        for (let j = 0; j < h; j++) {
          const p = rev[j]!, i = 2 * j, s = start + i;
          const ar = x[s]! * window[i]!, ai = x[s + 1]! * window[i + 1]!;
          const br = x[s + d]! * window[i + d]!, bi = x[s + d + 1]! * window[i + d + 1]!;
          zr[p] = ar + br; zi[p] = ai + bi; zr[p + 1] = ar - br; zi[p + 1] = ai - bi;
        }
      } else {
        const q = m >> 2, d = 2 * q;
        for (let j = 0; j < q; j++) {
          const p = rev[j]!, i = 2 * j, s = start + i;
          const a0r = x[s]! * window[i]!, a0i = x[s + 1]! * window[i + 1]!;
          const i1 = i + d, i2 = i1 + d, i3 = i2 + d;
          const a1r = x[start + i1]! * window[i1]!, a1i = x[start + i1 + 1]! * window[i1 + 1]!;
          const a2r = x[start + i2]! * window[i2]!, a2i = x[start + i2 + 1]! * window[i2 + 1]!;
          const a3r = x[start + i3]! * window[i3]!, a3i = x[start + i3 + 1]! * window[i3 + 1]!;
          const t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i;
          const t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i;
          zr[p] = t0r + t2r; zi[p] = t0i + t2i;
          zr[p + 2] = t0r - t2r; zi[p + 2] = t0i - t2i;
          zr[p + 1] = t1r + t3i; zi[p + 1] = t1i - t3r;
          zr[p + 3] = t1r - t3i; zi[p + 3] = t1i + t3r;
        }
      }
      this.transform(true);
      this.split(maxBins);
      return;
    }
    for (let j = 0; j < m; j++) {
      const p = rev[j]!, i = 2 * j, s = start + i;
      zr[p] = s >= lo && s < hi ? x[s]! * window[i]! : 0;
      zi[p] = s + 1 >= lo && s + 1 < hi ? x[s + 1]! * window[i + 1]! : 0;
    }
    this.transform();
    this.split(maxBins);
  }

  /** Forward transform of x[0..N) (no window); writes bins [0, maxBins) to outRe/outIm. */
  forward(x: ArrayLike<number>, maxBins = this.bins): void {
    const m = this.m, rev = this.rev, zr = this.zr, zi = this.zi;
    for (let j = 0; j < m; j++) { const p = rev[j]!; zr[p] = x[2 * j]!; zi[p] = x[2 * j + 1]!; }
    this.transform();
    this.split(maxBins);
  }

  /**
   * numpy `irfft` of the half spectrum (re[off + k], im[off + k]) for k in [0, N/2], each bin
   * multiplied by `mask[maskOff + k]` when a mask is given; the N samples go to `time`.
   */
  inverse(re: ArrayLike<number>, im: ArrayLike<number>, off = 0, mask: ArrayLike<number> | null = null, maskOff = off): Float64Array {
    this.inverseRaw(re, im, off, mask, maskOff);
    const zr = this.zr, zi = this.zi, t = this.time, s = 1 / this.m;
    for (let j = 0; j < this.m; j++) { t[2 * j] = zr[j]! * s; t[2 * j + 1] = -zi[j]! * s; }
    return t;
  }

  /**
   * `inverse` without the final unpacking: afterwards sample 2j is `rawRe[j] / (N/2)` and
   * sample 2j+1 is `−rawIm[j] / (N/2)` (lets an overlap-add fold the scale into its window).
   */
  inverseRaw(re: ArrayLike<number>, im: ArrayLike<number>, off = 0, mask: ArrayLike<number> | null = null, maskOff = off): void {
    const m = this.m, rev = this.rev, zr = this.zr, zi = this.zi, wr = this.wr, wi = this.wi;
    // Z[k] = E[k] + i·O[k], E = (X[k] + conj X[m−k]) / 2, O = (X[k] − conj X[m−k]) · conj(W^k) / 2;
    // stored conjugated (the inverse runs as conj(FFT(conj Z)) / m), bit-reversed. DC and
    // Nyquist count as real.
    const g0 = mask ? mask[maskOff]! : 1, gm = mask ? mask[maskOff + m]! : 1;
    const x0 = re[off]! * g0, xm = re[off + m]! * gm;
    const z0r = 0.5 * (x0 + xm), z0i = -0.5 * (x0 - xm);
    if (this.radix2First && m >= 4 && mask) {
      // fused with the first radix-2 stage: Z[k] and Z[k + m/2] land at rev[k], rev[k] + 1.
      // Walks k up and m − k down together: bins k, m − k, m/2 + k, m/2 − k in one step.
      const h = m >> 1;
      for (let k = 0; k < h; k++) {
        let ar = z0r, ai = z0i;
        const j = m - k, k2 = k + h, j2 = h - k;
        if (k > 0) {
          const gk = mask[maskOff + k]!, gj = mask[maskOff + j]!;
          const akr = re[off + k]! * gk, aki = im[off + k]! * gk, ajr = re[off + j]! * gj, aji = im[off + j]! * gj;
          const er = 0.5 * (akr + ajr), ei = 0.5 * (aki - aji), dr = 0.5 * (akr - ajr), di = 0.5 * (aki + aji);
          const cr = wr[k]!, ci = wi[k]!;
          ar = er - (di * cr - dr * ci); ai = -(ei + dr * cr + di * ci);
        }
        const hk = mask[maskOff + k2]!, hj = mask[maskOff + j2]!;
        const bkr = re[off + k2]! * hk, bki = im[off + k2]! * hk, bjr = re[off + j2]! * hj, bji = im[off + j2]! * hj;
        const er = 0.5 * (bkr + bjr), ei = 0.5 * (bki - bji), dr = 0.5 * (bkr - bjr), di = 0.5 * (bki + bji);
        const cr = wr[k2]!, ci = wi[k2]!;
        const br = er - (di * cr - dr * ci), bi = -(ei + dr * cr + di * ci);
        const p = rev[k]!;
        zr[p] = ar + br; zi[p] = ai + bi; zr[p + 1] = ar - br; zi[p + 1] = ai - bi;
      }
      this.transform(true);
      return;
    }
    zr[0] = z0r; zi[0] = z0i;
    for (let k = 1; k < m; k++) {
      const j = m - k;
      let akr = re[off + k]!, aki = im[off + k]!, ajr = re[off + j]!, aji = im[off + j]!;
      if (mask) { const gk = mask[maskOff + k]!, gj = mask[maskOff + j]!; akr *= gk; aki *= gk; ajr *= gj; aji *= gj; }
      const er = 0.5 * (akr + ajr), ei = 0.5 * (aki - aji);
      const dr = 0.5 * (akr - ajr), di = 0.5 * (aki + aji);
      // O = D · conj(W^k), W^k = cr + i·ci
      const cr = wr[k]!, ci = wi[k]!;
      const or = dr * cr + di * ci, oi = di * cr - dr * ci;
      const p = rev[k]!;
      zr[p] = er - oi;
      zi[p] = -(ei + or);
    }
    this.transform();
  }

  /** Real parts of the last `inverseRaw` result (see there). */
  get rawRe(): Float64Array { return this.zr; }
  /** Imaginary parts of the last `inverseRaw` result (see there). */
  get rawIm(): Float64Array { return this.zi; }
}

const cache = new Map<number, RealFft>();

/** The cached `RealFft` of `size` (created on first use; not shared across worker threads). */
export function realFft(size: number): RealFft {
  let f = cache.get(size);
  if (!f) { f = new RealFft(size); cache.set(size, f); }
  return f;
}

/** numpy's `rfft` of a real signal whose length is a power of two: interleaved re/im, size/2 + 1 bins (a new array). */
export function rfft(x: ArrayLike<number>): Float64Array {
  const f = realFft(x.length);
  f.forward(x);
  const out = new Float64Array(2 * f.bins);
  for (let k = 0; k < f.bins; k++) { out[2 * k] = f.outRe[k]!; out[2 * k + 1] = f.outIm[k]!; }
  return out;
}

/** numpy's `irfft(X, n)` of interleaved re/im bins 0..n/2 for a power-of-two n (a new array). */
export function irfft(spectrum: ArrayLike<number>, n: number): Float64Array {
  const f = realFft(n);
  const re = new Float64Array(f.bins), im = new Float64Array(f.bins);
  for (let k = 0; k < f.bins; k++) { re[k] = spectrum[2 * k]!; im[k] = spectrum[2 * k + 1]!; }
  return Float64Array.from(f.inverse(re, im));
}

/**
 * One radix-4 decimation-in-time stage of span L over re/im (length m), blocks of L holding
 * the bit-reversed sub-results of residues 0, 2, 1, 3. Twiddle-major: each twiddle triple is
 * loaded once and applied to every block (best for the early stages: many short blocks).
 */
function radix4StageByTwiddle(re: Float64Array, im: Float64Array, m: number, span: number, tw: Float64Array): void {
  const q = span >> 2;
  for (let k = 0; k < q; k++) {
    const o = 6 * k;
    const w1r = tw[o]!, w1i = tw[o + 1]!, w2r = tw[o + 2]!, w2i = tw[o + 3]!, w3r = tw[o + 4]!, w3i = tw[o + 5]!;
    for (let i0 = k; i0 < m; i0 += span) {
      const i1 = i0 + q, i2 = i1 + q, i3 = i2 + q;
      const a0r = re[i0]!, a0i = im[i0]!;
      const x1r = re[i2]!, x1i = im[i2]!, x2r = re[i1]!, x2i = im[i1]!, x3r = re[i3]!, x3i = im[i3]!;
      const a1r = w1r * x1r - w1i * x1i, a1i = w1r * x1i + w1i * x1r;
      const a2r = w2r * x2r - w2i * x2i, a2i = w2r * x2i + w2i * x2r;
      const a3r = w3r * x3r - w3i * x3i, a3i = w3r * x3i + w3i * x3r;
      const t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i;
      const t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i;
      re[i0] = t0r + t2r; im[i0] = t0i + t2i;
      re[i2] = t0r - t2r; im[i2] = t0i - t2i;
      re[i1] = t1r + t3i; im[i1] = t1i - t3r;
      re[i3] = t1r - t3i; im[i3] = t1i + t3r;
    }
  }
}

/** `radix4StageByTwiddle` block-major (best for the late stages: few long blocks). */
function radix4StageByBlock(re: Float64Array, im: Float64Array, m: number, span: number, tw: Float64Array): void {
  const q = span >> 2;
  for (let b = 0; b < m; b += span) {
    for (let k = 0; k < q; k++) {
      const i0 = b + k, i1 = i0 + q, i2 = i1 + q, i3 = i2 + q;
      const o = 6 * k;
      const w1r = tw[o]!, w1i = tw[o + 1]!, w2r = tw[o + 2]!, w2i = tw[o + 3]!, w3r = tw[o + 4]!, w3i = tw[o + 5]!;
      const a0r = re[i0]!, a0i = im[i0]!;
      const x1r = re[i2]!, x1i = im[i2]!, x2r = re[i1]!, x2i = im[i1]!, x3r = re[i3]!, x3i = im[i3]!;
      const a1r = w1r * x1r - w1i * x1i, a1i = w1r * x1i + w1i * x1r;
      const a2r = w2r * x2r - w2i * x2i, a2i = w2r * x2i + w2i * x2r;
      const a3r = w3r * x3r - w3i * x3i, a3i = w3r * x3i + w3i * x3r;
      const t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i;
      const t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i;
      re[i0] = t0r + t2r; im[i0] = t0i + t2i;
      re[i2] = t0r - t2r; im[i2] = t0i - t2i;
      re[i1] = t1r + t3i; im[i1] = t1i - t3r;
      re[i3] = t1r - t3i; im[i3] = t1i + t3r;
    }
  }
}
