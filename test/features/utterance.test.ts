import { describe, it, expect } from 'vitest';
import { pitchTrack } from '../../src/features/pitch.js';
import { MODULATION_EDGES_HZ, melWarp, modulationStats, noiseFloor, percentile, poolBands, utteranceStats, utteranceStatsLength } from '../../src/features/utterance.js';
import { extractFeatures, featureKey, noiseFloorOf, validateFeatureParams } from '../../src/features/pipeline.js';
import { featureParams } from '../../src/features/params.js';
import type { Spectrogram } from '../../src/features/types.js';

function harmonicTone(f0: number, sr: number, seconds: number): Float32Array {
  const y = new Float32Array(Math.round(sr * seconds));
  for (let i = 0; i < y.length; i++) {
    const t = i / sr;
    y[i] = 0.5 * Math.sin(2 * Math.PI * f0 * t) + 0.3 * Math.sin(2 * Math.PI * 2 * f0 * t) + 0.2 * Math.sin(2 * Math.PI * 3 * f0 * t);
  }
  return y;
}

function median(x: number[]): number {
  const s = [...x].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

describe('pitchTrack', () => {
  it.each([[110, 16000], [220, 44100], [330, 22050]])('finds F0 %d Hz of a harmonic tone at %d Hz within 2%%', (f0, sr) => {
    const y = harmonicTone(f0, sr, 1);
    const p = pitchTrack(y, sr, { frameLength: 2048, hopLength: 512 });
    expect(p.f0.length).toBe(1 + Math.floor(y.length / 512));
    // interior frames (no zero padding inside the frame)
    const inner = Array.from(p.f0).slice(4, -4);
    const voiced = Array.from(p.voicing).slice(4, -4);
    expect(Math.min(...voiced)).toBeGreaterThan(0.5);
    expect(Math.abs(median(inner) - f0) / f0).toBeLessThan(0.02);
    for (const f of inner) expect(Math.abs(f - f0) / f0).toBeLessThan(0.02);
  });

  it('octaveTolerance 0 is the plain argmax (the prototype), which may pick a multiple of the period', () => {
    const y = harmonicTone(330, 22050, 1);
    const guarded = pitchTrack(y, 22050);
    const plain = pitchTrack(y, 22050, { octaveTolerance: 0 });
    expect(median(Array.from(guarded.f0).slice(4, -4))).toBeCloseTo(330, 0);
    expect(median(Array.from(plain.f0).slice(4, -4))).toBeCloseTo(66, 0); // 5 periods: peaks are all ≈ 1
    expect(Math.max(...Array.from(plain.voicing))).toBeGreaterThanOrEqual(Math.max(...Array.from(guarded.voicing)));
  });

  it('gives low voicing on white noise and rejects a bad frame length', () => {
    let s = 1;
    const y = Float32Array.from({ length: 16000 }, () => ((s = (s * 48271) % 2147483647) / 2147483647) - 0.5);
    const p = pitchTrack(y, 16000);
    expect(median(Array.from(p.voicing))).toBeLessThan(0.5);
    expect(() => pitchTrack(y, 16000, { frameLength: 1000 })).toThrow(/power of two/);
  });

  it('rms is that of the mean-removed frame', () => {
    const y = new Float32Array(8192).fill(0.25);
    for (let i = 0; i < y.length; i += 2) y[i] = 0.75; // mean 0.5, deviation ±0.25
    const p = pitchTrack(y, 16000);
    expect(p.rms[8]).toBeCloseTo(0.25, 6);
  });
});

// 2 bands × 5 frames, hand-computed statistics
const SPEC: Spectrogram = { data: Float32Array.from([0, -10, -20, -10, 0, -20, -20, -20, -20, -20]), nMels: 2, frames: 5 };
const PITCH = {
  f0: Float32Array.from([100, 200, 100, 200, 100]),
  voicing: new Float32Array(5).fill(0.9),
  rms: Float32Array.from([1, 0.1, 1, 0.1, 1]),
  threshold: 0.5,
};

describe('utteranceStats', () => {
  it('has 6 × bands + 13 values', () => {
    expect(utteranceStatsLength(32)).toBe(205);
    expect(utteranceStats(SPEC, PITCH, { bands: 2 }).length).toBe(25);
    const big: Spectrogram = { data: new Float32Array(128 * 5).map((_, i) => -(i % 37)), nMels: 128, frames: 5 };
    expect(utteranceStats(big, PITCH).length).toBe(205);
    expect(utteranceStats(big, PITCH, { bands: 16 }).length).toBe(109);
  });

  it('gives the hand-computed values on a tiny spectrogram (no level normalisation)', () => {
    const v = Array.from(utteranceStats(SPEC, PITCH, { bands: 2, levelNorm: 'none' }));
    // band blocks: mean, std, p10, p90, mean|delta|, std delta (band 0, band 1)
    const expected = [-8, -20, Math.sqrt(56), 0, -16, -20, 0, -20, 3.6, 0, Math.sqrt(16.4), 0];
    expected.forEach((e, i) => expect(v[i]).toBeCloseTo(e, 4));
    const a = Math.log2(100);
    const pe = [Math.sqrt(0.24), 0, 1, 1, 1, 1, 1, 1, -8, Math.sqrt(96), -20, a, 5 / 86];
    pe.forEach((e, i) => expect(v[12 + i]).toBeCloseTo(e, 3));
  });

  it('p95 level normalisation makes the statistics independent of a dB offset', () => {
    const shifted: Spectrogram = { ...SPEC, data: SPEC.data.map((x) => x - 7) };
    const a = utteranceStats(SPEC, PITCH, { bands: 2 });
    const b = utteranceStats(shifted, PITCH, { bands: 2 });
    a.forEach((x, i) => expect(b[i]).toBeCloseTo(x, 4));
    const raw = utteranceStats(shifted, PITCH, { bands: 2, levelNorm: 'none' });
    expect(raw[0]).toBeCloseTo(-15, 4);
    expect(a[0]).toBeCloseTo(-8 - percentile([0, -10, -20, -10, 0, -20, -20, -20, -20, -20], 95), 4);
  });

  it('uses only active frames (within 40 dB of the loudest), all frames when fewer than 5', () => {
    const T = 8;
    const data = new Float32Array(T).fill(0);
    data[7] = -60; // one silent frame out of 8
    const spec: Spectrogram = { data, nMels: 1, frames: T };
    const p = { f0: new Float32Array(T).fill(150), voicing: new Float32Array(T), rms: new Float32Array(T).fill(1), threshold: 0.5 };
    const v = utteranceStats(spec, p, { bands: 1, levelNorm: 'none' });
    expect(v[0]).toBeCloseTo(0, 6); // mean over the 7 active frames
    expect(v[6 + 7]).toBeCloseTo(7 / 8, 6); // active fraction
    expect(v[6 + 11]).toBeCloseTo(Math.log2(150), 6); // unvoiced: 150 Hz fallback
  });

  it('melWarp 1 is the identity, and warp scales F0 statistics by the factor', () => {
    const w = melWarp(SPEC, 1);
    expect(Array.from(w.data)).toEqual(Array.from(SPEC.data));
    expect(Array.from(utteranceStats(SPEC, PITCH, { bands: 2, melWarp: 1 }))).toEqual(Array.from(utteranceStats(SPEC, PITCH, { bands: 2 })));
    const up = utteranceStats(SPEC, PITCH, { bands: 2, melWarp: 2 });
    expect(up[12 + 11]).toBeCloseTo(Math.log2(200), 5); // median log2 F0 + 1 octave
    expect(up[12]).toBeCloseTo(Math.sqrt(0.24), 5); // spread unchanged
  });

  it('melWarp interpolates the mel axis (band i takes band i / factor)', () => {
    const ramp: Spectrogram = { data: Float32Array.from([0, 10, 20, 30]), nMels: 4, frames: 1 };
    expect(Array.from(melWarp(ramp, 2).data)).toEqual([0, 5, 10, 15]);
    expect(Array.from(melWarp(ramp, 0.5).data)).toEqual([0, 20, 30, 30]);
  });

  it('poolBands averages adjacent bands and refuses a non-divisor', () => {
    const s: Spectrogram = { data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), nMels: 4, frames: 2 };
    expect(Array.from(poolBands(s, 2).data)).toEqual([2, 3, 6, 7]);
    expect(() => poolBands(s, 3)).toThrow(/statsBands/);
  });
});

