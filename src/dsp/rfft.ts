/**
 * A hand-written real FFT for the feature hot loops (log-mel STFT, the noise gate's STFT and
 * ISTFT). Why not fft.js: its `realTransform` still runs a full-size radix-4 pass structure
 * with interleaved buffers and cannot stop at the bins a mel filterbank uses. Here a real
 * transform of size N is one complex FFT of size N/2 on the even/odd samples packed as
 * re/im (the usual half-size packing), radix-4 decimation in time on split re/im
 * Float64Arrays with per-stage twiddle tables, the bit-reversal permutation fused with the
 * windowing of the frame, and the split into the real spectrum computed only for the bins
 * asked for. Measured (CPU time, 2026-11-24, shared machine, provisional): plain log-mel
 * 7.3 → see BENCHMARKS.md "Features".
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
  private transform(): void {
    const re = this.zr, im = this.zi, m = this.m;
    if (this.radix2First) {
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
      for (let b = 0; b < m; b += span) {
        for (let k = 0; k < q; k++) {
          const i0 = b + k, i1 = i0 + q, i2 = i1 + q, i3 = i2 + q;
          const o = 6 * k;
          const w1r = tw[o]!, w1i = tw[o + 1]!, w2r = tw[o + 2]!, w2i = tw[o + 3]!, w3r = tw[o + 4]!, w3i = tw[o + 5]!;
          const a0r = re[i0]!, a0i = im[i0]!;
          // A1 (residue 1) sits in block 2, A2 (residue 2) in block 1
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
  }

  /** Splits the half-size complex FFT into real-input bins [0, maxBins) → outRe/outIm. */
  private split(maxBins: number): void {
    const m = this.m, zr = this.zr, zi = this.zi, wr = this.wr, wi = this.wi, xr = this.outRe, xi = this.outIm;
    const kEnd = Math.min(maxBins, m);
    xr[0] = zr[0]! + zi[0]!; xi[0] = 0;
    if (maxBins > m) { xr[m] = zr[0]! - zi[0]!; xi[m] = 0; }
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
      for (let j = 0; j < m; j++) {
        const p = rev[j]!, i = 2 * j, s = start + i;
        zr[p] = x[s]! * window[i]!;
        zi[p] = x[s + 1]! * window[i + 1]!;
      }
    } else {
      for (let j = 0; j < m; j++) {
        const p = rev[j]!, i = 2 * j, s = start + i;
        zr[p] = s >= lo && s < hi ? x[s]! * window[i]! : 0;
        zi[p] = s + 1 >= lo && s + 1 < hi ? x[s + 1]! * window[i + 1]! : 0;
      }
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
    const m = this.m, rev = this.rev, zr = this.zr, zi = this.zi, wr = this.wr, wi = this.wi;
    // Z[k] = E[k] + i·O[k], E = (X[k] + conj X[m−k]) / 2, O = (X[k] − conj X[m−k]) · conj(W^k) / 2;
    // stored conjugated (the inverse runs as conj(FFT(conj Z)) / m), bit-reversed.
    const g0 = mask ? mask[maskOff]! : 1, gm = mask ? mask[maskOff + m]! : 1;
    const x0 = re[off]! * g0, xm = re[off + m]! * gm;
    zr[0] = 0.5 * (x0 + xm);
    zi[0] = -0.5 * (x0 - xm);
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
    const t = this.time, s = 1 / m;
    for (let j = 0; j < m; j++) { t[2 * j] = zr[j]! * s; t[2 * j + 1] = -zi[j]! * s; }
    return t;
  }
}

const cache = new Map<number, RealFft>();

/** The cached `RealFft` of `size` (created on first use; not shared across worker threads). */
export function realFft(size: number): RealFft {
  let f = cache.get(size);
  if (!f) { f = new RealFft(size); cache.set(size, f); }
  return f;
}
