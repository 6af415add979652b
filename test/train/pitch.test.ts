import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandOffline } from '../../src/train/loop.js';
import { getRecipe } from '../../src/train/recipes.js';
import { pitchShiftSource } from '../../src/train/dataset.js';
import { featureParams } from '../../src/features/params.js';
import { toyData, wavBytes } from './helpers.js';

describe('offline augmentation with waveform pitch shift', () => {
  it('uses the audio-based source for the pitch op (and is deterministic)', async () => {
    const r = getRecipe('seed-cnn4-aug');
    r.offlineAugment = { ...r.offlineAugment!, copies: 2, p: 1, noiseStd: 0, freqMask: [0, 0], timeMask: [0, 0], pitchShift: 'waveform' };
    const data = toyData(2, 3, 8, 4);
    const calls: Array<[number, number]> = [];
    const source = async (i: number, st: number) => {
      calls.push([i, st]);
      return { nMels: 8, frames: 5, data: new Float32Array(40).fill(i + st) };
    };
    const a = await expandOffline(data, r, 3, source);
    expect(a.specs).toHaveLength(18);
    expect(calls.length).toBeGreaterThan(0);
    for (const [, st] of calls) expect(st * 2).toBe(Math.round(st * 2)); // rounded to 0.5
    for (const [i, st] of calls) {
      expect(Math.abs(st)).toBeLessThanOrEqual(4);
      expect(i).toBeLessThan(6);
    }
    // the shifted copies are the source's output
    expect(a.specs.slice(6).some((s) => s.frames === 5)).toBe(true);
    const b = await expandOffline(data, r, 3, source);
    expect(b.specs.map((s) => Array.from(s.data))).toEqual(a.specs.map((s) => Array.from(s.data)));
    // without a source the mel axis is warped instead (no call)
    const before = calls.length;
    await expandOffline(data, r, 3);
    expect(calls.length).toBe(before);
  });

  it('pitchShiftSource: +12 semitones moves a tone\'s energy an octave up', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-pitch-'));
    try {
      const sr = 8000;
      const y = new Float32Array(sr / 2);
      for (let t = 0; t < y.length; t++) y[t] = 0.5 * Math.sin((2 * Math.PI * 500 * t) / sr);
      const path = join(tmp, 'tone.wav');
      writeFileSync(path, wavBytes(y, sr));
      const params = featureParams({ preprocess: 'none', nMels: 40, nFft: 512, hopLength: 128, fmax: 4000 });
      const src = pitchShiftSource([{ path }], params, join(tmp, 'cache'));
      const peakBand = (s: { data: Float32Array; nMels: number; frames: number }) => {
        const t = Math.floor(s.frames / 2);
        let best = 0;
        for (let m = 1; m < s.nMels; m++) if (s.data[m * s.frames + t]! > s.data[best * s.frames + t]!) best = m;
        return best;
      };
      const { melFrequencies } = await import('../../src/features/mel.js');
      const centres = melFrequencies(42, 0, 4000).slice(1, 41);
      const f0 = centres[peakBand(await src(0, 0))]!;
      const f12 = centres[peakBand(await src(0, 12))]!;
      expect(f0).toBeGreaterThan(400);
      expect(f0).toBeLessThan(620);
      expect(f12 / f0).toBeGreaterThan(1.7);
      expect(f12 / f0).toBeLessThan(2.3);
      // second call comes from the cache, same values
      expect(Array.from((await src(0, 12)).data)).toEqual(Array.from((await src(0, 12)).data));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
