import { describe, expect, it } from 'vitest';
import {
  addNoise, applyBiquad, convolve, frequencyMask, gaussianNoise, maskColumns, maskRows, melWarp, mixup, peakingBiquad,
  pitchShift, randomEq, reverb, sampleMixupLambda, specAugment, speedPerturb, timeMask, timeStretch, vtlp,
} from '../../src/data/augment.js';
import { createRng } from '../../src/util/rng.js';
import { rfft } from '../../src/dsp/rfft.js';

const sine = (f: number, sr: number, seconds: number, amp = 0.5) =>
  Float32Array.from({ length: Math.round(sr * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / sr));

/** Frequency of the largest FFT bin over the middle 8192 samples (Hann windowed). */
function peakHz(y: Float32Array, sr: number): number {
  const n = 8192;
  const off = Math.floor((y.length - n) / 2);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = (y[off + i] as number) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  const X = rfft(x);
  let best = 0, bestK = 0;
  for (let k = 1; k < n / 2; k++) {
    const m = Math.hypot(X[2 * k] as number, X[2 * k + 1] as number);
    if (m > best) { best = m; bestK = k; }
  }
  return (bestK * sr) / n;
}
const rms = (y: Float32Array) => Math.sqrt(y.reduce((a, v) => a + v * v, 0) / y.length);
const spec = (nMels: number, frames: number) => ({ nMels, frames, data: Float32Array.from({ length: nMels * frames }, (_, i) => 1 + i) });

describe('waveform augmentation', () => {
  const sr = 16000;
  it('addNoise hits the requested SNR and leaves the input alone', () => {
    const y = sine(440, sr, 1);
    const before = Float32Array.from(y);
    const out = addNoise(y, 10, createRng(1));
    expect(y).toEqual(before);
    const noise = out.map((v, i) => v - (y[i] as number));
    const snr = 10 * Math.log10(rms(y) ** 2 / rms(noise) ** 2);
    expect(Math.abs(snr - 10)).toBeLessThan(0.2);
  });
  it('pitchShift +12 semitones moves a 440 Hz tone to about 880 Hz, same length', () => {
    const y = sine(440, sr, 1.5);
    const out = pitchShift(y, sr, 12);
    expect(out.length).toBe(y.length);
    expect(Math.abs(peakHz(out, sr) - 880)).toBeLessThan(8);
    expect(rms(out)).toBeGreaterThan(0.2);
    const down = pitchShift(y, sr, -5);
    expect(Math.abs(peakHz(down, sr) - 440 * 2 ** (-5 / 12))).toBeLessThan(8);
  });
  it('timeStretch changes duration, not pitch', () => {
    const y = sine(500, sr, 1);
    const out = timeStretch(y, 0.8);
    expect(out.length).toBe(Math.round(y.length / 0.8));
    expect(Math.abs(peakHz(out, sr) - 500)).toBeLessThan(8);
  });
  it('speedPerturb gives ceil(n / factor) samples and scales the frequency', () => {
    const y = sine(400, sr, 1);
    expect(speedPerturb(y, 0.9).length).toBe(Math.ceil(16000 / 0.9));
    const fast = speedPerturb(y, 1.1);
    expect(fast.length).toBe(Math.ceil(16000 / 1.1));
    expect(Math.abs(peakHz(fast, sr) - 440)).toBeLessThan(8);
  });
  it('peaking biquad boosts its centre by the gain', () => {
    const y = sine(1000, sr, 0.5);
    const out = applyBiquad(y, peakingBiquad(sr, 1000, 6, 1));
    const gain = 20 * Math.log10(rms(out.subarray(2000)) / rms(y.subarray(2000)));
    expect(Math.abs(gain - 6)).toBeLessThan(0.1);
  });
  it('randomEq and reverb keep length and peak, are seeded', () => {
    const y = sine(300, sr, 0.5);
    const a = randomEq(y, sr, createRng(5));
    expect(a.length).toBe(y.length);
    expect(Math.max(...a.map(Math.abs))).toBeCloseTo(0.5, 4);
    expect(randomEq(y, sr, createRng(5))).toEqual(a);
    const r = reverb(y, sr, createRng(2));
    expect(r.length).toBe(y.length);
    expect(Math.max(...r.map(Math.abs))).toBeCloseTo(0.5, 4);
    expect(r).not.toEqual(y);
  });
  it('convolve matches direct convolution', () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    const h = Float32Array.from([1, -1, 0.5]);
    expect([...convolve(x, h)].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 1, 1.5, 2]);
  });
});

