import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/model/backend.js';
import { SerBatchNorm } from '../../src/model/batchnorm.js';
import { BN_TRAIN, BN_TRAIN_GRAD, bnSimdCalls } from '../../src/model/kernels/batchnorm-math.js';
import { setSimdKernelsEnabled, simdAvailable, simdBnSums } from '../../src/model/kernels/simd/index.js';
import { rand, maxRelErr } from './helpers.js';

interface Case { shape: [number, number, number, number]; seed: number }
const cases: Case[] = [
  { shape: [3, 5, 7, 4], seed: 1 },
  { shape: [8, 16, 12, 16], seed: 2 },
  { shape: [1, 2, 3, 1], seed: 3 },
  // C % 4 == 0 takes the SIMD kernels on wasm: a lone 4-lane group, 8, 16-wide groups, a large tensor
  { shape: [2, 6, 5, 4], seed: 4 },
  { shape: [3, 4, 7, 8], seed: 5 },
  { shape: [2, 5, 3, 64], seed: 6 },
  { shape: [8, 64, 64, 16], seed: 8 },
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

describe('SerBatchNormTrain SIMD kernels (wasm, C % 4 == 0)', () => {
  /** Forward and gradient outputs of the two kernels, run directly. */
  function kernels(shape: number[], d: Data): Float32Array[] {
    const c = shape[3];
    const x = tf.tensor(d.x, shape);
    const dy = tf.tensor(d.r, shape);
    const gamma = tf.tensor1d(d.weights[0]);
    const beta = tf.tensor1d(d.weights[1]);
    // nonzero direct gradients of mean/variance exercise every term of D and B
    const dmean = tf.tensor1d(rand(c, 51));
    const dvariance = tf.tensor1d(rand(c, 52));
    const fwd = tf.engine().runKernel(BN_TRAIN, { x, gamma, beta }, { epsilon: 1e-5 } as never) as tf.Tensor[];
    const bwd = tf.engine().runKernel(BN_TRAIN_GRAD, { dy, x, gamma, mean: fwd[1], variance: fwd[2], dmean, dvariance },
      { epsilon: 1e-5 } as never) as tf.Tensor[];
    const out = [...fwd, ...bwd].map((t) => t.dataSync() as Float32Array);
    tf.dispose([x, dy, gamma, beta, dmean, dvariance, ...fwd, ...bwd]);
    return out;
  }
  const names = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];

  for (const shape of [[2, 6, 5, 4], [3, 4, 7, 8], [2, 5, 3, 64], [1, 3, 3, 20], [8, 64, 64, 16]]) {
    it(`[${shape}] matches the JS loops and the cpu backend`, async () => {
      const d = makeData(shape, 60 + shape[3]);
      await initBackend('cpu');
      const cpu = kernels(shape, d);
      await initBackend('wasm');
      expect(simdAvailable(tf.backend())).toBe(true);
      let js: Float32Array[];
      setSimdKernelsEnabled(false);
      try {
        js = kernels(shape, d);
      } finally {
        setSimdKernelsEnabled(true);
      }
      const before = { ...bnSimdCalls };
      const simd = kernels(shape, d);
      // the SIMD path really ran, once each
      expect(bnSimdCalls.forward - before.forward).toBe(1);
      expect(bnSimdCalls.backward - before.backward).toBe(1);
      for (let i = 0; i < names.length; i++) {
        const eJs = maxRelErr(simd[i], js[i]);
        const eCpu = maxRelErr(simd[i], cpu[i]);
        expect(eJs, `${names[i]} vs JS: ${eJs}`).toBeLessThanOrEqual(1e-5);
        expect(eCpu, `${names[i]} vs cpu: ${eCpu}`).toBeLessThanOrEqual(1e-5);
      }
    });
  }

  it('C % 4 != 0 keeps the JS loops', async () => {
    await initBackend('wasm');
    const before = { ...bnSimdCalls };
    kernels([2, 3, 4, 6], makeData([2, 3, 4, 6], 70));
    expect(bnSimdCalls).toEqual(before);
  });

  it('bnSums: mean and variance within 1e-5 of float64 on [8,128,256,16] (mean ~3, std ~1)', async () => {
    await initBackend('wasm');
    const c = 16;
    const n = 8 * 128 * 256;
    const xs = rand(n * c, 81);
    // uniform [-√3, √3) has std 1; channel means spread around 3
    for (let i = 0; i < xs.length; i++) xs[i] = 3 + 0.05 * (i % c) + Math.sqrt(3) * xs[i];
    const x = tf.tensor2d(xs, [n, c]);
    // a shift away from the mean (first row), as a worse case than the kernel's own
    const k = Array.from(xs.subarray(0, c), (v) => Math.fround(v));
    const s1 = new Float64Array(c);
    const s2 = new Float64Array(c);
    expect(simdBnSums(tf.backend(), x, k, n, c, s1, s2)).toBe(true);
    x.dispose();
    const mean = new Float64Array(c);
    const m2 = new Float64Array(c);
    for (let i = 0; i < xs.length; i++) mean[i % c] += xs[i];
    for (let ch = 0; ch < c; ch++) mean[ch] /= n;
    for (let i = 0; i < xs.length; i++) m2[i % c] += (xs[i] - mean[i % c]) ** 2;
    for (let ch = 0; ch < c; ch++) {
      const mu = k[ch] + s1[ch] / n;
      const variance = s2[ch] / n - (s1[ch] / n) ** 2;
      const eMean = Math.abs(mu - mean[ch]) / Math.abs(mean[ch]);
      const eVar = Math.abs(variance - m2[ch] / n) / (m2[ch] / n);
      expect(eMean, `mean[${ch}]`).toBeLessThanOrEqual(1e-5);
      expect(eVar, `variance[${ch}]`).toBeLessThanOrEqual(1e-5);
    }
  });
});
