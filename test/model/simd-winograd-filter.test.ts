/**
 * The Winograd F(3×3, 2×2) filter gradient (winograd.wat, wgFilterGrad) behind Conv2DBackpropFilter on wasm,
 * against tfjs's cpu backend, with relaxed SIMD and with the baseline module: odd heights and widths (dy
 * zero-padded to whole tiles), 1×1 and 1×N images, batch 1 and 8, blocks of tiles that cross tile rows and
 * images, 'same' / 'valid' / explicit asymmetric pads, input channels 8–64 in fours and output channels in
 * eights; exact zeros where no product reaches a tap (sparse inputs, bit rows wider than one 64-bit word);
 * and that the shapes it does not take (the first layer's single input channel, other channel counts or
 * filter sizes) still run the direct kernel.
 *
 * Tolerance, element by element: |ours − cpu| ≤ 1e-5 · T(c, o), where T(c, o) = Σ |x[p]|·|dy[q]| over the
 * pixel pairs with p − q in [−1, 3]² (computed by the cpu backend as a 5×5 filter gradient of |x| and |dy|):
 * the magnitudes of every product a 4×4 patch and its 2×2 dy tile pair up, which the transforms mix into
 * each of the pair's 9 taps, so the scale of Winograd's float32 rounding whatever the cancellation
 * (measured ≤ 1e-6). Taps within 2⁻¹⁷ of their pair's largest are recomputed directly by the kernel; they
 * are held to their own scale, 1e-5 · Σ_{b,y,x} |x|·|dy| of that tap, and to exactly 0 where no product
 * is non-zero (sparse inputs).
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import {
  setRelaxedSimdEnabled, setWinogradFilterEnabled, simdWinogradFilterSupports, simdVariant, type ConvS1Dims,
} from '../../src/model/kernels/simd/index.js';
import { rand, on, convLabel, convShapes, type ConvCase } from './helpers.js';

type Case = ConvCase;

const TOL = 1e-5;

const cases: Case[] = [
  // the cnn3 / cnn4 layer kinds, small, odd and even sizes, batch 1 and 8
  { b: 1, h: 6, w: 10, ci: 16, co: 32, pad: 'same' },
  { b: 8, h: 5, w: 7, ci: 16, co: 32, pad: 'same' },
  { b: 1, h: 7, w: 9, ci: 32, co: 64, pad: 'same' },
  { b: 8, h: 4, w: 9, ci: 32, co: 64, pad: 'same' },
  { b: 2, h: 4, w: 5, ci: 64, co: 128, pad: 'same' },
  // channel counts that are not the register tile's multiples of 8 (12 = 3 fours) / 16 / 32 (24 = 3 eights)
  { b: 3, h: 5, w: 6, ci: 12, co: 24, pad: 'same' },
  { b: 1, h: 6, w: 5, ci: 8, co: 8, pad: 'same' },
  // 1×1, 1×N and N×1 images, a single half tile
  { b: 2, h: 1, w: 1, ci: 8, co: 8, pad: 'same' },
  { b: 1, h: 1, w: 6, ci: 16, co: 8, pad: 'same' },
  { b: 8, h: 7, w: 1, ci: 12, co: 16, pad: 'same' },
  // more tiles than one block (⌊6144 / (C + O)⌋ tiles, crossing tile rows and images), with a remainder
  { b: 2, h: 9, w: 171, ci: 8, co: 8, pad: 'same' },
  { b: 2, h: 9, w: 37, ci: 16, co: 32, pad: 'same' },
  // 'valid' and explicit asymmetric pads (incl. a pad of 2 and none)
  { b: 2, h: 7, w: 9, ci: 32, co: 8, pad: 'valid' },
  { b: 1, h: 6, w: 6, ci: 8, co: 16, pad: 'valid' },
  { b: 1, h: 7, w: 8, ci: 16, co: 32, pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
  { b: 2, h: 5, w: 6, ci: 8, co: 16, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  // not taken (the direct kernel): 1, 4 or not-multiple-of-4 input channels, output channels % 8 != 0,
  // other kernel sizes
  { b: 2, h: 6, w: 7, ci: 1, co: 16, pad: 'same' },
  { b: 2, h: 6, w: 7, ci: 4, co: 16, pad: 'same' },
  { b: 1, h: 6, w: 7, ci: 10, co: 16, pad: 'same' },
  { b: 1, h: 6, w: 7, ci: 16, co: 12, pad: 'same' },
  { b: 1, h: 6, w: 7, ci: 16, co: 16, pad: 'same', k: 5 },
];

const shapes = convShapes;

function dims(c: Case): ConvS1Dims {
  const sh = shapes(c);
  const info = tf.backend_util.computeConv2DInfo(sh.x, sh.f, 1, 1, c.pad as never, undefined, false, 'channelsLast');
  return {
    batch: c.b, inHeight: c.h, inWidth: c.w, inChannels: c.ci, outHeight: info.outHeight, outWidth: info.outWidth,
    outChannels: c.co, filterHeight: sh.f[0], filterWidth: sh.f[1], padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
}

const size = (s: number[]): number => s.reduce((a, v) => a * v, 1);
const label = convLabel;

function filterGrad(c: Case, xv: Float32Array, dyv: Float32Array): () => tf.Tensor {
  const sh = shapes(c);
  return () => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, sh.x), dy: tf.tensor4d(dyv, sh.dy) },
    { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: sh.f } as never) as tf.Tensor;
}

/**
 * T(c, o) for every element of dW [3, 3, C, O] (see the header): the 5×5 filter gradient of |x| and |dy| with
 * one more pixel of padding on each side (offsets −1..3), summed over its 25 taps.
 */
