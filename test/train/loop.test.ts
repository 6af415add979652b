import { describe, expect, it } from 'vitest';
import { mkdtempSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train, CHECKPOINT_FILE } from '../../src/train/loop.js';
import { applyOverrides, getRecipe, type Recipe } from '../../src/train/recipes.js';
import { linearTrainerFactory, toyData } from './helpers.js';

const noSave = async (): Promise<void> => undefined;

function toyRecipe(overrides: Partial<Recipe> = {}): Recipe {
  const base = getRecipe('ser-best');
  return applyOverrides({ ...base, name: 'toy', arch: 'linear', batchSize: 4, lr: 0.01, epochs: 4, ...overrides }, {});
}

async function stateOf(r: Awaited<ReturnType<typeof train>>): Promise<number[]> {
  const s = (await r.trainer.getState()) as { W: Float32Array; b: Float32Array };
  return [...s.W, ...s.b];
}

describe('train loop (pure-JS trainer)', () => {
  const data = toyData();
  const val = toyData(3, 3, 8, 99);

  it('learns the toy task and writes log, curves and metadata', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-loop-'));
    try {
      const rec = toyRecipe({ epochs: 6, onlineAugment: null, mixup: null, labelSmoothing: 0, normalization: 'none', lr: 0.002 });
      const epochs: number[] = [];
      const r = await train(rec, data, { out, valData: val, createTrainer: linearTrainerFactory, progress: false, onEpoch: (e) => void epochs.push(e.epoch) });
      expect(epochs).toEqual([1, 2, 3, 4, 5, 6]);
      expect(r.history[5]!.val!.accuracy).toBe(1);
      expect(existsSync(join(out, CHECKPOINT_FILE))).toBe(true);
      const log = JSON.parse(readFileSync(join(out, 'log.json'), 'utf8'));
      expect(log.history).toHaveLength(6);
      expect(readFileSync(join(out, 'training-curves.svg'), 'utf8')).toMatch(/^<svg/);
      const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
      expect(meta.labels).toEqual(['c0', 'c1', 'c2']);
      expect(meta.recipe.name).toBe('toy');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('4 epochs straight == 2 epochs + resume 2 (augmentation + mixup on)', async () => {
    const rec = toyRecipe({ earlyStopping: { patience: null, monitor: 'accuracy' } });
    const a = await train(rec, data, { createTrainer: linearTrainerFactory, progress: false, seed: 7, saveModel: noSave });
    const out = mkdtempSync(join(tmpdir(), 'ser-resume-'));
    try {
      const first = await train(rec, data, { out, createTrainer: linearTrainerFactory, progress: false, seed: 7, stopAfterEpochs: 2, saveModel: noSave });
      expect(first.epochsRun).toBe(2);
      const b = await train(rec, data, { out, resume: true, createTrainer: linearTrainerFactory, progress: false, seed: 7, saveModel: noSave });
      expect(b.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
      expect(await stateOf(b)).toEqual(await stateOf(a));
      expect(b.history.map((h) => h.loss)).toEqual(a.history.map((h) => h.loss));
      // a different seed gives different weights (the test can fail)
      const c = await train(rec, data, { createTrainer: linearTrainerFactory, progress: false, seed: 8, saveModel: noSave });
      expect(await stateOf(c)).not.toEqual(await stateOf(a));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('resume refuses a checkpoint of another seed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ser-resume-'));
    try {
      const rec = toyRecipe({ epochs: 1 });
      await train(rec, data, { out, createTrainer: linearTrainerFactory, progress: false, seed: 1, saveModel: noSave });
      await expect(train(rec, data, { out, resume: true, createTrainer: linearTrainerFactory, progress: false, seed: 2, saveModel: noSave })).rejects.toThrow(/seed 1, not 'toy' seed 2/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('early stopping on validation keeps the best-validation weights', async () => {
    // validation labels are shuffled so accuracy cannot keep improving → stops after `patience` epochs
    const badVal = { ...val, labels: val.labels.map((l) => (l + 1) % 3) };
    const rec = toyRecipe({ epochs: 30, earlyStopping: { patience: 2, monitor: 'accuracy' }, onlineAugment: null, mixup: null });
    const r = await train(rec, data, { valData: badVal, createTrainer: linearTrainerFactory, progress: false, saveModel: noSave });
    expect(r.stoppedEarly).toBe(true);
    expect(r.epochsRun).toBeLessThan(30);
    const best = Math.max(...r.history.map((h) => h.val!.accuracy));
    expect(r.history.find((h) => h.epoch === r.selectedEpoch)!.val!.accuracy).toBe(best);
    expect(r.epochsRun - r.selectedEpoch).toBe(2);
  });

  it('expands the data with offline augmented copies', async () => {
    const rec = toyRecipe({ epochs: 1, offlineAugment: { ...getRecipe('seed-cnn4-aug').offlineAugment!, copies: 2 } });
    const r = await train(rec, data, { createTrainer: linearTrainerFactory, progress: false, saveModel: noSave });
    expect((r.metadata.data as { trainWithAugmentation: number }).trainWithAugmentation).toBe(data.specs.length * 3);
  });
});
