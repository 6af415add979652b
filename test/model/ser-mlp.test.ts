import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import { buildModel, makeBatch, poolFactor, fixedFrames } from '../../src/model/architectures.js';
import { createTrainer } from '../../src/train/trainer.js';
import { saveModelFolder, loadModelFolder } from '../../src/model/io.js';
import { featureParams } from '../../src/features/params.js';
import { featureStandardization } from '../../src/model/standardize.js';
import type { Spectrogram } from '../../src/features/types.js';

const D = 6;
const vec = (v: number[]): Spectrogram => ({ data: Float32Array.from(v), nMels: v.length, frames: 1 });

/** Two classes separated by the sign of feature 0 − feature 1, on a large offset / scale (standardisation needed). */
function dataset(n: number): { specs: Spectrogram[]; labels: number[] } {
  let s = 7;
  const r = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const specs: Spectrogram[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const v = Array.from({ length: D }, () => r());
    v[0] = (v[0] as number) * 0.3 + (c ? 1 : -1);
    specs.push(vec(v.map((x, k) => 100 + 50 * k + x * (k + 1) * 10)));
    labels.push(c);
  }
  return { specs, labels };
}

function predictModel(model: ReturnType<typeof buildModel>, specs: Spectrogram[], opts: Record<string, unknown>): Float32Array {
  const b = makeBatch(specs, 'ser-mlp', opts);
  // a loaded model drops the unused mask input (infer's makeModelInput feeds x alone then)
  const inputs = model.inputs.length === 2 ? [b.x, b.mask] : b.x;
  const out = tf.tidy(() => tf.softmax(model.predict(inputs) as tf.Tensor2D).dataSync() as Float32Array);
  tf.dispose([b.x, b.mask]);
  return new Float32Array(out);
}

let root: string;
beforeAll(async () => {
  await initBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'ser-mlp-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ser-mlp', () => {
  it('takes one column per sample: no pooling, fixed 1 frame', () => {
    expect(poolFactor('ser-mlp')).toBe(1);
    expect(fixedFrames('ser-mlp')).toBe(1);
    const m = buildModel('ser-mlp', { rows: D, numClasses: 3, hidden: 4 });
    expect(m.outputs[0]!.shape).toEqual([null, 3]);
    expect(m.trainableWeights.map((w) => w.shape)).toEqual([[D, 4], [4], [4, 3], [3]]);
    expect(m.nonTrainableWeights.map((w) => w.name)).toEqual(['standardize/mean', 'standardize/std']);
    m.dispose();
  });

  it('applies the stored standardisation: same output as an unstandardised model fed z-scores', () => {
    const { specs } = dataset(8);
    const st = featureStandardization(specs);
    const a = buildModel('ser-mlp', { rows: D, numClasses: 2, ...st }, 3);
    const b = buildModel('ser-mlp', { rows: D, numClasses: 2 }, 3);
    const z = specs.map((s) => vec(Array.from(s.data, (x, k) => (x - st.inputMean[k]!) / st.inputStd[k]!)));
    const pa = predictModel(a, specs, { rows: D });
    const pb = predictModel(b, z, { rows: D });
    pa.forEach((p, i) => expect(p).toBeCloseTo(pb[i]!, 5));
    a.dispose();
    b.dispose();
  });

  it('rejects statistics of the wrong length', () => {
    expect(() => buildModel('ser-mlp', { rows: D, inputMean: [0, 0], inputStd: [1, 1] })).toThrow(/inputMean/);
  });

  it('trains to separate a tiny data set, and predicts the same after save / load', async () => {
    const { specs, labels } = dataset(64);
    const archOptions = { rows: D, numClasses: 2, hidden: 16, ...featureStandardization(specs) };
    const t = await createTrainer({ arch: 'ser-mlp', archOptions, lr: 0.01, seed: 1, backend: 'wasm', threads: 1 });
    const targets = new Float32Array(labels.flatMap((l) => (l ? [0, 1] : [1, 0])));
    let first = 0;
    let last = 0;
    for (let step = 0; step < 60; step++) {
      last = await t.trainBatch(specs, targets);
      if (step === 0) first = last;
    }
    expect(last).toBeLessThan(first);
    const probs = await t.predict(specs);
    const correct = probs.filter((p, i) => (p[1]! > p[0]! ? 1 : 0) === labels[i]).length;
    expect(correct / specs.length).toBeGreaterThanOrEqual(0.95);

    const dir = join(root, 'model');
    await saveModelFolder(dir, t.toLayersModel(), {
      labels: ['a', 'b'], featureParams: featureParams({ representation: 'utterance-stats' }), arch: 'ser-mlp', archOptions,
      recipe: 'test', data: { files: specs.length }, metrics: {},
    });
    const loaded = await loadModelFolder(dir);
    const again = predictModel(loaded.model, specs, { rows: D });
    probs.forEach((p, i) => {
      expect(again[2 * i]!).toBeCloseTo(p[0]!, 5);
      expect(again[2 * i + 1]!).toBeCloseTo(p[1]!, 5);
    });
    loaded.model.dispose();
    t.dispose();
  });
});
