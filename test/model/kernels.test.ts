import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import { rand, on, maxRelErr } from './helpers.js';

interface ConvCase { b: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: 'same' | 'valid' }
const convCases: ConvCase[] = [
  { b: 1, h: 8, w: 10, ci: 1, co: 4, k: 3, s: 1, pad: 'same' },
  { b: 2, h: 7, w: 9, ci: 3, co: 5, k: 3, s: 1, pad: 'same' },
  { b: 3, h: 9, w: 6, ci: 2, co: 3, k: 5, s: 1, pad: 'same' },
  { b: 2, h: 9, w: 11, ci: 4, co: 2, k: 5, s: 1, pad: 'valid' },
  { b: 2, h: 5, w: 7, ci: 3, co: 4, k: 1, s: 1, pad: 'same' },
  { b: 2, h: 9, w: 10, ci: 3, co: 4, k: 3, s: 2, pad: 'same' },
  { b: 1, h: 11, w: 8, ci: 2, co: 3, k: 3, s: 2, pad: 'valid' },
];

describe('custom wasm kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  for (const c of convCases) {
    const name = `b${c.b} ${c.h}x${c.w} ${c.ci}->${c.co} k${c.k} s${c.s} ${c.pad}`;
    const xShape: [number, number, number, number] = [c.b, c.h, c.w, c.ci];
    const fShape: [number, number, number, number] = [c.k, c.k, c.ci, c.co];
    const outH = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.ceil((c.h - c.k + 1) / c.s);
    const outW = c.pad === 'same' ? Math.ceil(c.w / c.s) : Math.ceil((c.w - c.k + 1) / c.s);
    const dyShape: [number, number, number, number] = [c.b, outH, outW, c.co];
    const xv = rand(xShape.reduce((a, b) => a * b), 1);
    const fv = rand(fShape.reduce((a, b) => a * b), 2);
    const dyv = rand(dyShape.reduce((a, b) => a * b), 3);

    it(`Conv2DBackpropFilter ${name}`, async () => {
      const run = () => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, xShape), dy: tf.tensor4d(dyv, dyShape) },
        { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', filterShape: fShape } as never) as tf.Tensor;
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(maxRelErr(got, ref)).toBeLessThanOrEqual(1e-4);
    });

    it(`Conv2DBackpropInput ${name}`, async () => {
      const run = () => tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor4d(dyv, dyShape), filter: tf.tensor4d(fv, fShape) },
        { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', inputShape: xShape } as never) as tf.Tensor;
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(maxRelErr(got, ref)).toBeLessThanOrEqual(1e-4);
    });
  }

  const sumCases: Array<{ shape: number[]; axis: number[]; keepDims: boolean }> = [
    { shape: [2, 5, 7, 3], axis: [0, 1, 2], keepDims: false },
    { shape: [3, 40, 6], axis: [0, 1], keepDims: true },
    { shape: [4, 9, 5], axis: [1, 2], keepDims: false },
    { shape: [200, 3], axis: [0], keepDims: false },
  ];
  for (const c of sumCases) {
    it(`Sum ${c.shape.join('x')} over [${c.axis}]${c.keepDims ? ' keepDims' : ''}`, async () => {
      const xv = rand(c.shape.reduce((a, b) => a * b), 11);
      const run = () => tf.sum(tf.tensor(xv, c.shape), c.axis, c.keepDims);
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(maxRelErr(got, ref)).toBeLessThanOrEqual(1e-4);
      const runShape = () => tf.tensor1d(tf.sum(tf.tensor(xv, c.shape), c.axis, c.keepDims).shape.map(Number));
      expect(Array.from(await on('wasm', runShape))).toEqual(Array.from(await on('cpu', runShape)));
    });
    it(`Mean ${c.shape.join('x')} over [${c.axis}]${c.keepDims ? ' keepDims' : ''}`, async () => {
      const xv = rand(c.shape.reduce((a, b) => a * b), 12);
      const run = () => tf.mean(tf.tensor(xv, c.shape), c.axis, c.keepDims);
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(maxRelErr(got, ref)).toBeLessThanOrEqual(1e-4);
    });
  }

  const poolCases = [
    { b: 1, h: 8, w: 10, c: 3, f: 2, s: 2, pad: 'valid' as const },
    { b: 2, h: 9, w: 7, c: 4, f: 2, s: 2, pad: 'valid' as const },
    { b: 2, h: 9, w: 7, c: 2, f: 3, s: 2, pad: 'same' as const },
    { b: 2, h: 6, w: 6, c: 2, f: 3, s: 1, pad: 'same' as const },
  ];
  for (const p of poolCases) {
    it(`MaxPoolGrad b${p.b} ${p.h}x${p.w}x${p.c} f${p.f} s${p.s} ${p.pad}`, async () => {
      const shape: [number, number, number, number] = [p.b, p.h, p.w, p.c];
      // quantised values so that windows contain ties (first-max rule must match)
      const xv = rand(shape.reduce((a, b) => a * b), 7).map((v) => Math.round(v * 3));
      const run = () => tf.tidy(() => {
        const x = tf.tensor4d(xv, shape);
        const y = tf.maxPool(x, p.f, p.s, p.pad);
        const dy = tf.tensor4d(rand(y.size, 9), y.shape as [number, number, number, number]);
        return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: p.f, strides: p.s, pad: p.pad } as never) as tf.Tensor;
      });
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(maxRelErr(got, ref)).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('SerMaskTime (our masking kernel) matches the multiply it replaces', () => {
  const cases = [
    { b: 3, rows: 4, t: 6, c: 3, f: 2, lens: [12, 7, 2] },
    { b: 2, rows: 3, t: 5, c: 1, f: 1, lens: [5, 5] }, // nothing masked: shares memory
    { b: 2, rows: 2, t: 4, c: 5, f: 4, lens: [16, 0] },
  ];
  for (const k of cases) {
    it(`b${k.b} rows${k.rows} T${k.t} C${k.c} pool ${k.f} lengths ${k.lens.join(',')}`, async () => {
      const t0 = k.t * k.f;
      const mv = new Float32Array(k.b * t0);
      k.lens.forEach((n, s) => mv.fill(1, s * t0, s * t0 + n));
      const xv = rand(k.b * k.rows * k.t * k.c, 11);
      const dyv = rand(xv.length, 12);
      const { maskTime, downsampleMask } = await import('../../src/model/layers.js');
      const expected = await on('cpu', () => {
        const x = tf.tensor4d(xv, [k.b, k.rows, k.t, k.c]);
        const m = tf.reshape(downsampleMask(tf.tensor2d(mv, [k.b, t0]), k.t), [k.b, 1, k.t, 1]);
        return tf.mul(x, m);
      });
      for (const backend of ['cpu', 'wasm'] as const) {
        const got = await on(backend, () => maskTime(tf.tensor4d(xv, [k.b, k.rows, k.t, k.c]), tf.tensor2d(mv, [k.b, t0])));
        // (+0 for −0: the multiply gives −0 for negative x, the kernel writes +0; both are zero)
        expect(Array.from(got, (v) => v + 0)).toEqual(Array.from(expected, (v) => v + 0));
        // gradient: d/dx Σ dy·mask(x) = mask(dy)
        const g = await on(backend, () => {
          const x = tf.tensor4d(xv, [k.b, k.rows, k.t, k.c]);
          const m = tf.tensor2d(mv, [k.b, t0]);
          return tf.grad((z: tf.Tensor) => tf.sum(tf.mul(maskTime(z as tf.Tensor4D, m), tf.tensor4d(dyv, [k.b, k.rows, k.t, k.c]))))(x);
        });
        const gExp = Array.from(dyv).map((v, i) => (expected[i] === 0 && xv[i] !== 0 ? 0 : v));
        expect(Array.from(g, (v) => v + 0)).toEqual(gExp.map((v) => Math.fround(v) + 0));
      }
    });
  }
});

describe('Tile (block copies) matches the cpu backend', () => {
  const cases: Array<{ shape: number[]; reps: number[]; dtype: 'float32' | 'int32' }> = [
    { shape: [1, 1, 1, 3], reps: [2, 3, 4, 1], dtype: 'float32' },
    { shape: [2, 3], reps: [3, 2], dtype: 'float32' },
    { shape: [4], reps: [5], dtype: 'int32' },
    { shape: [2, 1, 3], reps: [1, 4, 2], dtype: 'float32' },
    { shape: [3, 2], reps: [1, 1], dtype: 'float32' },
    { shape: [2, 2], reps: [0, 3], dtype: 'float32' },
  ];
  for (const k of cases) {
    it(`[${k.shape}] × [${k.reps}] ${k.dtype}`, async () => {
      const n = k.shape.reduce((a, b) => a * b, 1);
      const v = k.dtype === 'int32' ? Int32Array.from({ length: n }, (_, i) => i * 7 - 3) : rand(n, 21);
      const run = (): tf.Tensor => tf.tile(tf.tensor(v, k.shape, k.dtype), k.reps);
      const a = await on('wasm', run);
      const b = await on('cpu', run);
      expect(Array.from(a)).toEqual(Array.from(b));
    });
  }
});

describe('per-channel SIMD paths (Sum / Mean over leading axes, bias Add) match the cpu backend', () => {
  const shapes: number[][] = [[3, 5, 7, 16], [2, 4, 3, 12], [1, 1, 600, 32], [2, 3, 5, 6], [4, 70, 20], [1000, 4], [2, 3, 64]];
  for (const shape of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const c = shape[shape.length - 1] as number;
    const xv = rand(n, 31);
    const bv = rand(c, 32);
    const lead = shape.slice(0, -1).map((_, i) => i);
    it(`Sum and Mean over the leading axes of [${shape}]`, async () => {
      for (const op of ['sum', 'mean'] as const) {
        const run = (): tf.Tensor => tf[op](tf.tensor(xv, shape), lead);
        const a = await on('wasm', run);
        const b = await on('cpu', run);
        expect(maxRelErr(a, b)).toBeLessThanOrEqual(1e-5);
      }
    });
    it(`Add of a [${c}] row to [${shape}] (both orders, and as [1,…,1,${c}])`, async () => {
      const rowShape = [...shape.slice(0, -1).map(() => 1), c];
      for (const f of [
        () => tf.add(tf.tensor(xv, shape), tf.tensor(bv, [c])),
        () => tf.add(tf.tensor(bv, [c]), tf.tensor(xv, shape)),
        () => tf.add(tf.tensor(xv, shape), tf.tensor(bv, rowShape)),
      ]) {
        const a = await on('wasm', f);
        const b = await on('cpu', f);
        expect(Array.from(a)).toEqual(Array.from(b));
      }
    });
  }
  it('a big reduction stays accurate (blocked float32 sums)', async () => {
    const rows = 307200, c = 16;
    const xv = new Float32Array(rows * c).fill(0.1);
    const got = await on('wasm', () => tf.sum(tf.tensor2d(xv, [rows, c]), 0));
    for (const v of got) expect(Math.abs(v - rows * 0.1) / (rows * 0.1)).toBeLessThan(1e-5);
  });
});

describe('SerReluGrad (the Relu gradient) matches dy · step(x)', () => {
  for (const shape of [[3, 5, 7, 16], [2, 3, 5, 6], [7], [4, 33]]) {
    it(`[${shape}]`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const xv = rand(n, 41).map((v, i) => (i % 7 === 0 ? 0 : v)); // exact zeros: no gradient, as step(0) = 0
      const dyv = rand(n, 42);
      const expected = await on('cpu', () => tf.mul(tf.tensor(dyv, shape), tf.step(tf.tensor(xv, shape))));
      for (const backend of ['cpu', 'wasm'] as const) {
        const g = await on(backend, () => {
          const dy = tf.tensor(dyv, shape);
          return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.relu(x), dy)))(tf.tensor(xv, shape));
        });
        expect(Array.from(g, (v) => v + 0)).toEqual(Array.from(expected, (v) => v + 0));
      }
      // and on wasm the gradient really runs our kernel (else the comparison above would test tfjs's dy · step(x));
      // this file imports the layers (which register tfjs's gradients) after initBackend: our gradients must survive that
      await initBackend('wasm');
      const info = await tf.profile(() => tf.grad((x: tf.Tensor) => tf.sum(tf.relu(x)))(tf.tensor(xv, shape)));
      expect(info.kernelNames).toContain('SerReluGrad');
    });
  }
});

