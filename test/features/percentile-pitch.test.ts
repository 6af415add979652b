import { describe, it, expect } from 'vitest';
import { pitchTrack } from '../../src/features/pitch.js';
import { percentile, percentileInPlace, percentileSorted } from '../../src/features/utterance.js';

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
}

describe('percentileInPlace (selection) equals the sorted percentile exactly', () => {
  it('matches numpy-style linear interpolation on hand values', () => {
    expect(percentileInPlace(Float64Array.from([3, 1, 2, 4]), 50)).toBe(2.5);
    expect(percentileInPlace(Float64Array.from([10, 0]), 95)).toBe(9.5);
    expect(percentileInPlace(Float64Array.from([7]), 10)).toBe(7);
    expect(percentileInPlace(Float64Array.from([5, 1, 9]), 100)).toBe(9);
    expect(percentileInPlace(Float64Array.from([5, 1, 9]), 0)).toBe(1);
    expect(Number.isNaN(percentileInPlace(new Float64Array(0), 50))).toBe(true);
  });
  it('is bit-identical to sort + interpolation on random data with ties', () => {
    const r = lcg(42);
    for (const n of [2, 5, 15, 16, 17, 100, 1001, 5000]) {
      const x = Float64Array.from({ length: n }, () => Math.round(r() * 40) / 4 - 3);
      const sorted = Float64Array.from(x).sort();
      for (const q of [5, 10, 50, 90, 95]) {
        expect(percentileInPlace(Float64Array.from(x), q)).toBe(percentileSorted(sorted, q));
        expect(percentile(x, q)).toBe(percentileSorted(sorted, q));
      }
    }
  });
});

describe('pitchTrack (RealFft + DCT-I autocorrelation)', () => {
  it('finds the F0 of a harmonic tone with a noise floor, at every frame size', () => {
    const sr = 16000;
    const r = lcg(7);
    const y = Float64Array.from({ length: sr }, (_, i) => Math.sin((2 * Math.PI * 200 * i) / sr) + 0.5 * Math.sin((2 * Math.PI * 400 * i) / sr) + 0.01 * (r() - 0.5));
    for (const frameLength of [512, 1024, 2048]) {
      const p = pitchTrack(y, sr, { frameLength, hopLength: 256 });
      const mid = Math.floor(p.f0.length / 2);
      expect(p.f0[mid]).toBeGreaterThan(198);
      expect(p.f0[mid]).toBeLessThan(202);
      expect(p.voicing[mid]).toBeGreaterThan(0.9);
    }
  });
  it('gives the same track on repeated calls (plan buffers are reused, not leaked between calls)', () => {
    const sr = 22050;
    const y = Float64Array.from({ length: 6000 }, (_, i) => Math.sin((2 * Math.PI * 150 * i) / sr) * (i % 3000 < 1500 ? 1 : 0.1));
    const a = pitchTrack(y, sr, { frameLength: 1024, hopLength: 256 });
    pitchTrack(Float64Array.from(y, (v) => -2 * v + 0.3), sr, { frameLength: 1024, hopLength: 256 });
    const b = pitchTrack(y, sr, { frameLength: 1024, hopLength: 256 });
    expect(Array.from(b.f0)).toEqual(Array.from(a.f0));
    expect(Array.from(b.voicing)).toEqual(Array.from(a.voicing));
    expect(Array.from(b.rms)).toEqual(Array.from(a.rms));
  });
});
