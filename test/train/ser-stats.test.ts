import { describe, it, expect } from 'vitest';
import { expandOffline, train, type PitchShiftSource } from '../../src/train/loop.js';
import type { TrainerFactory } from '../../src/train/trainer.js';
import { getRecipe, parseRecipe } from '../../src/train/recipes.js';
import { toLabeledSpecs } from '../../src/train/dataset.js';
import { featureStandardization } from '../../src/model/standardize.js';
import type { Spectrogram } from '../../src/features/types.js';
import { linearTrainerFactory } from './helpers.js';

const vec = (v: number[]): Spectrogram => ({ data: Float32Array.from(v), nMels: v.length, frames: 1 });
const data = { specs: [vec([1, 10]), vec([3, 30]), vec([5, 20])], labels: [0, 1, 0], labelNames: ['a', 'b'] };

describe('ser-stats recipe', () => {
  it('is the research recipe: ser-mlp on utterance stats, 4 warp copies ±0.12, Adam 3e-3, batch 64, 20 epochs', () => {
    const r = getRecipe('ser-stats');
    expect(r.arch).toBe('ser-mlp');
    expect(r.features).toMatchObject({ representation: 'utterance-stats', statsBands: 32, statsLevelNorm: 'p95', preprocess: 'none' });
    expect(r.archOptions).toMatchObject({ hidden: 64, inputDropout: 0.2, dropout: 0.5, standardize: true });
    expect(r.offlineAugment).toMatchObject({ copies: 4, melWarp: 0.12 });
    expect([r.optimizer.name, r.lr, r.batchSize, r.epochs, r.normalization]).toEqual(['adam', 0.003, 64, 20, 'none']);
  });

  it('offline melWarp copies come from the pitch source with factors in [0.88, 1.12], originals first', async () => {
    const calls: Array<[number, number]> = [];
    const source: PitchShiftSource = async (i, st) => {
      calls.push([i, st]);
      return vec([100 + i, 2 ** (st / 12)]);
    };
    const out = await expandOffline(data, getRecipe('ser-stats'), 1, source);
    expect(out.specs.length).toBe(15);
    expect(out.specs.slice(0, 3)).toEqual(data.specs);
    expect(out.labels).toEqual([0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0]);
    expect(calls.map((c) => c[0])).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    const factors = out.specs.slice(3).map((s) => s.data[1]!);
    for (const f of factors) expect(f).toBeGreaterThanOrEqual(0.88 - 1e-6), expect(f).toBeLessThanOrEqual(1.12 + 1e-6);
    expect(new Set(factors).size).toBe(12);
    // deterministic in the seed
    const again = await expandOffline(data, getRecipe('ser-stats'), 1, source);
    expect(again.specs.map((s) => s.data[1])).toEqual(out.specs.map((s) => s.data[1]));
  });

  it('with a channel, each copy\'s draws are named by the file\'s corpus id: the same wherever the corpus lies', async () => {
    const recipe = getRecipe('ser-robust');
    const draws = async (paths: string[], ids?: string[]) => {
      const items = paths.map((path, k) => ({ path, ...(ids ? { id: ids[k] } : {}), label: 'a', speaker: '1', spec: data.specs[k]! }));
      const seeds: string[] = [];
      const source: PitchShiftSource = async (i, st, ch) => { seeds.push(`${ch?.seed ?? 'warp only'}|${st}`); return vec([i, st]); };
      await expandOffline({ ...toLabeledSpecs(items, ['a', 'b']), labelNames: ['a', 'b'] }, recipe, 1, source);
      return seeds;
    };
    const ids = ['x/1.wav', 'x/2.wav', 'y/3.wav'];
    const here = await draws(['/data/c/x/1.wav', '/data/c/x/2.wav', '/data/c/y/3.wav'], ids);
    expect(await draws(['/mnt/link/x/1.wav', '/mnt/link/x/2.wav', '/mnt/link/y/3.wav'], ids)).toEqual(here);
    expect(here[0]!.startsWith('1/channel/0/x/1.wav|')).toBe(true);
    // without ids (items not from scanCorpus) the paths name them
    expect(await draws(['/mnt/link/x/1.wav', '/mnt/link/x/2.wav', '/mnt/link/y/3.wav'])).not.toEqual(here);
  });

  it('warpOnlyCopies: after the channel copies, that many copies through the warp alone (no channel), the channel copies unchanged; ser-robust has 4', async () => {
    expect(getRecipe('ser-robust').offlineAugment).toMatchObject({ copies: 8, warpOnlyCopies: 4 });
    expect(getRecipe('ser-robust').offlineAugment!.channel!.reverb).toEqual({ p: 0.3, rt60: [0.2, 1.0], drrDb: [-18, 12] });
    const robust = getRecipe('ser-robust');
    const base = { ...robust, offlineAugment: { ...robust.offlineAugment!, warpOnlyCopies: 0 } };
    const run = async (recipe: typeof base) => {
      const calls: Array<{ i: number; st: number; channel: boolean }> = [];
      const source: PitchShiftSource = async (i, st, ch) => { calls.push({ i, st, channel: ch !== undefined }); return vec([i, st]); };
      const out = await expandOffline(data, recipe, 1, source);
      return { calls, out };
    };
    const plain = await run(base);
    const mixed = await run({ ...base, offlineAugment: { ...base.offlineAugment!, warpOnlyCopies: 2 } });
    expect(mixed.out.specs).toHaveLength(3 * (1 + 8 + 2));
    expect(mixed.out.labels.slice(-6)).toEqual([0, 1, 0, 0, 1, 0]);
    expect(mixed.calls.slice(0, 24)).toEqual(plain.calls);
    expect(mixed.calls.slice(24).map((c) => [c.i, c.channel])).toEqual([[0, false], [1, false], [2, false], [0, false], [1, false], [2, false]]);
    for (const c of mixed.calls.slice(24)) expect(c.st).toBeGreaterThanOrEqual(12 * Math.log2(0.88) - 1e-9), expect(c.st).toBeLessThanOrEqual(12 * Math.log2(1.12) + 1e-9);
    expect(new Set(mixed.calls.slice(24).map((c) => c.st)).size).toBe(6);
    // a recipe file asking for them without a channel is refused
    const { melWarp: _w, ...noWarp } = base.offlineAugment!;
    expect(() => parseRecipe({ ...base, offlineAugment: { ...noWarp, warpOnlyCopies: 2 } }, 'r.json')).toThrow(/offlineAugment.warpOnlyCopies needs melWarp/);
    // without a channel every copy is the warp alone: nothing is added
    const warpOnly = await expandOffline(data, { ...base, offlineAugment: { ...base.offlineAugment!, channel: null, warpOnlyCopies: 2 } }, 1, async (i, st) => vec([i, st]));
    expect(warpOnly.specs).toHaveLength(3 * (1 + 8));
    expect(() => parseRecipe({ ...base, offlineAugment: { ...base.offlineAugment!, warpOnlyCopies: 1.5 } }, 'r.json')).toThrow(/offlineAugment.warpOnlyCopies must be an integer/);
    // the reverb op's tail level: a wet share or a DRR, exactly one
    const withReverb = (reverb: Record<string, unknown>) => ({ ...base, offlineAugment: { ...base.offlineAugment!, channel: { ...base.offlineAugment!.channel!, reverb } } });
    expect(() => parseRecipe(withReverb({ p: 0.3, rt60: [0.2, 1], wet: [0.2, 0.6], drrDb: [-18, 12] }), 'r.json')).toThrow(/reverb needs exactly one of wet and drrDb/);
    expect(() => parseRecipe(withReverb({ p: 0.3, rt60: [0.2, 1] }), 'r.json')).toThrow(/reverb needs exactly one of wet and drrDb/);
    expect(parseRecipe(withReverb({ p: 0.3, rt60: [0.2, 1], wet: null, drrDb: [-18, 12] }), 'r.json').offlineAugment!.channel!.reverb).toEqual({ p: 0.3, rt60: [0.2, 1], drrDb: [-18, 12] });
  });

  it('melWarp without a pitch source is a clear error', async () => {
    await expect(expandOffline(data, getRecipe('ser-stats'), 1)).rejects.toThrow(/melWarp.*pitchSource/);
  });

  it('standardize: the trainer is built with the mean / std of the (augmented) training set', async () => {
    let seen: Record<string, unknown> = {};
    const factory: TrainerFactory = async (spec) => {
      seen = spec.archOptions;
      return linearTrainerFactory(spec);
    };
    const source: PitchShiftSource = async (i) => data.specs[i]!;
    const r = await train(getRecipe('ser-stats', { epochs: 1 }), data, { createTrainer: factory, pitchSource: source, progress: false });
    const expected = featureStandardization(data.specs);
    expect(seen.inputMean).toEqual(expected.inputMean);
    expect(seen.inputStd).toEqual(expected.inputStd);
    expect(expected.inputMean).toEqual([3, 20]);
    expect(expected.inputStd[0]).toBeCloseTo(Math.sqrt(8 / 3), 6);
    expect((r.metadata.archOptions as Record<string, unknown>).inputMean).toEqual([3, 20]);
    expect((r.metadata.featureParams as Record<string, unknown>).representation).toBe('utterance-stats');
  });
});
