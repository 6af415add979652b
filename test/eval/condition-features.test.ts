/**
 * conditionFeatures (eval/robustness.ts): cached condition features equal freshly computed ones, whatever list the file is
 * scored in; test-time warps' views; a nested run's candidates that differ in test-time warps only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio/wav.js';
import type { CorpusItem } from '../../src/data/corpus.js';
import { conditionFeatures, losoRobustness, losoRobustnessFromPredictions, sameTraining, type LosoPredictions } from '../../src/eval/robustness.js';
import { decodeAudio } from '../../src/audio/decode.js';
import { extractFeatures } from '../../src/features/pipeline.js';
import { timeColumn } from '../../src/features/reshape.js';
import { featureParams } from '../../src/features/params.js';
import { getRecipe, type Recipe } from '../../src/train/recipes.js';
import { createRng } from '../../src/util/rng.js';

const tmp = mkdtempSync(join(tmpdir(), 'ser-condfeat-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A second of a voiced-like buzz (harmonics of f0 with a slow level contour) plus a little noise, at 16 kHz. */
function utterance(name: string, f0: number, seed: number): string {
  const sr = 16000;
  const rng = createRng(seed);
  const y = Float32Array.from({ length: sr }, (_, i) => {
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin((2 * Math.PI * f0 * h * i) / sr) / h;
    return 0.2 * v * (0.6 + 0.4 * Math.sin((2 * Math.PI * 3 * i) / sr)) + 0.01 * (rng.uniform(0, 2) - 1);
  });
  const path = join(tmp, name);
  writeFileSync(path, encodeWav(y, sr));
  return path;
}

const params = featureParams(getRecipe('ser-robust').features);
const item = (i: number, speaker: string | null): CorpusItem => ({ path: utterance(`u${i}-${speaker}.wav`, 110 + 23 * i, i), id: `u${i}-${speaker}.wav`, label: i % 2 ? 'angry' : 'sad', speaker });
const labels = ['angry', 'sad'];

describe('conditionFeatures', () => {
  const items = [item(0, '1'), item(1, '1'), item(2, '2'), item(3, '2'), item(4, '3'), item(5, '3')];
  it('babble of a file scored in a shorter list is that list\'s, also when the longer list filled the cache first', async () => {
    const cacheDir = join(tmp, 'cache');
    const full = await conditionFeatures(items, labels, params, ['original', 'babble-10db'], { cacheDir, progress: false });
    const sub = items.filter((it) => it.speaker !== '3');
    const cached = await conditionFeatures(sub, labels, params, ['original', 'babble-10db'], { cacheDir, progress: false });
    const fresh = await conditionFeatures(sub, labels, params, ['original', 'babble-10db'], { cacheDir: null, progress: false });
    const again = await conditionFeatures(items, labels, params, ['original', 'babble-10db'], { cacheDir, progress: false });
    expect(cached.skipped).toBe(0);
    for (let k = 0; k < sub.length; k++) {
      expect(Array.from(cached.data[k]!.specs.get('babble-10db')!.data)).toEqual(Array.from(fresh.data[k]!.specs.get('babble-10db')!.data));
      // original audio does not depend on the list
      expect(Array.from(cached.data[k]!.specs.get('original')!.data)).toEqual(Array.from(full.data[k]!.specs.get('original')!.data));
    }
    // the babble of speaker 1's first file differs between the lists (other talkers), and the full list's came back from the cache
    expect(Array.from(fresh.data[0]!.specs.get('babble-10db')!.data)).not.toEqual(Array.from(full.data[0]!.specs.get('babble-10db')!.data));
    expect(Array.from(again.data[0]!.specs.get('babble-10db')!.data)).toEqual(Array.from(full.data[0]!.specs.get('babble-10db')!.data));
  });
  it('without speakers, babble is made of the other files (no file skipped)', async () => {
    const anon = items.map((it) => ({ ...it, speaker: null }));
    const r = await conditionFeatures(anon, labels, params, ['babble-10db'], { cacheDir: null, progress: false });
    expect(r.skipped).toBe(0);
    expect(r.data).toHaveLength(anon.length);
  });
});

