import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { robustnessMetadata } from '../../src/cli/commands/train.js';
import { getRecipe } from '../../src/train/recipes.js';

describe('ser train --robustness: the report must be of the same configuration', () => {
  it('compares configurations by meaning: a patch\'s "wet": null is the recipe without wet; another DRR range is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-robmeta-'));
    try {
      const recipe = getRecipe('ser-robust');
      const reportWith = (reverb: Record<string, unknown>): string => {
        const configuration = { ...recipe, name: 'ser-robust-drr', offlineAugment: { ...recipe.offlineAugment!, channel: { ...recipe.offlineAugment!.channel!, reverb } } };
        const path = join(dir, `r${Math.random()}.json`);
        writeFileSync(path, JSON.stringify({
          mode: 'loso', labels: ['a', 'b'], recipe: 'ser-robust', configuration, files: 10,
          conditions: [{ condition: 'original', n: 10, accuracy: 0.6, uar: 0.6, ece: 0.05, perFold: [{ fold: '1', n: 10, accuracy: 0.6, uar: 0.6 }] }],
          calibration: { method: 'temperature', temperature: 2 },
        }));
        return path;
      };
      const meta = robustnessMetadata(reportWith({ p: 0.3, rt60: [0.2, 1], wet: null, drrDb: [-18, 12] }), recipe);
      expect(meta.calibration).toMatchObject({ temperature: 2 });
      expect(() => robustnessMetadata(reportWith({ p: 0.3, rt60: [0.2, 1], wet: null, drrDb: [-12, 12] }), recipe)).toThrow(/configuration 'ser-robust-drr', which differs from recipe 'ser-robust'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