describe('SerReluGrad also sums dx over the pixels for the bias gradient (row-sums.ts)', () => {
  // more than one 512-row block, a remainder block, channels 4–64 (one and several 16-float groups)
  for (const shape of [[3, 5, 7, 16], [2, 40, 10, 16], [1, 3, 700, 12], [2, 9, 37, 64], [1, 8, 8, 4]]) {
    it(`[${shape}]: Sum over the leading axes of its dx is the sums of a fresh copy of dx, bit for bit, and matches cpu`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const xv = rand(n, 51).map((v, i) => (i % 5 === 0 ? 0 : v));
      const dyv = rand(n, 53);
      const lead = shape.slice(0, -1).map((_, i) => i);
      const reluGrad = () => tf.engine().runKernel('SerReluGrad', { dy: tf.tensor(dyv, shape), x: tf.tensor(xv, shape) }, {}) as tf.Tensor;
      // the bias-gradient path: Sum right on SerReluGrad's output (the sums it recorded)
      const got = await on('wasm', () => tf.sum(reluGrad(), lead));
      expect(maxRelErr(got, await on('cpu', () => tf.sum(reluGrad(), lead)))).toBeLessThanOrEqual(1e-5);
      // the same sums from a fresh copy of dx (nothing recorded for it: simdSumRows reads it)
      const dx = await on('wasm', reluGrad);
      expect(Array.from(dx)).toEqual(Array.from(await on('cpu', reluGrad)));
      const fromCopy = await on('wasm', () => tf.sum(tf.tensor(dx, shape), lead));
      expect(Array.from(got)).toEqual(Array.from(fromCopy));
    });
  }
});

