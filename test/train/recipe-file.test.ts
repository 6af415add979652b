import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECIPES, getRecipe, loadRecipeFile, memberSeeds, parseRecipe, patchRecipe, recipeNames, resolveRecipe } from '../../src/train/recipes.js';
import { recipeVariants } from '../../src/cli/commands/evaluate.js';
import { runTrain } from '../../src/cli/commands/train.js';
import { Classifier } from '../../src/infer/classifier.js';
import { writeToyCorpus } from './helpers.js';

describe('recipes as JSON files', () => {
  it('every built-in recipe survives JSON and parses back to itself', () => {
    for (const name of recipeNames()) expect(parseRecipe(JSON.parse(JSON.stringify(RECIPES[name])), `${name}.json`)).toEqual(getRecipe(name));
  });

  it('"extends" a built-in: objects merge field by field, the rest replaces', () => {
    const r = parseRecipe({ extends: 'ser-best', lr: 0.0005, optimizer: { weightDecay: 0.05 }, onlineAugment: null, name: 'mine' }, 'mine.json');
    const base = getRecipe('ser-best');
    expect(r).toEqual({ ...base, name: 'mine', lr: 0.0005, optimizer: { ...base.optimizer, weightDecay: 0.05 }, onlineAugment: null });
    expect(parseRecipe({ extends: 'seed-cnn3' }, 'dir/quick.json').name).toBe('seed-cnn3+quick');
  });

  it('--candidates patches merge at every depth, as recipe files do: adding one channel op keeps the others', () => {
    const base = getRecipe('ser-robust');
    const clip = { p: 0.2, headroomDb: [3, 15], soft: 0.5 };
    const [a, b, c] = recipeVariants(base, JSON.stringify([
      { name: 'clip', offlineAugment: { channel: { clip } } },
      { name: 'none', offlineAugment: { channel: null } },
      { name: 'wide', archOptions: { hidden: 256 }, features: { statsModulation: false } },
    ]));
    expect(a).toEqual({ ...base, name: 'clip', offlineAugment: { ...base.offlineAugment!, channel: { ...base.offlineAugment!.channel!, clip } } });
    expect(b).toEqual({ ...base, name: 'none', offlineAugment: { ...base.offlineAugment!, channel: null } });
    expect(c).toEqual({ ...base, name: 'wide', archOptions: { ...base.archOptions, hidden: 256 }, features: { ...base.features, statsModulation: false } });
    expect(() => patchRecipe(base, { name: 'typo', offlineAugment: { channel: { clipping: clip } } }, '--candidates[0] (typo)')).toThrow(
      /--candidates\[0\] \(typo\): offlineAugment\.channel\.clipping is not a field of offlineAugment\.channel/,
    );
  });

  it('clear errors naming the file and the field', () => {
    const err = (v: unknown) => {
      try {
        parseRecipe(v, 'r.json');
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(err([1])).toBe('recipe/invalid: r.json: the recipe must be a JSON object');
    expect(err({ extends: 'nope' })).toMatch(/^recipe\/invalid: r\.json: extends 'nope' is not a built-in recipe \(known: seed-cnn3, /);
    expect(err({ extends: 'seed-cnn3', learningRate: 1 })).toMatch(/^recipe\/invalid: r\.json: learningRate is not a recipe field/);
    expect(err({ name: 'x' })).toMatch(/^recipe\/invalid: r\.json: description is missing/);
    expect(err({ extends: 'seed-cnn3', lr: '0.1' })).toBe('recipe/invalid: r.json: lr must be number, got "0.1"');
    expect(err({ extends: 'seed-cnn3', batchSize: 2.5 })).toBe('recipe/invalid: r.json: batchSize must be integer, got 2.5');
    expect(err({ extends: 'seed-cnn3', arch: 'cnn9' })).toMatch(/^recipe\/invalid: r\.json: arch unknown architecture 'cnn9'/);
    expect(err({ extends: 'seed-cnn3', input: { mode: 'fixed' } })).toBe('recipe/invalid: r.json: input.mode must be one of "variable", "resized", got "fixed"');
    expect(err({ extends: 'seed-cnn3', optimizer: { name: 'sgd' } })).toBe('recipe/invalid: r.json: optimizer.name must be one of "adam", "adamw", got "sgd"');
    expect(err({ extends: 'seed-cnn3', features: { nMel: 64 } })).toMatch(/^recipe\/invalid: r\.json: features\.nMel is not a field of features/);
    expect(err({ extends: 'seed-cnn3', features: { nFft: 1000 } })).toMatch(/^recipe\/invalid: r\.json: features .*nFft/);
    expect(err({ extends: 'seed-cnn3', epochs: 0 })).toMatch(/^recipe\/invalid: r\.json: the recipe .*epochs must be a positive integer, got 0/);
    expect(err({ extends: 'seed-cnn4-aug', offlineAugment: { freqMask: [10] } })).toBe('recipe/invalid: r.json: offlineAugment.freqMask must be [lo, hi], got [10]');
    expect(err({ extends: 'ser-best', onlineAugment: { wobble: { p: 1 } } })).toMatch(/^recipe\/invalid: r\.json: onlineAugment\.wobble is not a field of onlineAugment/);
    expect(err({ extends: 'ser-robust', offlineAugment: { channel: { clipping: { p: 1 } } } })).toMatch(
      /^recipe\/invalid: r\.json: offlineAugment\.channel\.clipping is not a field of offlineAugment\.channel \(fields: reverb, eq, device, noise, babble, clip, telephone/,
    );
    expect(err({ extends: 'ser-robust', ensembleCopies: 'each' })).toBe('recipe/invalid: r.json: ensembleCopies must be one of "shared", "member", got "each"');
    expect(err({ extends: 'ser-robust', testWarps: 1 })).toBe('recipe/invalid: r.json: testWarps must be array or absent, got 1');
    expect(err({ extends: 'ser-robust', testWarps: [0.9, 1.1] })).toMatch(/^recipe\/invalid: r\.json: .*testWarps must include 1 \(the plain features\), got \[0\.9,1\.1\]/);
    expect(err({ extends: 'ser-robust', testWarps: [1, 0] })).toMatch(/testWarps must be a non-empty list of positive warp factors, got \[1,0\]/);
    expect(err({ extends: 'ser-stats', testWarps: [1] })).toBe('no error');
    expect(err({ extends: 'seed-cnn3', testWarps: [1] })).toMatch(/testWarps needs utterance-stats features \(features\.representation\), not 'logmel'/);
  });

  it("memberSeeds: members' weight seeds count up; their copies' seed is shared unless ensembleCopies is 'member'", () => {
    const shared = getRecipe('ser-robust');
    const member = parseRecipe({ extends: 'ser-robust', ensembleCopies: 'member' }, 'm.json');
    expect([0, 1, 2].map((k) => memberSeeds(shared, 42, k))).toEqual([{ seed: 42, augmentSeed: 42 }, { seed: 43, augmentSeed: 42 }, { seed: 44, augmentSeed: 42 }]);
    expect(memberSeeds(parseRecipe({ extends: 'ser-robust', ensembleCopies: 'shared' }, 's.json'), 7, 2)).toEqual({ seed: 9, augmentSeed: 7 });
    expect([0, 1, 2].map((k) => memberSeeds(member, 42, k))).toEqual([{ seed: 42, augmentSeed: 42 }, { seed: 43, augmentSeed: 43 }, { seed: 44, augmentSeed: 44 }]);
  });

  it('files: not found, bad JSON, and resolveRecipe by name or path with overrides', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-recipe-'));
    try {
      expect(() => loadRecipeFile(join(tmp, 'none.json'))).toThrow(expect.objectContaining({ code: 'recipe/not-found' }));
      writeFileSync(join(tmp, 'bad.json'), '{ "extends": ');
      expect(() => loadRecipeFile(join(tmp, 'bad.json'))).toThrow(expect.objectContaining({ code: 'recipe/bad-json' }));
      writeFileSync(join(tmp, 'mine.json'), JSON.stringify({ extends: 'seed-cnn4', name: 'mine', epochs: 7 }));
      expect(resolveRecipe(join(tmp, 'mine.json'), { lr: 0.01 })).toEqual({ ...getRecipe('seed-cnn4'), name: 'mine', epochs: 7, lr: 0.01 });
      expect(resolveRecipe('seed-cnn4', { epochs: 3 })).toEqual(getRecipe('seed-cnn4', { epochs: 3 }));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('ser train --recipe FILE.json trains that recipe and stores it in the model metadata', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-recipe-train-'));
    try {
      const data = join(tmp, 'corpus');
      mkdirSync(data);
      writeToyCorpus(data, (p, b) => writeFileSync(p, b), [1], 2);
      const file = join(tmp, 'tiny.json');
      const recipe = { extends: 'seed-cnn3', name: 'tiny', epochs: 1, batchSize: 4, valFraction: 0,
        features: { preprocess: 'none', nMels: 16, nFft: 256, hopLength: 64, fmax: 4000 }, archOptions: { channels: [2, 2, 2] } };
      writeFileSync(file, JSON.stringify(recipe));
      await runTrain({ data, recipe: file, out: join(tmp, 'model'), seed: 1, cache: join(tmp, 'cache'), backend: 'cpu', threads: 1, progress: false });
      const meta = JSON.parse(readFileSync(join(tmp, 'model', 'metadata.json'), 'utf8')) as { recipe: { name: string; epochs: number; archOptions: unknown }; featureParams: { nMels: number } };
      expect(meta.recipe.name).toBe('tiny');
      expect(meta.recipe.epochs).toBe(1);
      expect(meta.recipe.archOptions).toEqual({ edges: 'floor', channels: [2, 2, 2] }); // merged into seed-cnn3's own
      expect(meta.featureParams.nMels).toBe(16);
      // test-time warps go into the metadata, and the saved model predicts with them
      const tta = join(tmp, 'tta.json');
      writeFileSync(tta, JSON.stringify({ extends: 'ser-stats', name: 'tta', epochs: 1, offlineAugment: null, testWarps: [0.95, 1, 1.05] }));
      await runTrain({ data, recipe: tta, out: join(tmp, 'tta'), seed: 1, cache: join(tmp, 'cache'), backend: 'cpu', threads: 1, progress: false });
      expect(JSON.parse(readFileSync(join(tmp, 'tta', 'metadata.json'), 'utf8')).testWarps).toEqual([0.95, 1, 1.05]);
      const clf = await Classifier.load(join(tmp, 'tta'));
      expect(clf.testWarps).toEqual([0.95, 1, 1.05]);
      const wav = readdirSync(data).find((f) => f.endsWith('.wav'))!;
      expect(Object.keys((await clf.predictFile(join(data, wav))).probabilities)).toHaveLength(5);
      clf.dispose();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
