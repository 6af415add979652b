import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import { setSimdKernelsEnabled, simdAvailable } from '../../src/model/kernels/simd/index.js';
import { rand, maxRelErr } from './helpers.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case { b: number; h: number; w: number; ci: number; co: number; kh: number; kw: number; pad: Pad }

/** The dy shape tfjs derives for a stride-1 convolution. */
function dyShapeOf(c: Case): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo([c.b, c.h, c.w, c.ci], [c.kh, c.kw, c.ci, c.co], 1, 1, c.pad as never, undefined, false, 'channelsLast');
  return [c.b, info.outHeight, info.outWidth, c.co];
}

async function dW(backend: 'cpu' | 'wasm', c: Case, xv: Float32Array, dyv: Float32Array): Promise<Float32Array> {
  await initBackend(backend);
  const out = tf.tidy(() => tf.engine().runKernel('Conv2DBackpropFilter',
    { x: tf.tensor4d(xv, [c.b, c.h, c.w, c.ci]), dy: tf.tensor4d(dyv, dyShapeOf(c)) },
    { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [c.kh, c.kw, c.ci, c.co] } as never) as tf.Tensor);
  const v = (await out.data()) as Float32Array;
  out.dispose();
  return v;
}

// every (Cin, Cout) pair from the brief, cycling kernel size, padding, batch and odd image sizes through them
const cins = [1, 2, 3, 4, 5, 16, 32];
const couts = [1, 3, 4, 8, 16, 17, 32, 64];
const sizes: Array<[number, number]> = [[7, 9], [5, 11], [9, 6], [6, 13], [11, 5], [3, 4]];
const cases: Case[] = [];
let k = 0;
for (const ci of cins) {
  for (const co of couts) {
    const ks = [1, 3, 5][k % 3];
    const pad: Pad = (k >> 1) % 2 === 0 ? 'same' : 'valid';
    const [h, w] = sizes[k % sizes.length];
    const b = k % 4 < 2 ? 1 : 3;
    k++;
    cases.push({ b, h: Math.max(h, ks), w: Math.max(w, ks), ci, co, kh: ks, kw: ks, pad });
  }
}
// both paddings for every kernel size; a non-square kernel; a 'same' kernel wider than the image (offsets
// without any valid column); even kernels (asymmetric 'same' pads); explicit asymmetric pads
cases.push(
  { b: 3, h: 7, w: 9, ci: 16, co: 32, kh: 1, kw: 1, pad: 'valid' },
  { b: 3, h: 7, w: 9, ci: 5, co: 17, kh: 3, kw: 3, pad: 'valid' },
  { b: 1, h: 9, w: 7, ci: 3, co: 16, kh: 5, kw: 5, pad: 'same' },
  { b: 3, h: 8, w: 10, ci: 4, co: 8, kh: 3, kw: 5, pad: 'same' },
  { b: 1, h: 4, w: 3, ci: 2, co: 16, kh: 5, kw: 5, pad: 'same' },
  { b: 3, h: 6, w: 9, ci: 4, co: 12, kh: 2, kw: 4, pad: 'same' },
  { b: 1, h: 7, w: 8, ci: 1, co: 20, kh: 3, kw: 3, pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
  { b: 3, h: 5, w: 6, ci: 6, co: 9, kh: 3, kw: 2, pad: [[0, 0], [1, 2], [3, 0], [0, 0]] },
);
// Cin = 1 with Cout % 8 = 0 takes three filter columns at a time: groups plus leftover columns, groups
// whose common columns are empty, asymmetric pads
cases.push(
  { b: 3, h: 4, w: 3, ci: 1, co: 16, kh: 5, kw: 5, pad: 'same' },
  { b: 1, h: 6, w: 2, ci: 1, co: 8, kh: 3, kw: 3, pad: 'same' },
  { b: 3, h: 7, w: 12, ci: 1, co: 24, kh: 1, kw: 7, pad: 'valid' },
  { b: 1, h: 9, w: 10, ci: 1, co: 32, kh: 3, kw: 8, pad: 'same' },
  { b: 3, h: 6, w: 9, ci: 1, co: 8, kh: 3, kw: 4, pad: [[0, 0], [0, 2], [3, 1], [0, 0]] },
  { b: 1, h: 5, w: 7, ci: 1, co: 16, kh: 2, kw: 6, pad: [[0, 0], [1, 0], [0, 4], [0, 0]] },
);

describe('SIMD Conv2DBackpropFilter (stride 1) matches tfjs cpu', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterEach(() => setSimdKernelsEnabled(true));

  it('the SIMD module is available on the Node wasm backend', async () => {
    await initBackend('wasm');
    expect(simdAvailable(tf.backend())).toBe(true);
  });

  let seed = 1;
  for (const c of cases) {
    const s = seed++;
    const pad = typeof c.pad === 'string' ? c.pad : `explicit ${JSON.stringify(c.pad.slice(1, 3))}`;
    it(`b${c.b} ${c.h}x${c.w} ${c.ci}->${c.co} k${c.kh}x${c.kw} ${pad}`, async () => {
      const xv = rand(c.b * c.h * c.w * c.ci, s);
      const dyv = rand(dyShapeOf(c).reduce((a, v) => a * v), s + 5000);
      const want = await dW('cpu', c, xv, dyv);
      setSimdKernelsEnabled(true);
      const got = await dW('wasm', c, xv, dyv);
      expect(maxRelErr(got, want)).toBeLessThanOrEqual(1e-4);
    });
  }

  it('overwrites a recycled output buffer (dW is zeroed, not accumulated into)', async () => {
    const c: Case = { b: 1, h: 6, w: 7, ci: 4, co: 8, kh: 3, kw: 3, pad: 'same' };
    const xv = rand(6 * 7 * 4, 91), dyv = rand(6 * 7 * 8, 92);
    const first = await dW('wasm', c, xv, dyv);
    // same-size garbage allocated and freed in between: the next output likely reuses its memory
    tf.tidy(() => tf.fill([3, 3, 4, 8], 123.5));
    const second = await dW('wasm', c, xv, dyv);
    expect(Array.from(second)).toEqual(Array.from(first));
  });
});

describe('SIMD Conv2DBackpropFilter matches the im2col + matmul path on the training shapes', () => {
  afterEach(() => setSimdKernelsEnabled(true));
  const real: Case[] = [
    { b: 8, h: 128, w: 300, ci: 1, co: 16, kh: 3, kw: 3, pad: 'same' },
    { b: 8, h: 64, w: 150, ci: 16, co: 32, kh: 3, kw: 3, pad: 'same' },
    { b: 8, h: 32, w: 75, ci: 32, co: 64, kh: 3, kw: 3, pad: 'same' },
  ];
  let seed = 700;
  for (const c of real) {
    const s = seed++;
    it(`[${c.b},${c.h},${c.w},${c.ci}] -> ${c.co}`, async () => {
      const xv = rand(c.b * c.h * c.w * c.ci, s);
      const dyv = rand(dyShapeOf(c).reduce((a, v) => a * v), s + 5000);
      setSimdKernelsEnabled(false);
      const want = await dW('wasm', c, xv, dyv);
      setSimdKernelsEnabled(true);
      const got = await dW('wasm', c, xv, dyv);
      expect(maxRelErr(got, want)).toBeLessThanOrEqual(1e-4);
    });
  }
});