describe('modulationStats', () => {
  // 8 bands (one per group), 256 frames at 100 frames/s: the zero-padded transform is 256 points, bins 0.39 Hz apart
  const T = 256, fr = 100;
  const spec = (f: (b: number, t: number) => number): Spectrogram => {
    const data = new Float32Array(8 * T);
    for (let b = 0; b < 8; b++) for (let t = 0; t < T; t++) data[b * T + t] = f(b, t);
    return { data, nMels: 8, frames: T };
  };
  const frameMax = (L: Spectrogram): Float64Array => Float64Array.from({ length: T }, (_, t) => Math.max(...Array.from({ length: 8 }, (_, b) => L.data[b * T + t]!)));
  const all = Array.from({ length: T }, (_, t) => t);

  it('puts a band envelope moving at f Hz into the octave holding f, as log10(share + 1e-4)', () => {
    // group g's level swings ±6 dB at 0.75 · 2^g Hz (groups 0–5 land in octave bands 0–5; groups 6, 7 are flat)
    const L = spec((b, t) => -20 + (b < 6 ? 6 * Math.sin((2 * Math.PI * 0.75 * 2 ** b * t) / fr) : 0));
    const v = modulationStats(L, frameMax(L), all, fr);
    expect(v.length).toBe(8 * 6 + 8);
    for (let g = 0; g < 6; g++) {
      const row = Array.from(v.subarray(g * 6, g * 6 + 6));
      expect(row.indexOf(Math.max(...row))).toBe(g);
      expect(row[g]).toBeGreaterThan(Math.log10(0.8)); // most of the 0.5–32 Hz energy (a 2.56 s Hann window leaks the rest)
    }
    // a flat envelope has no modulation energy: every share is log10(0 + 1e-4)
    for (let j = 0; j < 6; j++) expect(v[6 * 6 + j]).toBeCloseTo(-4, 4);
    expect(MODULATION_EDGES_HZ).toEqual([0.5, 1, 2, 4, 8, 16, 32]);
  });

  it('level change spread: 0 for a ramp, 10 for a 0, 0, 10, 10, … square wave, over active frames from t = 2', () => {
    const L = spec((b, t) => (b === 0 ? 0.5 * t : b === 1 ? (t % 4 < 2 ? 0 : 10) : -30));
    const v = modulationStats(L, frameMax(L), all, fr);
    expect(v[48]).toBeCloseTo(0, 9);
    // 254 changes from t = 2: 128 of +10 and 126 of −10
    expect(v[49]).toBeCloseTo(Math.sqrt(100 - (20 / 254) ** 2), 9);
    expect(v[50]).toBe(0);
    // only active frames count: frames 2–9 of the square wave alone give changes 10, 10, −10, −10, 10, 10, −10, −10
    expect(modulationStats(L, frameMax(L), all.slice(0, 10), fr)[49]).toBeCloseTo(10, 9);
  });

  it('is part of utteranceStats only when asked, and needs a frame rate and bands divisible by 8', () => {
    const big: Spectrogram = { data: new Float32Array(128 * 40).map((_, i) => -((i * 7) % 37)), nMels: 128, frames: 40 };
    const pitch40 = { f0: new Float32Array(40).fill(150), voicing: new Float32Array(40).fill(0.9), rms: new Float32Array(40).fill(0.1), threshold: 0.5 };
    const plain = utteranceStats(big, pitch40);
    const withMod = utteranceStats(big, pitch40, { modulation: true, frameRate: 86 });
    expect(utteranceStatsLength(32, true)).toBe(205 + 48 + 32);
    expect(withMod.length).toBe(285);
    expect(Array.from(withMod.subarray(0, 205))).toEqual(Array.from(plain));
    expect(() => utteranceStats(big, pitch40, { modulation: true })).toThrow(/frameRate/);
    expect(() => utteranceStats(big, pitch40, { modulation: true, frameRate: 86, bands: 4 })).toThrow(/divisible by 8/);
  });
});

