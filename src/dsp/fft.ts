/**
 * Real-input FFT plans on top of fft.js. A plan owns its buffers, so the per-frame hot loops
 * (STFT, ISTFT) allocate nothing; plans are cached per size.
 */
import FFT from 'fft.js';
import { SerError } from '../util/errors.js';

/** A reusable FFT of one size with its own scratch buffers. */
export class RealFftPlan {
  /** Transform size (a power of two, at least 4). */
  readonly size: number;
  /** Number of non-redundant bins: size / 2 + 1. */
  readonly bins: number;
  private readonly fft: FFT;
  /** Interleaved complex output of the last forward transform (re, im pairs; bins 0..size/2 valid). */
  readonly out: Float64Array;
  private readonly full: Float64Array;
  private readonly time: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new SerError('dsp/bad-fft-size', `FFT size must be a power of two >= 4, got ${size}`);
    }
    this.size = size;
    this.bins = size / 2 + 1;
    this.fft = new FFT(size);
    this.out = new Float64Array(2 * size);
    this.full = new Float64Array(2 * size);
    this.time = new Float64Array(2 * size);
  }

  /**
   * Forward transform of `input` (length `size`, real). Returns `this.out`: interleaved
   * re/im with bins 0..size/2 valid (numpy's sign convention, unnormalised).
   */
  forward(input: Float64Array): Float64Array {
    this.fft.realTransform(this.out, input);
    return this.out;
  }

  /** Complex inverse FFT of interleaved `z` (2·size values), scaled by 1/size; returns an internal buffer. */
  complexInverse(z: Float64Array): Float64Array {
    this.fft.inverseTransform(this.time, z);
    return this.time;
  }

  /**
   * Inverse transforms of two Hermitian half-spectra at once (packed as one complex iFFT):
   * `a` and `b` are interleaved re/im of bins 0..size/2; writes the real signals (scaled by
   * 1/size like numpy's irfft) to `outA` and `outB`. The imaginary parts of DC and Nyquist are
   * ignored, as irfft does. Pass `b = null` to transform one spectrum.
   */
  inverse2(a: Float64Array, b: Float64Array | null, outA: Float64Array, outB: Float64Array | null): void {
    const n = this.size;
    const half = n >> 1;
    const z = this.full;
    // Z = A + i B, with A, B completed to full Hermitian spectra.
    if (b) {
      z[0] = a[0]!; z[1] = b[0]!;
      z[n] = a[n]!; z[n + 1] = b[n]!;
      for (let k = 1; k < half; k++) {
        const ar = a[2 * k]!, ai = a[2 * k + 1]!, br = b[2 * k]!, bi = b[2 * k + 1]!;
        // bin k: A + iB = (ar - bi) + i(ai + br)
        z[2 * k] = ar - bi;
        z[2 * k + 1] = ai + br;
        // bin n-k: conj(A) + i conj(B) = (ar + bi) + i(br - ai)
        const m = 2 * (n - k);
        z[m] = ar + bi;
        z[m + 1] = br - ai;
      }
    } else {
      z[0] = a[0]!; z[1] = 0;
      z[n] = a[n]!; z[n + 1] = 0;
      for (let k = 1; k < half; k++) {
        const ar = a[2 * k]!, ai = a[2 * k + 1]!;
        z[2 * k] = ar; z[2 * k + 1] = ai;
        const m = 2 * (n - k);
        z[m] = ar; z[m + 1] = -ai;
      }
    }
    this.fft.inverseTransform(this.time, z);
    const t = this.time;
    if (b && outB) {
      for (let i = 0; i < n; i++) { outA[i] = t[2 * i]!; outB[i] = t[2 * i + 1]!; }
    } else {
      for (let i = 0; i < n; i++) outA[i] = t[2 * i]!;
    }
  }
}

/**
 * Unnormalised-then-scaled complex inverse FFT of an interleaved full spectrum `z` (length
 * 2·size; numpy's `ifft`, i.e. divided by size). Returns the plan's interleaved time buffer
 * (valid until the next call). The building block for packing two real inverses in one.
 */
export function complexInverse(plan: RealFftPlan, z: Float64Array): Float64Array {
  return plan.complexInverse(z);
}

const plans = new Map<number, RealFftPlan>();

/** The cached plan for `size` (created on first use). */
export function fftPlan(size: number): RealFftPlan {
  let p = plans.get(size);
  if (!p) {
    p = new RealFftPlan(size);
    plans.set(size, p);
  }
  return p;
}

/** numpy's `rfft` of a real signal whose length is a power of two: interleaved re/im, size/2+1 bins. */
export function rfft(x: ArrayLike<number>): Float64Array {
  const plan = fftPlan(x.length);
  const inp = Float64Array.from(x);
  return plan.forward(inp).slice(0, 2 * plan.bins);
}

/** numpy's `irfft(X, n)` for interleaved re/im bins 0..n/2 and a power-of-two n. */
export function irfft(spectrum: Float64Array, n: number): Float64Array {
  const plan = fftPlan(n);
  const out = new Float64Array(n);
  plan.inverse2(spectrum, null, out, null);
  return out;
}
