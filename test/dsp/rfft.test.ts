import { describe, expect, it } from 'vitest';
import { RealFft, realFft } from '../../src/dsp/rfft.js';
import { SerError } from '../../src/util/errors.js';

/** Direct O(N²) DFT of a real signal: bins 0..N/2 (numpy's rfft). */
function naiveRfft(x: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = x.length, bins = n / 2 + 1;
  const re = new Float64Array(bins), im = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    let sr = 0, si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      sr += x[t]! * Math.cos(a);
      si += x[t]! * Math.sin(a);
    }
    re[k] = sr; im[k] = si;
  }
  return { re, im };
}

/** Deterministic pseudo-random signal in [−1, 1). */
function signal(n: number, seed = 1): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; out[i] = s / 1073741824 - 1; }
  return out;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>, n = b.length) => {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('RealFft', () => {
  // 4 … 2048 cover both stage layouts (radix-2 first for odd log2(N/2), radix-4 first for even)
  for (const n of [4, 8, 16, 32, 64, 128, 1024, 2048]) {
    it(`forward of ${n} points matches the direct DFT`, () => {
      const x = signal(n, n);
      const ones = new Float64Array(n).fill(1);
      const f = new RealFft(n);
      f.forwardWindowed(x, 0, ones);
      const want = naiveRfft(x);
      expect(maxDiff(f.outRe, want.re)).toBeLessThan(1e-9 * n);
      expect(maxDiff(f.outIm, want.im)).toBeLessThan(1e-9 * n);
    });
    it(`inverse of ${n} points is numpy's irfft (ignores the imaginary DC and Nyquist parts)`, () => {
      const x = signal(n, 7 * n);
      const f = new RealFft(n);
      f.forward(x);
      const re = f.outRe.slice(), im = f.outIm.slice();
      im[0] = 3; im[n / 2] = -2;
      expect(maxDiff(f.inverse(re, im), x)).toBeLessThan(1e-12);
      // with a mask (the noise gate's path): same as masking the spectrum first
      const mask = Float32Array.from({ length: n / 2 + 1 }, (_, k) => (k % 3) / 2);
      const mre = re.map((v, k) => v * mask[k]!), mim = im.map((v, k) => v * mask[k]!);
      const want = Float64Array.from(f.inverse(mre, mim));
      expect(maxDiff(f.inverse(re, im, 0, mask), want)).toBeLessThan(1e-12);
    });
  }

  it('windows the frame, treats samples outside [lo, hi) as zero, and stops at maxBins', () => {
    const n = 64;
    const x = signal(100, 3);
    const w = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
    const f = new RealFft(n);
    // frame starting at −5 with only [0, 50) valid
    f.forwardWindowed(x, -5, w, 0, 50, 10);
    const frame = Float64Array.from({ length: n }, (_, i) => (i - 5 >= 0 && i - 5 < 50 ? x[i - 5]! * w[i]! : 0));
    const want = naiveRfft(frame);
    expect(maxDiff(f.outRe, want.re, 10)).toBeLessThan(1e-10);
    expect(maxDiff(f.outIm, want.im, 10)).toBeLessThan(1e-10);
    // a fully inside frame from an offset, Float32 input
    const x32 = Float32Array.from(x);
    f.forwardWindowed(x32, 20, w);
    const want2 = naiveRfft(Float64Array.from({ length: n }, (_, i) => x32[20 + i]! * w[i]!));
    expect(maxDiff(f.outRe, want2.re)).toBeLessThan(1e-10);
    expect(maxDiff(f.outIm, want2.im)).toBeLessThan(1e-10);
  });

  it('gives the numpy values on a tiny case: rfft([1, 2, 3, 4]) = [10, −2+2i, −2]', () => {
    const f = new RealFft(4);
    f.forward([1, 2, 3, 4]);
    [10, -2, -2].forEach((v, k) => expect(f.outRe[k]!).toBeCloseTo(v, 12));
    [0, 2, 0].forEach((v, k) => expect(f.outIm[k]!).toBeCloseTo(v, 12));
  });

  it('rejects sizes that are not powers of two >= 4; realFft caches per size', () => {
    expect(() => new RealFft(12)).toThrow(SerError);
    expect(() => new RealFft(2)).toThrow(/power of two/);
    expect(realFft(256)).toBe(realFft(256));
  });
});