describe('Sum / Mean over the middle axes (per-sample SIMD pass) and the Sum gradient (a Tile) match the cpu backend', () => {
  const cases: Array<{ shape: number[]; axis: number[] }> = [
    { shape: [3, 9, 12, 16], axis: [1, 2] }, { shape: [2, 8, 8, 4], axis: [1, 2] }, { shape: [1, 32, 75, 64], axis: [1, 2] },
    { shape: [2, 70, 8], axis: [1] }, { shape: [2, 700, 3, 8], axis: [1] }, { shape: [2, 5, 5, 12], axis: [1, 2] },
  ];
  for (const { shape, axis } of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const xv = rand(n, 61);
    for (const keepDims of [false, true]) {
      it(`Sum and Mean of [${shape}] over [${axis}]${keepDims ? ' keepDims' : ''}`, async () => {
        for (const op of ['sum', 'mean'] as const) {
          const run = (): tf.Tensor => tf[op](tf.tensor(xv, shape), axis, keepDims);
          expect(maxRelErr(await on('wasm', run), await on('cpu', run))).toBeLessThanOrEqual(1e-5);
        }
      });
    }
    it(`the gradient of Sum over [${axis}] of [${shape}] is dy broadcast back (Tile), on cpu and wasm`, async () => {
      const kept = shape.map((d, i) => (axis.includes(i) ? 1 : d)), reduced = shape.filter((_, i) => !axis.includes(i));
      const wv = rand(reduced.reduce((a, b) => a * b, 1), 62);
      const expected = await on('cpu', () => tf.mul(tf.tensor(wv, kept), tf.ones(shape)));
      for (const backend of ['cpu', 'wasm'] as const) {
        const g = await on(backend, () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.sum(x, axis), tf.tensor(wv, reduced))))(tf.tensor(xv, shape)));
        expect(Array.from(g)).toEqual(Array.from(expected));
      }
      const info = await tf.profile(() => tf.grad((x: tf.Tensor) => tf.sum(tf.sum(x, axis)))(tf.tensor(xv, shape)));
      expect(info.kernelNames).toContain('Tile'); // ours, not tfjs's dy · ones
      expect(info.kernelNames).not.toContain('Multiply');
    });
  }
});