async function tileScale(c: Case, xv: Float32Array, dyv: Float32Array, backend: 'cpu' | 'wasm' = 'cpu'): Promise<Float32Array> {
  const d = dims(c), sh = shapes(c);
  const pb = d.outHeight + 2 - d.inHeight - d.padTop, pr = d.outWidth + 2 - d.inWidth - d.padLeft;
  const pad = [[0, 0], [d.padTop + 1, pb + 1], [d.padLeft + 1, pr + 1], [0, 0]];
  const ax = xv.map(Math.abs), ady = dyv.map(Math.abs);
  const t5 = await on(backend, () => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(ax, sh.x), dy: tf.tensor4d(ady, sh.dy) },
    { strides: [1, 1], pad, dataFormat: 'NHWC', filterShape: [5, 5, c.ci, c.co] } as never) as tf.Tensor);
  const n = c.ci * c.co, out = new Float32Array(9 * n);
  for (let q = 0; q < n; q++) {
    let t = 0;
    for (let k = 0; k < 25; k++) t += t5[k * n + q]!;
    for (let k = 0; k < 9; k++) out[k * n + q] = t;
  }
  return out;
}

/** The worst |got − want| / T over the elements (3×3 filters), the cpu reference and Σ|x||dy| per element. */
async function check(c: Case, xv: Float32Array, dyv: Float32Array, got: Float32Array): Promise<{ worst: number; want: Float32Array; own: Float32Array }> {
  const want = await on('cpu', filterGrad(c, xv, dyv));
  const own = await on('cpu', filterGrad(c, xv.map(Math.abs), dyv.map(Math.abs)));
  // other filter sizes run the direct kernel: its own scale
  const scale = (c.k ?? 3) === 3 ? await tileScale(c, xv, dyv) : own;
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (e > 0) worst = Math.max(worst, scale[i]! > 0 ? e / scale[i]! : Infinity);
  }
  return { worst, want, own };
}