describe('extractFeatures representation utterance-stats', () => {
  const audio = { samples: harmonicTone(200, 16000, 0.8), sampleRate: 16000, channels: 1, source: 'tone' };
  const p = featureParams({ preprocess: 'none', representation: 'utterance-stats' });

  it('returns one 205-value column; melWarp 1 equals the default', () => {
    const s = extractFeatures(audio, p);
    expect(s.nMels).toBe(205);
    expect(s.frames).toBe(1);
    expect(s.data.every(Number.isFinite)).toBe(true);
    expect(s.data[192 + 11]).toBeCloseTo(Math.log2(200), 2); // median log2 F0
    expect(Array.from(extractFeatures(audio, { ...p, melWarp: 1 }).data)).toEqual(Array.from(s.data));
    expect(extractFeatures(audio, { ...p, statsBands: 16 }).nMels).toBe(109);
    const m = extractFeatures(audio, { ...p, statsModulation: true });
    expect(m.nMels).toBe(285);
    expect(Array.from(m.data.subarray(0, 205))).toEqual(Array.from(s.data));
  });

  it('featureKey: unchanged for log-mel params, distinct for stats options and warps', () => {
    const base = featureKey(featureParams());
    expect(base).not.toMatch(/repr|warp/);
    expect(featureKey(featureParams({ melWarp: 1 }))).toBe(base);
    const keys = new Set([featureKey(p), featureKey({ ...p, statsBands: 16 }), featureKey({ ...p, statsLevelNorm: 'none' }), featureKey({ ...p, melWarp: 1.1 }), featureKey({ ...p, statsModulation: true }), base]);
    expect(keys.size).toBe(6);
    expect(featureKey({ ...p, statsModulation: false })).toBe(featureKey(p));
  });

  it('validateFeatureParams names the bad new field', () => {
    expect(() => validateFeatureParams({ ...p, statsBands: 3 })).toThrow(/statsBands/);
    expect(() => validateFeatureParams({ ...p, melWarp: 0 })).toThrow(/melWarp/);
    expect(() => validateFeatureParams({ ...p, representation: 'mfcc' as never })).toThrow(/representation/);
    expect(() => validateFeatureParams({ ...p, statsLevelNorm: 'cmvn' as never })).toThrow(/statsLevelNorm/);
    expect(() => validateFeatureParams({ ...p, statsModulation: 1 as never })).toThrow(/statsModulation/);
    expect(() => validateFeatureParams({ ...p, statsModulation: true, statsBands: 4 })).toThrow(/statsModulation/);
  });
});

