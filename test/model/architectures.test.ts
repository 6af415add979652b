import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import { buildModel, batchArrays, makeBatch, poolFactor, fixedFrames, type ArchName, type ArchOptions } from '../../src/model/architectures.js';
import { GradientEngine, sampleSeed } from '../../src/train/engine.js';
import { createTrainer } from '../../src/train/trainer.js';
import type { Spectrogram } from '../../src/features/types.js';
import { spec } from './helpers.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('architectures: shapes, pooling factor, batches', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('poolFactor and fixedFrames', () => {
    expect(poolFactor('cnn3')).toBe(4);
    expect(poolFactor('cnn4')).toBe(16);
    expect(poolFactor('cnn3-resized')).toBe(8);
    expect(poolFactor('cnn4-resized')).toBe(16);
    expect(poolFactor('ser-cnn', { channels: [8, 8, 8] })).toBe(8);
    expect(fixedFrames('cnn3')).toBeNull();
    expect(fixedFrames('cnn4-resized')).toBe(256);
    expect(() => poolFactor('cnn9')).toThrow(/unknown architecture 'cnn9'/);
  });

  it('batchArrays pads with zeros and masks each length rounded up to the pooling factor', () => {
    const a = spec(2, 5, 1), b = spec(2, 9, 2);
    const batch = batchArrays([a, b], 'cnn3', { rows: 2 });
    expect(batch.frames).toBe(12);
    expect(Array.from(batch.mask)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // row 1 of sample 0: its 5 frames then zeros
    expect(Array.from(batch.x.subarray(12, 24))).toEqual([...Array.from(a.data.subarray(5, 10)), 0, 0, 0, 0, 0, 0, 0]);
    expect(() => batchArrays([spec(3, 4, 1)], 'cnn3', { rows: 2 })).toThrow(/3 rows/);
  });

  it("batchArrays with edges 'floor' masks each sample's own length (PyTorch's pools floor it)", () => {
    const batch = batchArrays([spec(2, 5, 1), spec(2, 9, 2)], 'cnn3', { rows: 2, edges: 'floor' });
    expect(batch.frames).toBe(12);
    expect(Array.from(batch.mask)).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  });

  it('resized batches pad short inputs and interpolate long ones to the fixed length', () => {
    const short = spec(1, 3, 1);
    const long: Spectrogram = { data: Float32Array.from({ length: 9 }, (_, i) => i), nMels: 1, frames: 9 };
    const batch = batchArrays([short, long], 'cnn3-resized', { rows: 1, frames: 5 });
    expect(batch.frames).toBe(5);
    expect(Array.from(batch.x.subarray(0, 5))).toEqual([...Array.from(short.data), 0, 0]);
    expect(Array.from(batch.x.subarray(5, 10))).toEqual([0, 2, 4, 6, 8]);
    expect(Array.from(batch.mask)).toEqual(new Array(10).fill(1));
  });

  it('every architecture builds and gives [b, classes] logits', () => {
    const cases: Array<[ArchName, ArchOptions]> = [
      ['cnn3', { rows: 16 }], ['cnn4', { rows: 16 }], ['cnn3-resized', { rows: 16, frames: 32 }],
      ['cnn4-resized', { rows: 16, frames: 32 }], ['ser-cnn', { rows: 16, channels: [4, 8], pooling: 'attention' }],
    ];
    for (const [arch, o] of cases) {
      const model = buildModel(arch, o, 1);
      const { x, mask } = makeBatch([spec(16, 20, 1), spec(16, 37, 2)], arch, o);
      const y = model.predict([x, mask]) as tf.Tensor;
      expect(y.shape).toEqual([2, 5]);
      tf.dispose([x, mask, y]);
      model.dispose();
    }
  });

  const maskedCases: Array<[ArchName, ArchOptions]> = [
    ['cnn3', { rows: 16 }],
    ['cnn4', { rows: 16 }],
    ['ser-cnn', { rows: 16, channels: [4, 8, 8], pooling: 'stats', batchNorm: true }],
    ['ser-cnn', { rows: 16, channels: [4, 8], pooling: 'attention', batchNorm: false }],
    ['cnn3', { rows: 16, edges: 'floor' }],
    ['cnn4', { rows: 16, edges: 'floor' }],
    ['ser-cnn', { rows: 16, channels: [4, 8, 8], pooling: 'stats', batchNorm: true, edges: 'floor' }],
  ];
  for (const [arch, o] of maskedCases) {
    it(`${arch} ${o.pooling ?? ''} ${o.edges ?? ''}: a padded batch gives the same logits as each sample alone`, () => {
      const model = buildModel(arch, o, 3);
      const specs = [spec(16, 17, 1), spec(16, 64, 2), spec(16, 33, 3)];
      const { x, mask } = makeBatch(specs, arch, o);
      const together = (model.predict([x, mask]) as tf.Tensor).arraySync() as number[][];
      specs.forEach((s, i) => {
        const one = makeBatch([s], arch, o);
        const alone = (model.predict([one.x, one.mask]) as tf.Tensor).arraySync() as number[][];
        expect(maxAbsDiff(alone[0], together[i])).toBeLessThanOrEqual(1e-5);
        tf.dispose([one.x, one.mask]);
      });
      tf.dispose([x, mask]);
      model.dispose();
    });
  }
});