describe('Winograd F(3x3,2x2) Conv2DBackpropFilter matches tfjs cpu', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterEach(() => {
    setRelaxedSimdEnabled(true);
    setWinogradFilterEnabled(true);
  });

  it('takes the 3×3 layers with ≥ 8 input channels in fours, output channels in eights and pads ≥ 0', () => {
    const d = dims({ b: 1, h: 64, w: 150, ci: 16, co: 32, pad: 'same' });
    expect(simdWinogradFilterSupports(d)).toBe(true);
    expect(simdWinogradFilterSupports(dims({ b: 8, h: 32, w: 75, ci: 32, co: 64, pad: 'same' }))).toBe(true);
    expect(simdWinogradFilterSupports(dims({ b: 1, h: 128, w: 300, ci: 1, co: 16, pad: 'same' }))).toBe(false);
    expect(simdWinogradFilterSupports({ ...d, inChannels: 4 })).toBe(false);
    expect(simdWinogradFilterSupports({ ...d, inChannels: 18 })).toBe(false);
    expect(simdWinogradFilterSupports({ ...d, outChannels: 12 })).toBe(false);
    expect(simdWinogradFilterSupports({ ...d, filterHeight: 5, filterWidth: 5 })).toBe(false);
    expect(simdWinogradFilterSupports({ ...d, padTop: -1 })).toBe(false);
    // pads 2 + 0 give the same output size; 3 would need a bottom pad of −1
    expect(simdWinogradFilterSupports({ ...d, padTop: 2, padLeft: 2 })).toBe(true);
    expect(simdWinogradFilterSupports({ ...d, padTop: 3 })).toBe(false);
    expect(simdWinogradFilterSupports({ ...d, padLeft: 3 })).toBe(false);
  });

  let seed = 501;
  for (const c of cases) {
    const s = seed++;
    const sh = shapes(c);
    // x ≥ 0 with zeros, as after a ReLU; dy of both signs
    const xv = rand(size(sh.x), s).map((v) => Math.max(0, v)), dyv = rand(size(sh.dy), s + 100);
    for (const relaxed of [true, false]) {
      it(`${label(c)}, ${relaxed ? 'relaxed SIMD' : 'baseline SIMD'}`, async () => {
        setRelaxedSimdEnabled(relaxed);
        expect(simdVariant()).toBe(relaxed ? 'relaxed' : 'baseline');
        const got = await on('wasm', filterGrad(c, xv, dyv));
        expect((await check(c, xv, dyv, got)).worst).toBeLessThanOrEqual(TOL);
      });
    }
  }

  it('takes the Winograd path exactly where simdWinogradFilterSupports says so (the toggle changes the bits only there)', async () => {
    for (const c of cases) {
      const sh = shapes(c);
      const xv = rand(size(sh.x), 7).map((v) => Math.max(0, v)), dyv = rand(size(sh.dy), 8);
      setWinogradFilterEnabled(false);
      const direct = await on('wasm', filterGrad(c, xv, dyv));
      setWinogradFilterEnabled(true);
      const wino = await on('wasm', filterGrad(c, xv, dyv));
      // a 1×1 image has one product per tap: both paths are exact there
      if (simdWinogradFilterSupports(dims(c)) && c.h * c.w > 1) expect(Array.from(wino), label(c)).not.toEqual(Array.from(direct));
      else if (!simdWinogradFilterSupports(dims(c))) expect(Array.from(wino), label(c)).toEqual(Array.from(direct));
    }
  });

  it('agrees with the direct kernel on the cnn3 training shapes at batch 1 and 8 (within 1e-5 · T)', async () => {
    for (const b of [1, 8]) {
      for (const [h, w, ci, co] of [[64, 150, 16, 32], [32, 75, 32, 64]] as const) {
        const c: Case = { b, h, w, ci, co, pad: 'same' };
        expect(simdWinogradFilterSupports(dims(c))).toBe(true);
        const sh = shapes(c);
        const xv = rand(size(sh.x), h + ci + b).map((v) => Math.max(0, v)), dyv = rand(size(sh.dy), w + co + b);
        setWinogradFilterEnabled(false);
        const direct = await on('wasm', filterGrad(c, xv, dyv));
        setWinogradFilterEnabled(true);
        const wino = await on('wasm', filterGrad(c, xv, dyv));
        // the cpu backend takes minutes here: the scale T from the direct kernel (5×5, sums of |·|)
        const scale = await tileScale(c, xv, dyv, 'wasm');
        let worst = 0;
        for (let i = 0; i < wino.length; i++) worst = Math.max(worst, Math.abs(wino[i]! - direct[i]!) / scale[i]!);
        expect(worst, label(c)).toBeLessThanOrEqual(TOL);
      }
    }
  });

  // Sparse channels (ReLU inputs that are mostly 0, gradients that are mostly 0) leave taps that no product
  // reaches: exactly 0 in the direct sum and in PyTorch, and so they must be here (Adam's ε = 1e-8 would
  // turn rounding noise there into a weight update). Magnitudes spread over 8 decades give taps with tiny
  // but non-zero sums too, which must keep their value; widths 70 and 150 put bit rows across 64-bit words.
  for (const c of [
    { b: 2, h: 9, w: 70, ci: 8, co: 16, pad: 'same', px: 0.03, pdy: 0.1 },
    { b: 8, h: 4, w: 150, ci: 16, co: 8, pad: 'same', px: 0.005, pdy: 0.02 },
    { b: 1, h: 6, w: 75, ci: 32, co: 32, pad: 'same', px: 0.03, pdy: 0.1 },
    { b: 3, h: 7, w: 67, ci: 8, co: 8, pad: [[0, 0], [2, 0], [0, 1], [0, 0]], px: 0.03, pdy: 0.1 },
  ] as Array<Case & { px: number; pdy: number }>) {
    for (const relaxed of [true, false]) {
      it(`sparse inputs: exact zeros where no product reaches a tap, ${label(c)}, ${relaxed ? 'relaxed' : 'baseline'} SIMD`, async () => {
        const sh = shapes(c);
        const sparse = (n: number, s: number, p: number, signed: boolean): Float32Array => {
          const u = rand(n, s), v = rand(n, s + 1), m = rand(n, s + 2);
          return u.map((a, i) => (Math.abs(a) < p ? (signed ? Math.sign(v[i]!) : 1) * 10 ** (-8 * Math.abs(m[i]!)) : 0));
        };
        const xv = sparse(size(sh.x), 41, c.px, false), dyv = sparse(size(sh.dy), 43, c.pdy, true);
        setRelaxedSimdEnabled(relaxed);
        const got = await on('wasm', filterGrad(c, xv, dyv));
        const { worst, want, own } = await check(c, xv, dyv, got);
        expect(worst).toBeLessThanOrEqual(TOL);
        const n = c.ci * c.co;
        let zeros = 0, small = 0;
        for (let i = 0; i < got.length; i++) {
          if (own[i] === 0) {
            zeros++;
            expect(got[i], `element ${i}`).toBe(0);
            continue;
          }
          let max = 0;
          for (let k = 0; k < 9; k++) max = Math.max(max, Math.abs(want[(i % n) + k * n]!));
          if (Math.abs(want[i]!) <= 2 ** -17 * max) {
            small++;
            expect(Math.abs(got[i]! - want[i]!), `element ${i}`).toBeLessThanOrEqual(TOL * own[i]!);
          }
        }
        // the case has both kinds
        expect(zeros).toBeGreaterThan(0);
        expect(small).toBeGreaterThan(0);
      });
    }
  }

  it('overwrites a recycled output buffer and leaves x and dy alone', async () => {
    const c: Case = { b: 2, h: 7, w: 9, ci: 16, co: 16, pad: 'same' };
    const sh = shapes(c);
    const xv = rand(size(sh.x), 91), dyv = rand(size(sh.dy), 92);
    await initBackend('wasm');
    const x = tf.tensor4d(xv, sh.x), dy = tf.tensor4d(dyv, sh.dy);
    const run = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: sh.f } as never) as tf.Tensor;
    const first = run();
    const a = Array.from((await first.data()) as Float32Array);
    first.dispose();
    tf.tidy(() => tf.fill(sh.f, 123.5));
    const second = run();
    expect(Array.from((await second.data()) as Float32Array)).toEqual(a);
    expect(Array.from((await x.data()) as Float32Array)).toEqual(Array.from(xv));
    expect(Array.from((await dy.data()) as Float32Array)).toEqual(Array.from(dyv));
    tf.dispose([x, dy, second]);
  });
});
