import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/model/backend.js';
import { SerBatchNorm } from '../../src/model/batchnorm.js';
import { BN_TRAIN } from '../../src/model/kernels/BatchNormTrain.js';

/** Deterministic pseudo-random floats in [-1, 1). */
function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let scale = 0, err = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return err / Math.max(scale, 1e-12);
}

interface Case { shape: [number, number, number, number]; seed: number }
const cases: Case[] = [
  { shape: [3, 5, 7, 4], seed: 1 },
  { shape: [8, 16, 12, 16], seed: 2 },
  { shape: [1, 2, 3, 1], seed: 3 },
];

interface Data { x: Float32Array; r: Float32Array; weights: Float32Array[] }

/** x with a per-channel offset and scale (so the mean matters), a loss weighting r, and layer weights. */
function makeData(shape: number[], seed: number): Data {
  const c = shape[3];
  const n = shape.reduce((a, b) => a * b, 1);
  const x = rand(n, seed);
  for (let i = 0; i < n; i++) x[i] = x[i] * (1 + (i % c)) + 3 - (i % c);
  const r = rand(n, seed + 10);
  const p = (k: number): Float32Array => rand(c, seed + 20 + k);
  const gamma = p(0).map((v) => 1 + 0.5 * v);
  const beta = p(1);
  const mm = p(2);
  const mv = p(3).map((v) => 1.5 + v);
  return { x, r, weights: [gamma, beta, mm, mv] };
}

interface Result {
  yTrain: Float32Array; movingMean: Float32Array; movingVar: Float32Array;
  dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array; yInfer: Float32Array;
}

/** Training forward, moving statistics after it, gradients of sum(y·r) and the inference forward. */
async function run(backend: 'cpu' | 'wasm', make: () => tfl.layers.Layer, shape: number[], d: Data): Promise<Result> {
  await initBackend(backend);
  const c = shape[3];
  const layer = make();
  layer.build(shape);
  const setWeights = (): void => layer.setWeights(d.weights.map((w) => tf.tensor1d(w)));
  const x = tf.tensor(d.x, shape);
  const r = tf.tensor(d.r, shape);
  const read = async (t: tf.Tensor): Promise<Float32Array> => (await t.data()) as Float32Array;

  setWeights();
  const yT = layer.apply(x, { training: true }) as tf.Tensor;
  const [, , mmT, mvT] = layer.getWeights();
  const yTrain = await read(yT);
  const movingMean = await read(mmT);
  const movingVar = await read(mvT);

  setWeights();
  const xv = tf.variable(x);
  const [gammaV, betaV] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(xv, { training: true }) as tf.Tensor, r)), [xv, gammaV, betaV]);
  const dx = await read(grads[xv.name]);
  const dgamma = await read(grads[gammaV.name]);
  const dbeta = await read(grads[betaV.name]);

  setWeights();
  const yInfer = await read(layer.apply(x, { training: false }) as tf.Tensor);
  expect(dgamma.length).toBe(c);
  tf.dispose([x, r, xv, yT, ...Object.values(grads)]);
  layer.weights.forEach((w) => w.dispose());
  return { yTrain, movingMean, movingVar, dx, dgamma, dbeta, yInfer };
}

const opts = { axis: 3, momentum: 0.9, epsilon: 1e-5 };

describe('SerBatchNorm matches tfjs BatchNormalization (reference on cpu)', () => {
  for (const c of cases) {
    for (const backend of ['cpu', 'wasm'] as const) {
      it(`[${c.shape}] on ${backend}`, async () => {
        const d = makeData(c.shape, c.seed);
        const ref = await run('cpu', () => tfl.layers.batchNormalization(opts), c.shape, d);
        const ours = await run(backend, () => new SerBatchNorm(opts), c.shape, d);
        expect(tf.getBackend()).toBe(backend);
        for (const k of Object.keys(ref) as Array<keyof Result>) {
          const e = maxRelErr(ours[k], ref[k]);
          expect(e, `${k}: max relative error ${e}`).toBeLessThanOrEqual(1e-4);
        }
      });
    }
  }
});

describe('SerBatchNormTrain kernel', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`gradients through the mean and variance outputs match tfjs ops (${backend})`, async () => {
      await initBackend(backend);
      const shape = [2, 3, 5, 6];
      const d = makeData(shape, 7);
      const r1 = tf.tensor1d(rand(6, 41));
      const r2 = tf.tensor1d(rand(6, 42));
      const x = tf.tensor(d.x, shape);
      const r = tf.tensor(d.r, shape);
      const gamma = tf.tensor1d(d.weights[0]);
      const beta = tf.tensor1d(d.weights[1]);
      const loss = (y: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor): tf.Scalar =>
        tf.addN([tf.sum(tf.mul(y, r)), tf.sum(tf.mul(mean, r1)), tf.sum(tf.mul(variance, r2))]) as tf.Scalar;
      const ours = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x: xx, gamma: g, beta: b }, { epsilon: 1e-5 } as never) as tf.Tensor[];
        return loss(y, mean, variance);
      })([x, gamma, beta]);
      const ref = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(xx, [0, 1, 2]);
        return loss(tf.batchNorm(xx, mean, variance, b, g, 1e-5), mean, variance);
      })([x, gamma, beta]);
      for (let i = 0; i < 3; i++) {
        const e = maxRelErr((await ours[i].data()) as Float32Array, (await ref[i].data()) as Float32Array);
        expect(e, `input ${i}: ${e}`).toBeLessThanOrEqual(1e-4);
      }
      tf.dispose([r1, r2, x, r, gamma, beta, ...ours, ...ref]);
    });
  }
});

describe('SerBatchNorm serialisation', () => {
  it('saves and loads with its config and weights', async () => {
    await initBackend('cpu');
    const shape = [2, 4, 5, 3];
    const d = makeData(shape, 9);
    const model = tfl.sequential({ layers: [new SerBatchNorm({ ...opts, name: 'bn1', inputShape: shape.slice(1) } as never)] });
    model.layers[0].setWeights(d.weights.map((w) => tf.tensor1d(w)));
    expect(model.weights.map((w) => w.name)).toEqual(['bn1/gamma', 'bn1/beta', 'bn1/moving_mean', 'bn1/moving_variance']);
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const cfg = loaded.layers[0].getConfig();
    expect([cfg['axis'], cfg['momentum'], cfg['epsilon']]).toEqual([3, 0.9, 1e-5]);
    expect(loaded.layers[0].trainableWeights.length).toBe(2);
    const x = tf.tensor(d.x, shape);
    const a = (await (model.predict(x) as tf.Tensor).data()) as Float32Array;
    const b = (await (loaded.predict(x) as tf.Tensor).data()) as Float32Array;
    expect(maxRelErr(b, a)).toBe(0);
  });
});
