import { describe, expect, it } from 'vitest';
import { resizeFrames, softTargets, standardizeUtterance, standardizeBands } from '../../src/train/input.js';
import { interpolateTime, padTime } from '../../src/features/reshape.js';
import { augmentOnline, maskFrequency, maskTime, mixSpectrograms, warpMel } from '../../src/data/augment.js';
import { lengthBucketedBatches } from '../../src/train/batches.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint.js';
import { getRecipe, recipeNames, RECIPES } from '../../src/train/recipes.js';
import { createRng } from '../../src/util/rng.js';

const spec = (rows: number[][]) => ({ nMels: rows.length, frames: rows[0]!.length, data: Float32Array.from(rows.flat()) });

describe('input transforms', () => {
  it('pads on the right with zeros and interpolates longer inputs linearly', () => {
    expect(Array.from(padTime(spec([[1, 2], [3, 4]]), 4).data)).toEqual([1, 2, 0, 0, 3, 4, 0, 0]);
    // 5 frames → 3: positions 0, 2, 4
    expect(Array.from(interpolateTime(spec([[0, 1, 2, 3, 4]]), 3).data)).toEqual([0, 2, 4]);
    // 3 → 5: positions 0, .5, 1, 1.5, 2
    expect(Array.from(interpolateTime(spec([[0, 2, 4]]), 5).data)).toEqual([0, 1, 2, 3, 4]);
    expect(resizeFrames(spec([[1, 2, 3]]), 5).frames).toBe(5);
    expect(Array.from(resizeFrames(spec([[0, 1, 2, 3, 4]]), 3).data)).toEqual([0, 2, 4]);
  });

  it('standardises the whole utterance or each band', () => {
    expect(Array.from(standardizeUtterance(spec([[1, 3], [1, 3]])).data)).toEqual([-1, 1, -1, 1]);
    expect(Array.from(standardizeBands(spec([[1, 3], [10, 10]])).data)).toEqual([-1, 1, 0, 0]);
  });

  it('masks, warps by ratio 1 as identity, mixes, smooths targets', () => {
    expect(Array.from(maskTime(spec([[1, 2, 3], [4, 5, 6]]), 1, 1).data)).toEqual([1, 0, 3, 4, 0, 6]);
    expect(Array.from(maskFrequency(spec([[1, 2], [4, 5]]), 1, 5, -1).data)).toEqual([1, 2, -1, -1]);
    const s = spec([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const w = warpMel(s, 1);
    w.data.forEach((v, i) => expect(v).toBeCloseTo(s.data[i]!, 4));
    expect(Array.from(mixSpectrograms(spec([[2, 2]]), spec([[0]]), 0.25).data)).toEqual([0.5, 0.5]);
    expect(Array.from(softTargets([1, 0], 2, 0.2))).toEqual([Math.fround(0.1), Math.fround(0.9), Math.fround(0.9), Math.fround(0.1)]);
  });

  it('online augmentation is a pure function of the rng state', () => {
    const r = getRecipe('ser-best');
    const s = spec(Array.from({ length: 16 }, (_, m) => Array.from({ length: 30 }, (_, t) => Math.sin(m + t))));
    const a = augmentOnline(s, r.onlineAugment!, createRng(5));
    const b = augmentOnline(s, r.onlineAugment!, createRng(5));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe('length-bucketed batches', () => {
  it('covers every index once, groups neighbours in length, and is seeded', () => {
    const lengths = [5, 50, 6, 51, 7, 52, 8];
    const b1 = lengthBucketedBatches(lengths, 2, createRng(3));
    const b2 = lengthBucketedBatches(lengths, 2, createRng(3));
    expect(b1).toEqual(b2);
    expect(b1.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(b1.map((b) => b.length).sort()).toEqual([1, 2, 2, 2]);
    for (const b of b1) if (b.length === 2) expect(Math.abs(lengths[b[0]!]! - lengths[b[1]!]!)).toBeLessThanOrEqual(2);
  });
});

describe('checkpoint encoding', () => {
  it('round-trips typed arrays, nested objects and non-finite numbers', () => {
    const v = { a: 1, s: 'x', w: [new Float32Array([1.5, -2]), new Int32Array([7])], n: null, inf: -Infinity, deep: { u: new Uint8Array([1, 2, 3]) } };
    const back = decodeCheckpoint(encodeCheckpoint(v)) as typeof v;
    expect(back.a).toBe(1);
    expect(back.w[0]).toBeInstanceOf(Float32Array);
    expect(Array.from(back.w[0]!)).toEqual([1.5, -2]);
    expect(Array.from(back.w[1]!)).toEqual([7]);
    expect(back.inf).toBe(-Infinity);
    expect(Array.from(back.deep.u)).toEqual([1, 2, 3]);
  });

  it('rejects a file that is not a checkpoint', () => {
    expect(() => decodeCheckpoint(new Uint8Array(20), 'x.ckpt')).toThrow(/x.ckpt: not a checkpoint/);
  });
});

describe('recipes', () => {
  it('has the study recipes and ser-best; overrides and unknown names', () => {
    for (const n of ['seed-cnn3', 'seed-cnn4', 'seed-cnn3-resized', 'seed-cnn4-resized', 'seed-cnn4-aug', 'seed-cnn4-resized-aug', 'ser-best']) {
      expect(recipeNames()).toContain(n);
    }
    expect(RECIPES['seed-cnn4-resized-aug']!.offlineAugment!.copies).toBe(10);
    expect(RECIPES['seed-cnn3-resized']!.input).toEqual({ mode: 'resized', frames: 256 });
    const r = getRecipe('seed-cnn3', { epochs: 2, lr: 0.01 });
    expect([r.epochs, r.lr]).toEqual([2, 0.01]);
    expect(RECIPES['seed-cnn3']!.epochs).toBe(300);
    expect(() => getRecipe('nope')).toThrow(/unknown recipe 'nope'/);
    expect(() => getRecipe('seed-cnn3', { epochs: 0 })).toThrow(/epochs must be a positive integer/);
  });
});
