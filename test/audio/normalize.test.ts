import { describe, expect, it } from 'vitest';
import { isSilent, peak, peakNormalize, rms, rmsDb } from '../../src/audio/normalize.js';

describe('normalize', () => {
  it('peakNormalize divides by max |y| (a new array)', () => {
    const x = new Float32Array([0.1, -0.4, 0.2, 0]);
    const y = peakNormalize(x);
    expect(y).not.toBe(x);
    expect(Array.from(y)).toEqual([0.25, -1, 0.5, 0]);
    expect(Array.from(x)).toEqual(Array.from(new Float32Array([0.1, -0.4, 0.2, 0])));
  });
  it('matches float32 division exactly (numpy y / max|y|)', () => {
    const x = new Float32Array([0.3, -0.7, 0.11]);
    const m = Math.fround(0.7);
    expect(Array.from(peakNormalize(x))).toEqual(Array.from(x, (v) => Math.fround(v / m)));
  });
  it('all-zero and empty input come back unchanged, no NaN', () => {
    expect(Array.from(peakNormalize(new Float32Array(5)))).toEqual([0, 0, 0, 0, 0]);
    expect(peakNormalize(new Float32Array(0)).length).toBe(0);
  });
  it('peak, rms, rmsDb', () => {
    expect(peak(new Float32Array([0.5, -0.75]))).toBe(0.75);
    expect(rms(new Float32Array([3, -4, 0, 0]))).toBe(2.5);
    expect(rms(new Float32Array(0))).toBe(0);
    expect(rmsDb(new Float32Array([1, -1]))).toBe(0);
    expect(rmsDb(new Float32Array(3))).toBe(-Infinity);
  });
  it('isSilent uses an RMS threshold in dBFS (default −60)', () => {
    expect(isSilent(new Float32Array(100))).toBe(true);
    expect(isSilent(new Float32Array(0))).toBe(true);
    expect(isSilent(new Float32Array(100).fill(0.0009))).toBe(true); // −60.9 dB
    expect(isSilent(new Float32Array(100).fill(0.0011))).toBe(false); // −59.2 dB
    expect(isSilent(new Float32Array(100).fill(0.05), -20)).toBe(true);
  });
});
