/**
 * Our direct SIMD convolution (simd/conv2d.wat) behind Conv2D and Conv2DBackpropInput on wasm, against
 * tfjs's cpu backend: odd image sizes (widths that are not multiples of the 4-pixel tile, narrower than
 * it), kernel sizes 1–5, 'same' / 'valid' / explicit asymmetric pads, input channels 1–64, output channels
 * that take the kernel (multiples of 8) and ones that fall back to XNNPACK; with relaxed SIMD (fused
 * multiply-add), with the baseline module, and with the SIMD kernels off (the fallback path).
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import { setRelaxedSimdEnabled, setSimdKernelsEnabled, simdConv2DS1Supports, simdVariant } from '../../src/model/kernels/simd/index.js';
import { relaxedSimdSupported } from '../../src/model/kernels/simd/relaxed.js';
import { rand, on, maxRelErr } from './helpers.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case { b: number; h: number; w: number; ci: number; co: number; kh: number; kw: number; pad: Pad; s?: number; d?: number }

const cases: Case[] = [
  // the cnn3 / cnn4 layer kinds, small
  { b: 1, h: 8, w: 10, ci: 1, co: 16, kh: 3, kw: 3, pad: 'same' },
  { b: 2, h: 6, w: 9, ci: 16, co: 32, kh: 3, kw: 3, pad: 'same' },
  { b: 3, h: 5, w: 7, ci: 32, co: 64, kh: 3, kw: 3, pad: 'same' },
  { b: 1, h: 4, w: 5, ci: 64, co: 128, kh: 3, kw: 3, pad: 'same' },
  // widths below / around the 4-pixel tile, odd heights
  { b: 2, h: 3, w: 1, ci: 8, co: 8, kh: 3, kw: 3, pad: 'same' },
  { b: 1, h: 1, w: 3, ci: 3, co: 16, kh: 3, kw: 3, pad: 'same' },
  { b: 2, h: 7, w: 5, ci: 5, co: 24, kh: 3, kw: 3, pad: 'same' },
  { b: 1, h: 9, w: 13, ci: 3, co: 8, kh: 5, kw: 5, pad: 'same' },
  { b: 2, h: 9, w: 11, ci: 16, co: 16, kh: 5, kw: 5, pad: 'valid' },
  { b: 2, h: 7, w: 9, ci: 32, co: 8, kh: 3, kw: 3, pad: 'valid' },
  { b: 3, h: 5, w: 6, ci: 7, co: 40, kh: 1, kw: 1, pad: 'same' },
  // non-square and even kernels (asymmetric 'same' pads), explicit pads
  { b: 1, h: 8, w: 10, ci: 4, co: 16, kh: 3, kw: 5, pad: 'same' },
  { b: 2, h: 6, w: 9, ci: 8, co: 8, kh: 2, kw: 4, pad: 'same' },
  { b: 1, h: 7, w: 8, ci: 16, co: 32, kh: 3, kw: 3, pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
  { b: 2, h: 5, w: 6, ci: 8, co: 16, kh: 3, kw: 2, pad: [[0, 0], [1, 2], [3, 0], [0, 0]] },
  // output channels the kernel does not take (→ XNNPACK), strides and dilations (→ tfjs)
  { b: 2, h: 7, w: 9, ci: 3, co: 5, kh: 3, kw: 3, pad: 'same' },
  { b: 1, h: 6, w: 7, ci: 16, co: 12, kh: 3, kw: 3, pad: 'same' },
  { b: 2, h: 9, w: 10, ci: 8, co: 16, kh: 3, kw: 3, pad: 'same', s: 2 },
  { b: 1, h: 9, w: 10, ci: 8, co: 16, kh: 3, kw: 3, pad: 'same', d: 2 },
];

function shapes(c: Case): { x: [number, number, number, number]; f: [number, number, number, number]; dy: [number, number, number, number] } {
  const x: [number, number, number, number] = [c.b, c.h, c.w, c.ci];
  const f: [number, number, number, number] = [c.kh, c.kw, c.ci, c.co];
  const info = tf.backend_util.computeConv2DInfo(x, f, c.s ?? 1, c.d ?? 1, c.pad as never, undefined, false, 'channelsLast');
  return { x, f, dy: [c.b, info.outHeight, info.outWidth, c.co] };
}

const size = (s: number[]): number => s.reduce((a, v) => a * v, 1);
const label = (c: Case): string =>
  `b${c.b} ${c.h}x${c.w} ${c.ci}->${c.co} k${c.kh}x${c.kw} ${typeof c.pad === 'string' ? c.pad : 'explicit'}${c.s ? ` s${c.s}` : ''}${c.d ? ` d${c.d}` : ''}`;

const modes = [
  { name: 'relaxed SIMD', relaxed: true, simd: true },
  { name: 'baseline SIMD', relaxed: false, simd: true },
  { name: 'SIMD off (fallback)', relaxed: true, simd: false },
];

describe('direct SIMD Conv2D / Conv2DBackpropInput match tfjs cpu', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterEach(() => {
    setSimdKernelsEnabled(true);
    setRelaxedSimdEnabled(true);
  });

  it('relaxed SIMD is on in Node after initBackend, and the relaxed build is the one used', () => {
    expect(relaxedSimdSupported()).toBe(true);
    expect(simdVariant()).toBe('relaxed');
    setRelaxedSimdEnabled(false);
    expect(simdVariant()).toBe('baseline');
  });

  it('takes the cnn3 / cnn4 layer shapes and refuses what it cannot do', () => {
    const d = { batch: 1, inHeight: 128, inWidth: 300, inChannels: 1, outChannels: 16, filterHeight: 3, filterWidth: 3, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1 };
    expect(simdConv2DS1Supports(d)).toBe(true);
    expect(simdConv2DS1Supports({ ...d, outChannels: 12 })).toBe(false);
    expect(simdConv2DS1Supports({ ...d, padTop: -1 })).toBe(false);
    expect(simdConv2DS1Supports({ ...d, inWidth: 1, padLeft: 0, padRight: 0 })).toBe(false);
  });

  let seed = 11;
  for (const c of cases) {
    const s = seed++;
    const sh = shapes(c);
    const xv = rand(size(sh.x), s), fv = rand(size(sh.f), s + 100), dyv = rand(size(sh.dy), s + 200);
    const fwd = () => tf.conv2d(tf.tensor4d(xv, sh.x), tf.tensor4d(fv, sh.f), c.s ?? 1, c.pad as never, 'NHWC', c.d ?? 1);
    const bwd = () => tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor4d(dyv, sh.dy), filter: tf.tensor4d(fv, sh.f) },
      { strides: c.s ?? 1, pad: c.pad, dataFormat: 'NHWC', inputShape: sh.x } as never) as tf.Tensor;
    for (const m of modes) {
      it(`Conv2D ${label(c)}, ${m.name}`, async () => {
        const want = await on('cpu', fwd);
        setSimdKernelsEnabled(m.simd);
        setRelaxedSimdEnabled(m.relaxed);
        const got = await on('wasm', fwd);
        expect(maxRelErr(got, want)).toBeLessThanOrEqual(1e-4);
      });
      // dilated input gradients are not something tfjs computes (no dilations attribute)
      if (c.d) continue;
      it(`Conv2DBackpropInput ${label(c)}, ${m.name}`, async () => {
        const want = await on('cpu', bwd);
        setSimdKernelsEnabled(m.simd);
        setRelaxedSimdEnabled(m.relaxed);
        const got = await on('wasm', bwd);
        expect(maxRelErr(got, want)).toBeLessThanOrEqual(1e-4);
      });
    }
  }

  it('overwrites a recycled output buffer and leaves the inputs alone', async () => {
    const sh = shapes({ b: 1, h: 6, w: 7, ci: 8, co: 16, kh: 3, kw: 3, pad: 'same' });
    const xv = rand(size(sh.x), 91), fv = rand(size(sh.f), 92);
    await initBackend('wasm');
    const x = tf.tensor4d(xv, sh.x), f = tf.tensor4d(fv, sh.f);
    const first = (await tf.conv2d(x, f, 1, 'same').data()) as Float32Array;
    tf.tidy(() => tf.fill(sh.dy, 123.5));
    const y = tf.conv2d(x, f, 1, 'same');
    expect(Array.from((await y.data()) as Float32Array)).toEqual(Array.from(first));
    expect(Array.from((await x.data()) as Float32Array)).toEqual(Array.from(xv));
    tf.dispose([x, f, y]);
  });

  it('matches XNNPACK on the cnn3 training shapes (batch 2)', async () => {
    for (const [h, w, ci, co] of [[128, 300, 1, 16], [64, 150, 16, 32], [32, 75, 32, 64]] as const) {
      const sh = shapes({ b: 2, h, w, ci, co, kh: 3, kw: 3, pad: 'same' });
      const xv = rand(size(sh.x), h), fv = rand(size(sh.f), w);
      const fwd = () => tf.conv2d(tf.tensor4d(xv, sh.x), tf.tensor4d(fv, sh.f), 1, 'same');
      setSimdKernelsEnabled(false);
      const want = await on('wasm', fwd);
      setSimdKernelsEnabled(true);
      const got = await on('wasm', fwd);
      expect(maxRelErr(got, want)).toBeLessThanOrEqual(1e-5);
    }
  });
});