describe('spectrogram augmentation', () => {
  it('maskRows/maskColumns set exactly the chosen band', () => {
    const s = spec(4, 5);
    const r = maskRows(s, 1, 2);
    expect([...r.data.subarray(5, 15)].every((v) => v === 0)).toBe(true);
    expect([...r.data.subarray(0, 5)]).toEqual([1, 2, 3, 4, 5]);
    expect([...r.data.subarray(15)]).toEqual([16, 17, 18, 19, 20]);
    const c = maskColumns(s, 3, 5, -1);
    expect([...c.data.subarray(0, 5)]).toEqual([1, 2, 3, -1, -1]);
    expect(s.data[3]).toBe(4);
  });
  it('frequencyMask zeroes one contiguous band of at most 30 rows, all frames', () => {
    for (let seed = 0; seed < 8; seed++) {
      const s = spec(128, 40);
      const m = frequencyMask(s, createRng(seed));
      const zeroRows = [];
      for (let r = 0; r < 128; r++) {
        const row = m.data.subarray(r * 40, (r + 1) * 40);
        if (row.every((v) => v === 0)) zeroRows.push(r);
        else expect([...row]).toEqual([...s.data.subarray(r * 40, (r + 1) * 40)]);
      }
      expect(zeroRows.length).toBeLessThanOrEqual(30);
      if (zeroRows.length) expect(zeroRows[zeroRows.length - 1]! - zeroRows[0]! + 1).toBe(zeroRows.length);
    }
  });
  it('timeMask zeroes at most 50 contiguous frames', () => {
    const s = spec(8, 200);
    const m = timeMask(s, createRng(3));
    const cols = [];
    for (let t = 0; t < 200; t++) if (m.data[t] === 0) cols.push(t);
    expect(cols.length).toBeLessThanOrEqual(50);
    for (let r = 0; r < 8; r++) for (const t of cols) expect(m.data[r * 200 + t]).toBe(0);
  });
  it('specAugment applies each op with probability about 0.6', () => {
    const rng = createRng(9);
    let masked = 0;
    const n = 400;
    for (let i = 0; i < n; i++) {
      const s = specAugment(spec(64, 64), rng, { noiseStd: 0 });
      if (s.data.some((v) => v === 0)) masked++;
    }
    // P(at least one of two masks with non-zero width) ≈ 1 - 0.4² minus a little for width-0 draws
    expect(masked / n).toBeGreaterThan(0.7);
    expect(masked / n).toBeLessThan(0.9);
  });
  it('gaussianNoise has the requested std', () => {
    const s = { nMels: 100, frames: 100, data: new Float32Array(10000) };
    const g = gaussianNoise(s, createRng(4), 0.01);
    expect(Math.abs(rms(g.data) - 0.01)).toBeLessThan(0.0005);
  });
  it('melWarp with alpha 1 is the identity; alpha 1.1 moves a band up', () => {
    const s = spec(50, 3);
    expect(melWarp(s, 1).data).toEqual(s.data);
    const band = { nMels: 50, frames: 1, data: new Float32Array(50) };
    band.data[20] = 1;
    const w = melWarp(band, 1.1);
    const argmax = w.data.indexOf(Math.max(...w.data));
    expect(argmax).toBe(22);
    expect(vtlp(s, createRng(1)).data.length).toBe(150);
  });
  it('mixup mixes values and refuses different shapes', () => {
    const a = { nMels: 1, frames: 2, data: Float32Array.from([1, 0]) };
    const b = { nMels: 1, frames: 2, data: Float32Array.from([0, 1]) };
    expect([...mixup(a, b, 0.25).data]).toEqual([0.25, 0.75]);
    expect([...mixup(Float32Array.from([2]), Float32Array.from([4]), 0.5)]).toEqual([3]);
    expect(() => mixup(a, { nMels: 1, frames: 3, data: new Float32Array(3) }, 0.5)).toThrow(/shapes differ/);
    const rng = createRng(2);
    for (let i = 0; i < 50; i++) { const l = sampleMixupLambda(rng, 0.2); expect(l >= 0 && l <= 1).toBe(true); }
  });
});