describe('test-time warps (Recipe.testWarps)', () => {
  const items = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => item(10 + i, String(1 + (i % 3))));
  const warps = [0.9, 1, 1.1];

  it('views: one column per warp, each exactly the statistics at that warp; the column at 1 is the plain features; the cache returns the same', async () => {
    const cacheDir = join(tmp, 'cache-views');
    const a = await conditionFeatures(items.slice(0, 2), labels, params, ['original', 'pink-10db'], { cacheDir, progress: false, warps });
    const b = await conditionFeatures(items.slice(0, 2), labels, params, ['original', 'pink-10db'], { cacheDir, progress: false, warps });
    const plain = await conditionFeatures(items.slice(0, 2), labels, params, ['original'], { cacheDir: null, progress: false });
    for (let k = 0; k < 2; k++) {
      const v = a.data[k]!.views!.get('original')!;
      expect(v.frames).toBe(3);
      const audio = await decodeAudio(readFileSync(items[k]!.path), items[k]!.path);
      warps.forEach((w, j) => expect(Array.from(timeColumn(v, j).data)).toEqual(Array.from(extractFeatures(audio, { ...params, melWarp: w }).data)));
      expect(Array.from(a.data[k]!.specs.get('original')!.data)).toEqual(Array.from(plain.data[k]!.specs.get('original')!.data));
      for (const c of ['original', 'pink-10db']) expect(Array.from(b.data[k]!.views!.get(c)!.data)).toEqual(Array.from(a.data[k]!.views!.get(c)!.data));
    }
    await expect(conditionFeatures(items.slice(0, 1), labels, params, ['original'], { cacheDir: null, progress: false, warps: [0.9, 1.1] })).rejects.toThrow(/must include 1/);
  });

  it('sameTraining: configurations that differ in name, description and test-time warps only train the same models', () => {
    const base = getRecipe('ser-robust');
    expect(sameTraining(base, { ...base, name: 'x', description: 'y', testWarps: warps })).toBe(true);
    expect(sameTraining(base, { ...base, ensemble: 1 })).toBe(false);
    expect(sameTraining(base, { ...base, features: { ...base.features, statsModulation: false } })).toBe(false);
  });

  it('nested LOSO: a candidate with warps [1] predicts exactly what its plain twin does; one with other warps predicts otherwise', { timeout: 120_000 }, async () => {
    const base: Recipe = { ...getRecipe('ser-robust', { epochs: 3 }), ensemble: 1 };
    delete base.testWarps; // the plain twin (the built-in has warps)
    base.offlineAugment = { ...base.offlineAugment!, copies: 1, warpOnlyCopies: 1 };
    let pred: LosoPredictions | null = null;
    const report = await losoRobustness(items, labels, params, {
      recipe: base, conditions: ['original', 'pink-10db'], cacheDir: join(tmp, 'cache-loso'), progress: false, onLog: () => undefined,
      candidates: [{ ...base, name: 'one', testWarps: [1] }, { ...base, name: 'tta', testWarps: warps }],
      onPredictions: (p) => { pred = p; },
    });
    expect(report.selection!.candidates).toEqual(['ser-robust', 'one', 'tta']);
    const inner = pred!.inner;
    let differs = false;
    for (const spk of ['1', '2', '3']) {
      for (const [inSpk, got] of Object.entries(inner['one']![spk]!)) {
        expect(got.raw).toEqual(inner['ser-robust']![spk]![inSpk]!.raw);
        if (JSON.stringify(inner['tta']![spk]![inSpk]!.raw) !== JSON.stringify(got.raw)) differs = true;
        // the calibration reads the plain features' noise floor whatever the warps
        expect(inner['tta']![spk]![inSpk]!.floors).toEqual(got.floors);
      }
    }
    expect(differs).toBe(true);
    // every configuration trained on every outer fold: those a fold did not choose only for the calibrations of the folds that did
    const names = ['ser-robust', 'one', 'tta'];
    for (const o of pred!.outer) {
      expect(Object.keys(pred!.alsoTrained!).filter((c) => pred!.alsoTrained![c]![o.fold]).sort()).toEqual(names.filter((c) => c !== o.configuration).sort());
      for (const c of names.filter((x) => x !== o.configuration)) {
        const h = pred!.alsoTrained![c]![o.fold]!;
        expect(h.files).toEqual(o.files);
        expect(Object.keys(h.raw)).toEqual(Object.keys(o.raw));
      }
      // the plain twins train the same models: where one of them was chosen, the other predicted exactly the same
      const twin = ({ 'ser-robust': 'one', one: 'ser-robust' } as Record<string, string>)[o.configuration];
      if (twin) expect(pred!.alsoTrained![twin]![o.fold]!.raw).toEqual(o.raw);
      else expect(pred!.alsoTrained!['one']![o.fold]!.raw).not.toEqual(o.raw);
    }
    // so every fold is calibrated on the other outer folds of its configuration, none on inner folds
    expect(report.calibrationSources!.folds).toEqual({ '1': 'outer', '2': 'outer', '3': 'outer' });
    const notEverywhere = names.filter((c) => pred!.outer.some((o) => o.configuration !== c));
    expect(Object.keys(report.calibrationSources!.alsoTrained!).sort()).toEqual([...notEverywhere].sort());
    // the stored predictions re-score to the run's figures
    const again = losoRobustnessFromPredictions(JSON.parse(JSON.stringify(pred!)) as LosoPredictions, {
      recipe: base, candidates: [{ ...base, name: 'one', testWarps: [1] }, { ...base, name: 'tta', testWarps: warps }],
    });
    expect(again.conditions).toEqual(report.conditions);
    expect(again.foldCalibrations).toEqual(report.foldCalibrations);
  });
});
