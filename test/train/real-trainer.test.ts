import { describe, expect, it } from 'vitest';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/train/loop.js';
import { getRecipe } from '../../src/train/recipes.js';
import { toyData } from './helpers.js';

function weightsOf(s: unknown): number[] {
  return (s as { weights: Float32Array[] }).weights.flatMap((w) => Array.from(w));
}

describe('train loop with the real tfjs trainer (tiny cnn3)', () => {
  it('4 epochs straight == 2 + resume 2, and writes a model folder', async () => {
    const recipe = getRecipe('seed-cnn3', { epochs: 4, batchSize: 4 });
    recipe.archOptions = { channels: [2, 4, 4] };
    const data = toyData(3, 4, 8, 3);
    const a = await train(recipe, data, { progress: false, seed: 5, saveModel: async () => undefined });
    const wa = weightsOf(await a.trainer.getState());
    a.trainer.dispose();
    const out = mkdtempSync(join(tmpdir(), 'ser-real-'));
    try {
      const first = await train(recipe, data, { out, progress: false, seed: 5, stopAfterEpochs: 2 });
      first.trainer.dispose();
      const b = await train(recipe, data, { out, progress: false, seed: 5, resume: true });
      expect(weightsOf(await b.trainer.getState())).toEqual(wa);
      b.trainer.dispose();
      expect(existsSync(join(out, 'model.json'))).toBe(true);
      expect(existsSync(join(out, 'weights.bin'))).toBe(true);
      expect(existsSync(join(out, 'metadata.json'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