describe('noiseFloor', () => {
  it('is 1 + the mean band p10 (dB re p95) / 40, read from the p10 block of the vector', () => {
    for (const modulation of [false, true]) {
      const v = new Float32Array(utteranceStatsLength(32, modulation)).fill(-99);
      for (let b = 0; b < 32; b++) v[64 + b] = b < 16 ? -30 : -10;
      expect(noiseFloor(v, 32)).toBeCloseTo(1 + -20 / 40, 12);
    }
    expect(() => noiseFloor(new Float32Array(10), 32)).toThrow(/statistics vector/);
  });
  it('rises when steady noise fills the pauses of speech-like audio, and exists only for p95-normalised statistics', () => {
    const sr = 16000;
    // 0.4 s voiced bursts separated by 0.3 s of silence, then the same with white noise 10 dB below the bursts' level
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const clean = Float32Array.from({ length: 2 * sr }, (_, i) => {
      const t = i / sr;
      if (t % 0.7 > 0.4) return 0;
      let v = 0;
      for (let h = 1; h <= 8; h++) v += Math.sin(2 * Math.PI * 140 * h * t) / h;
      return 0.2 * v;
    });
    let p = 0, n = 0;
    for (const x of clean) if (x !== 0) { p += x * x; n++; }
    const noiseRms = Math.sqrt(p / n) * 10 ** (-10 / 20);
    const noisy = Float32Array.from(clean, (x) => x + noiseRms * Math.sqrt(3) * rand());
    const params = featureParams({ sampleRate: 16000, nFft: 1024, winLength: 743, hopLength: 186, fmax: 8000, preprocess: 'none', representation: 'utterance-stats', statsBands: 32, statsLevelNorm: 'p95' });
    const floor = (y: Float32Array) => noiseFloorOf(extractFeatures({ samples: y, sampleRate: sr, channels: 1, source: 't' }, params), params)!;
    expect(floor(noisy) - floor(clean)).toBeGreaterThan(0.2);
    expect(floor(noisy)).toBeLessThan(1);
    expect(noiseFloorOf(extractFeatures({ samples: clean, sampleRate: sr, channels: 1, source: 't' }, { ...params, statsLevelNorm: 'none' }), { ...params, statsLevelNorm: 'none' })).toBeNull();
    expect(noiseFloorOf({ data: new Float32Array(128 * 10), nMels: 128, frames: 10 }, featureParams({}))).toBeNull();
  });
});
