import { describe, expect, it } from 'vitest';
import {
  addNoiseDb, applyBiquad, augmentOffline, convolve, maskFrequency, maskTime, peakingBiquad, pitchShift, randomEq, reverb,
  sampleBeta, timeStretch, warpMel, type OfflineAugment,
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
  it('reverb drrDb: the tail at the stated direct-to-reverberant ratio, the same draw as the wet share it names', () => {
    const sr = 8000;
    const impulse = new Float32Array(sr); // a unit click: the output is the (peak-matched) impulse response
    impulse[0] = 1;
    for (const drr of [-10, 0, 12]) {
      const h = reverb(impulse, sr, createRng(3), { rt60: [0.4, 0.4], drrDb: [drr, drr] });
      const direct = h[0]! ** 2;
      let tail = 0;
      for (let i = 1; i < h.length; i++) tail += h[i]! ** 2;
      expect(10 * Math.log10(direct / tail)).toBeCloseTo(drr, 3);
    }
    const y = sine(300, sr, 0.5);
    const w = 0.3;
    const byDrr = reverb(y, sr, createRng(4), { drrDb: [-20 * Math.log10(w), -20 * Math.log10(w)] });
    const byWet = reverb(y, sr, createRng(4), { wet: [w, w] });
    expect(Math.max(...byDrr.map((v, i) => Math.abs(v - byWet[i]!)))).toBeLessThan(1e-6); // 10^(log10 w) is w to rounding
  });
  it('convolve matches direct convolution', () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    const h = Float32Array.from([1, -1, 0.5]);
    expect([...convolve(x, h)].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 1, 1.5, 2]);
  });
});

describe('spectrogram augmentation', () => {
  it('maskFrequency / maskTime set exactly the chosen bands / frames, in place', () => {
    const f = maskFrequency(spec(4, 5), 1, 2);
    expect([...f.data.subarray(5, 15)].every((v) => v === 0)).toBe(true);
    expect([...f.data.subarray(0, 5)]).toEqual([1, 2, 3, 4, 5]);
    expect([...f.data.subarray(15)]).toEqual([16, 17, 18, 19, 20]);
    const t = maskTime(spec(2, 5), 3, 5, -1);
    expect([...t.data]).toEqual([1, 2, 3, -1, -1, 6, 7, 8, -1, -1]);
  });
  it("the study's offline ops: each with probability p; masks at most their widths, contiguous", async () => {
    const aug: OfflineAugment = { copies: 1, p: 1, noiseStd: 0, pitchSemitones: 0, pitchShift: 'mel-warp', freqMask: [30, 30], timeMask: [50, 50] };
    for (let seed = 0; seed < 8; seed++) {
      const s = spec(128, 200);
      const m = await augmentOffline(s, aug, createRng(seed), 8000);
      const rows: number[] = [];
      for (let r = 0; r < 128; r++) if (m.data.subarray(r * 200, (r + 1) * 200).every((v) => v === 0)) rows.push(r);
      expect(rows.length).toBeLessThanOrEqual(30);
      if (rows.length) expect(rows[rows.length - 1]! - rows[0]! + 1).toBe(rows.length);
      expect(s.data[0]).toBe(1); // the input is never touched
    }
    const off = await augmentOffline(spec(8, 8), { ...aug, p: 0 }, createRng(1), 8000);
    expect([...off.data]).toEqual([...spec(8, 8).data]);
  });
  it('addNoiseDb has the requested std', () => {
    const g = addNoiseDb({ nMels: 100, frames: 100, data: new Float32Array(10000) }, 0.01, createRng(4));
    expect(Math.abs(rms(g.data) - 0.01)).toBeLessThan(0.0005);
  });
  it('warpMel by ratio 1 is the identity; 2^(2/12) moves a band up', () => {
    const s = spec(50, 3);
    warpMel(s, 1, 0, 8000).data.forEach((v, i) => expect(v).toBeCloseTo(s.data[i]!, 4));
    const band = { nMels: 50, frames: 1, data: new Float32Array(50) };
    band.data[30] = 1;
    const w = warpMel(band, 2 ** (2 / 12), 0, 8000);
    expect(w.data.indexOf(Math.max(...w.data))).toBeGreaterThan(30);
  });
  it('sampleBeta stays in [0, 1] with mean 1/2', () => {
    const rng = createRng(2);
    const xs = Array.from({ length: 2000 }, () => sampleBeta(0.4, rng));
    expect(xs.every((l) => l >= 0 && l <= 1)).toBe(true);
    expect(Math.abs(xs.reduce((a, b) => a + b, 0) / xs.length - 0.5)).toBeLessThan(0.03);
  });
});