describe('training engine', () => {
  it('cnn3 gradients on wasm (our kernels) match the cpu backend for every weight', async () => {
    const o: ArchOptions = { rows: 16 };
    const specs = [spec(16, 24, 5), spec(16, 13, 6)];
    const shard = {
      batch: batchArrays(specs, 'cnn3', o),
      targets: new Float32Array([0, 1, 0, 0, 0, 0.1, 0.1, 0.6, 0.1, 0.1]),
      sampleSeeds: Uint32Array.from([sampleSeed(1, 0, 0), sampleSeed(1, 0, 1)]),
      total: 2,
    };
    await initBackend('cpu');
    const cpu = new GradientEngine('cnn3', o, 11);
    const ref = cpu.compute(shard);
    const w0 = cpu.readWeights();
    cpu.dispose();
    await initBackend('wasm');
    const wasm = new GradientEngine('cnn3', o, 11);
    expect(maxAbsDiff(wasm.readWeights()[0], w0[0])).toBe(0);
    const got = wasm.compute(shard);
    wasm.dispose();
    expect(Math.abs(got.lossSum - ref.lossSum)).toBeLessThanOrEqual(1e-4 * Math.abs(ref.lossSum));
    expect(got.grads.length).toBe(8);
    got.grads.forEach((g, i) => {
      let scale = 0;
      for (const v of ref.grads[i]) scale = Math.max(scale, Math.abs(v));
      expect(maxAbsDiff(g, ref.grads[i]) / scale).toBeLessThanOrEqual(1e-4);
    });
  });

  it('is reproducible and resumes exactly from getState/setState', async () => {
    const opts = { arch: 'cnn3' as const, archOptions: { rows: 16 }, lr: 1e-2, seed: 7, threads: 1 };
    const specs = [spec(16, 20, 1), spec(16, 28, 2), spec(16, 12, 3)];
    const targets = new Float32Array(15);
    targets[0] = 1; targets[6] = 1; targets[14] = 1;
    const a = await createTrainer(opts);
    const b = await createTrainer(opts);
    const la1 = await a.trainBatch(specs, targets);
    const state = await a.getState();
    const tensorsBefore = tf.memory().numTensors;
    const la2 = await a.trainBatch(specs, targets);
    await a.predict(specs);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // no tensor leaks per step
    const lb1 = await b.trainBatch(specs, targets);
    expect(lb1).toBe(la1);
    const c = await createTrainer({ ...opts, seed: 99 });
    await c.setState(state);
    const lc2 = await c.trainBatch(specs, targets);
    expect(lc2).toBe(la2);
    const sa = await a.getState(), sc = await c.getState();
    expect(sc.step).toBe(2);
    sa.weights.forEach((w, i) => expect(maxAbsDiff(w, sc.weights[i])).toBe(0));
    const probs = await a.predict(specs);
    expect(probs.length).toBe(3);
    for (const p of probs) expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(la2).toBeLessThan(la1);
    a.dispose(); b.dispose(); c.dispose();
  });
});
