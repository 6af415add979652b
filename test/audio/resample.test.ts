import { describe, expect, it } from 'vitest';
import { resample, resampledLength, besselI0 } from '../../src/audio/resample.js';
import { SerError } from '../../src/util/errors.js';
import { resamplePolyWasm, setDspWasmEnabled } from '../../src/dsp/wasm/index.js';

const sine = (f: number, sr: number, n: number, amp = 0.5): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / sr));

/** RMS over the middle of the signal (skips filter edge effects). */
function midRms(x: Float32Array, skip: number): number {
  let s = 0;
  let n = 0;
  for (let i = skip; i < x.length - skip; i++, n++) s += x[i]! * x[i]!;
  return Math.sqrt(s / n);
}

describe('resample', () => {
  it('length is ceil(n · to / from)', () => {
    for (const [n, from, to] of [
      [1000, 44100, 16000],
      [1001, 44100, 22050],
      [7, 16000, 44100],
      [12345, 48000, 44100],
      [1, 8000, 16000],
      [0, 8000, 16000],
      [100, 44100, 44099],
    ] as const) {
      const want = Math.ceil((n * to) / from - 1e-9) + 0; // + 0: no -0
      expect(resampledLength(n, from, to)).toBe(want);
      expect(resample(new Float32Array(n), from, to, 'fast').length).toBe(want);
    }
  });

  it('equal rates: an identical copy', () => {
    const x = sine(440, 16000, 100);
    const y = resample(x, 16000, 16000);
    expect(y).not.toBe(x);
    expect(Array.from(y)).toEqual(Array.from(x));
  });

  for (const quality of ['high', 'fast'] as const) {
    for (const [from, to, f] of [
      [44100, 16000, 440],
      [44100, 22050, 3000],
      [16000, 44100, 1000],
      [48000, 44100, 5000],
      [8000, 12345, 700],
      [44100, 44099, 2000], // 44099 phases: more than the exact limit, quantised to 4096
      [22050.5, 16000, 900], // non-integer rate
    ] as const) {
      it(`${quality}: a ${f} Hz sine from ${from} to ${to} Hz keeps its frequency and amplitude`, () => {
        const n = Math.round(from * 0.5);
        const y = resample(sine(f, from, n), from, to, quality);
        const ref = sine(f, to, y.length);
        let maxErr = 0;
        const skip = Math.ceil(to * 0.02);
        for (let i = skip; i < y.length - skip; i++) maxErr = Math.max(maxErr, Math.abs(y[i]! - ref[i]!));
        // 'high' passes 94.8 % of the new Nyquist flat; 'fast' rolls off earlier (85 %).
        expect(maxErr).toBeLessThan(quality === 'high' ? 2e-4 : 5e-3);
      });
    }
  }

  it('high: a tone above the new Nyquist is attenuated by more than 60 dB', () => {
    for (const [from, to, f] of [
      [44100, 16000, 10000],
      [44100, 16000, 8600],
      [48000, 22050, 15000],
    ] as const) {
      const y = resample(sine(f, from, from, 1), from, to, 'high');
      const db = 20 * Math.log10(midRms(y, 2000) / Math.SQRT1_2);
      expect(db).toBeLessThan(-60);
    }
  });

  it('fast: a tone well above the new Nyquist is attenuated by more than 40 dB', () => {
    const y = resample(sine(11000, 44100, 44100, 1), 44100, 16000, 'fast');
    expect(20 * Math.log10(midRms(y, 2000) / Math.SQRT1_2)).toBeLessThan(-40);
  });

  it('DC stays DC (gain 1)', () => {
    const y = resample(new Float32Array(20000).fill(0.25), 44100, 16000);
    for (let i = 2000; i < y.length - 2000; i++) expect(Math.abs(y[i]! - 0.25)).toBeLessThan(1e-4);
  });

  it('rejects bad rates with a SerError', () => {
    for (const [a, b] of [[0, 16000], [16000, -1], [NaN, 8000], [8000, Infinity], [1e9, 1]]) {
      expect(() => resample(new Float32Array(10), a!, b!)).toThrow(SerError);
    }
  });

  it('besselI0 matches known values', () => {
    expect(besselI0(0)).toBe(1);
    expect(besselI0(1)).toBeCloseTo(1.2660658777520082, 14);
    expect(besselI0(10) / 2815.716628466254).toBeCloseTo(1, 12);
  });
});

describe('resample: the wasm SIMD inner loop (dsp/wasm)', () => {
  const noise = (n: number, seed: number): Float32Array => {
    let s = seed;
    return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
  };
  it('runs here, and gives the JS loop\'s output within float32 rounding, at every length and rate pair (outputs past one 65 536 block too)', () => {
    const x = new Float32Array(0);
    setDspWasmEnabled(true);
    expect(resamplePolyWasm(x, new Float32Array(4), new Float32Array(0), 4, 2, 1, 1, 0, 0)).toBe(true);
    for (const [from, to] of [[44100, 16000], [48000, 16000], [8000, 16000], [22050, 16000], [16000, 44100], [44100, 8000]] as const) {
      for (const n of [0, 1, 7, 300, 5000, 200_000]) {
        for (const quality of ['high', 'fast'] as const) {
          const input = noise(n, n + from);
          setDspWasmEnabled(false);
          const js = resample(input, from, to, quality);
          setDspWasmEnabled(true);
          const wasm = resample(input, from, to, quality);
          expect(wasm.length).toBe(js.length);
          let maxErr = 0;
          for (let i = 0; i < js.length; i++) maxErr = Math.max(maxErr, Math.abs(wasm[i]! - js[i]!));
          expect(maxErr, `${from} → ${to}, n ${n}, ${quality}`).toBeLessThan(2e-6);
        }
      }
    }
  });
  it('the edges (filter partly outside the signal) stay the JS loop\'s, bit for bit', () => {
    const input = noise(50_000, 3);
    setDspWasmEnabled(false);
    const js = resample(input, 44100, 16000);
    setDspWasmEnabled(true);
    const wasm = resample(input, 44100, 16000);
    // K = 187 input samples each side: the first ⌈186 · 160 / 441⌉ = 68 outputs and the last ones are computed in JS
    for (const i of [0, 1, 67, js.length - 1, js.length - 60]) expect(wasm[i]).toBe(js[i]);
    expect(wasm.slice(68, js.length - 70).some((v, i) => v !== js[68 + i])).toBe(true);
  });
});
