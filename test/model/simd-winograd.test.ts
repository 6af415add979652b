/**
 * The Winograd F(2×2, 3×3) path (simd/winograd.wat) behind Conv2D and Conv2DBackpropInput on wasm, against
 * tfjs's cpu backend: odd heights and widths (half tiles at the bottom / right edge), 1×1 and 1×N images,
 * tile rows longer than one block, 'same' / 'valid' / explicit asymmetric pads, input channels 8–64 and
 * output channels in eights; with relaxed SIMD and with the baseline module; and that the shapes it does
 * not take (fewer than 8 input channels, other filter sizes) still match through the direct kernel.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import {
  setRelaxedSimdEnabled, setWinogradEnabled, simdWinogradSupports, simdVariant,
} from '../../src/model/kernels/simd/index.js';
import { rand, on, maxRelErr, convLabel, convShapes, type ConvCase } from './helpers.js';

type Case = ConvCase;

const cases: Case[] = [
  // the cnn3 / cnn4 layer kinds, small, odd and even sizes
  { b: 2, h: 6, w: 9, ci: 16, co: 32, pad: 'same' },
  { b: 3, h: 5, w: 7, ci: 32, co: 64, pad: 'same' },
  { b: 1, h: 4, w: 5, ci: 64, co: 128, pad: 'same' },
  { b: 1, h: 8, w: 8, ci: 32, co: 16, pad: 'same' },
  // 1×1, 1×N and N×1 images, a single half tile
  { b: 2, h: 1, w: 1, ci: 8, co: 8, pad: 'same' },
  { b: 1, h: 1, w: 6, ci: 16, co: 8, pad: 'same' },
  { b: 2, h: 7, w: 1, ci: 12, co: 16, pad: 'same' },
  { b: 1, h: 2, w: 3, ci: 8, co: 24, pad: 'same' },
  // tile rows longer than one block (block = ⌊2048 / (C + O)⌋ tiles), with a remainder of 1–3 tiles
  { b: 1, h: 3, w: 171, ci: 8, co: 8, pad: 'same' },
  { b: 2, h: 5, w: 93, ci: 32, co: 64, pad: 'same' },
  // 'valid' and explicit asymmetric pads (incl. a pad of 2 and none)
  { b: 2, h: 7, w: 9, ci: 32, co: 8, pad: 'valid' },
  { b: 1, h: 6, w: 6, ci: 8, co: 16, pad: 'valid' },
  { b: 1, h: 7, w: 8, ci: 16, co: 32, pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
  { b: 2, h: 5, w: 6, ci: 8, co: 16, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  // not taken: < 8 or not-multiple-of-4 input channels, other kernel sizes, output channels % 8 != 0
  { b: 2, h: 6, w: 7, ci: 4, co: 16, pad: 'same' },
  { b: 1, h: 6, w: 7, ci: 10, co: 16, pad: 'same' },
  { b: 1, h: 6, w: 7, ci: 16, co: 16, pad: 'same', k: 5 },
  { b: 1, h: 6, w: 7, ci: 16, co: 12, pad: 'same' },
];

const shapes = convShapes;

const size = (s: number[]): number => s.reduce((a, v) => a * v, 1);
const label = convLabel;

describe('Winograd F(2x2,3x3) Conv2D / Conv2DBackpropInput match tfjs cpu', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterEach(() => {
    setRelaxedSimdEnabled(true);
    setWinogradEnabled(true);
  });

  it('takes the 3×3 layers with ≥ 8 input channels in fours and output channels in eights', () => {
    const d = { batch: 1, inHeight: 64, inWidth: 150, inChannels: 16, outChannels: 32, filterHeight: 3, filterWidth: 3, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1 };
    expect(simdWinogradSupports(d)).toBe(true);
    expect(simdWinogradSupports({ ...d, inChannels: 1, outChannels: 16 })).toBe(false);
    expect(simdWinogradSupports({ ...d, inChannels: 4 })).toBe(false);
    expect(simdWinogradSupports({ ...d, inChannels: 18 })).toBe(false);
    expect(simdWinogradSupports({ ...d, outChannels: 12 })).toBe(false);
    expect(simdWinogradSupports({ ...d, filterHeight: 5, filterWidth: 5 })).toBe(false);
    expect(simdWinogradSupports({ ...d, padTop: -1 })).toBe(false);
  });

  let seed = 301;
  for (const c of cases) {
    const s = seed++;
    const sh = shapes(c);
    const xv = rand(size(sh.x), s), fv = rand(size(sh.f), s + 100), dyv = rand(size(sh.dy), s + 200);
    const fwd = () => tf.conv2d(tf.tensor4d(xv, sh.x), tf.tensor4d(fv, sh.f), 1, c.pad as never, 'NHWC');
    const bwd = () => tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor4d(dyv, sh.dy), filter: tf.tensor4d(fv, sh.f) },
      { strides: 1, pad: c.pad, dataFormat: 'NHWC', inputShape: sh.x } as never) as tf.Tensor;
    for (const relaxed of [true, false]) {
      const mode = relaxed ? 'relaxed SIMD' : 'baseline SIMD';
      it(`Conv2D ${label(c)}, ${mode}`, async () => {
        const want = await on('cpu', fwd);
        setRelaxedSimdEnabled(relaxed);
        expect(simdVariant()).toBe(relaxed ? 'relaxed' : 'baseline');
        const got = await on('wasm', fwd);
        expect(maxRelErr(got, want)).toBeLessThanOrEqual(1e-5);
      });
      it(`Conv2DBackpropInput ${label(c)}, ${mode}`, async () => {
        const want = await on('cpu', bwd);
        setRelaxedSimdEnabled(relaxed);
        const got = await on('wasm', bwd);
        expect(maxRelErr(got, want)).toBeLessThanOrEqual(1e-5);
      });
    }
  }

  it('agrees with the direct kernel on the cnn3 training shapes (batch 2), and the toggle switches paths', async () => {
    for (const [h, w, ci, co] of [[64, 150, 16, 32], [32, 75, 32, 64], [32, 75, 64, 32], [64, 150, 32, 16]] as const) {
      const d = { batch: 2, inHeight: h, inWidth: w, inChannels: ci, outChannels: co, filterHeight: 3, filterWidth: 3, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1 };
      expect(simdWinogradSupports(d)).toBe(true);
      const sh = shapes({ b: 2, h, w, ci, co, pad: 'same' });
      const xv = rand(size(sh.x), h + ci), fv = rand(size(sh.f), w + co);
      const fwd = () => tf.conv2d(tf.tensor4d(xv, sh.x), tf.tensor4d(fv, sh.f), 1, 'same');
      setWinogradEnabled(false);
      const direct = await on('wasm', fwd);
      setWinogradEnabled(true);
      const wino = await on('wasm', fwd);
      expect(maxRelErr(wino, direct)).toBeLessThanOrEqual(1e-5);
      // different roundings: the two paths are not the same code
      expect(Array.from(wino)).not.toEqual(Array.from(direct));
    }
  });

  it('overwrites a recycled output buffer and leaves the inputs alone', async () => {
    const sh = shapes({ b: 1, h: 7, w: 9, ci: 16, co: 16, pad: 'same' });
    const xv = rand(size(sh.x), 91), fv = rand(size(sh.f), 92);
    await initBackend('wasm');
    const x = tf.tensor4d(xv, sh.x), f = tf.tensor4d(fv, sh.f);
    const first = (await tf.conv2d(x, f, 1, 'same').data()) as Float32Array;
    tf.tidy(() => tf.fill(sh.dy, 123.5));
    const y = tf.conv2d(x, f, 1, 'same');
    expect(Array.from((await y.data()) as Float32Array)).toEqual(Array.from(first));
    expect(Array.from((await x.data()) as Float32Array)).toEqual(Array.from(xv));
    expect(Array.from((await f.data()) as Float32Array)).toEqual(Array.from(fv));
    tf.dispose([x, f, y]);
  });
});
