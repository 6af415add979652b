import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { DSP_WASM_BASE64 } from '../../src/dsp/wasm/module.js';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import { setSimdKernelsEnabled, simdAvailable } from '../../src/model/kernels/simd/index.js';
import { SIMD_WASM_BASE64, SIMD_RELAXED_WASM_BASE64 } from '../../src/model/kernels/simd/module.js';
import { rand } from './helpers.js';

type Kind = 'relu' | 'quantised' | 'uniform' | 'constant';

/** Inputs with the ties that matter for the first-max rule: ReLU zeros, a few levels, all equal. */
function input(n: number, kind: Kind, seed: number): Float32Array {
  const r = rand(n, seed);
  switch (kind) {
    case 'relu': return r.map((v) => Math.max(0, v)); // about half exact zeros
    case 'quantised': return r.map((v) => Math.round(v * 2)); // 5 levels incl. -0 and +0
    case 'uniform': return r;
    case 'constant': return r.fill(0.25);
  }
}

async function maxPoolGrad(backend: 'cpu' | 'wasm', shape: [number, number, number, number], xv: Float32Array, dyv: Float32Array): Promise<Float32Array> {
  await initBackend(backend);
  const out = tf.tidy(() => {
    const x = tf.tensor4d(xv, shape);
    const y = tf.maxPool(x, 2, 2, 'valid');
    const dy = tf.tensor4d(dyv, y.shape as [number, number, number, number]);
    return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' } as never) as tf.Tensor;
  });
  const v = (await out.data()) as Float32Array;
  out.dispose();
  return v;
}

/** Bit-exact comparison (distinguishes +0 and -0), reporting the first mismatch. */
function expectIdentical(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) expect(`[${i}] ${got[i]}`).toBe(`[${i}] ${want[i]}`);
  }
}

/** dx from tfjs's cpu backend differs from ours only in the sign of zeros (it sums into +0). */
function expectEqualValues(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) expect(`[${i}] ${got[i]}`).toBe(`[${i}] ${want[i]}`);
  }
}

describe('SIMD MaxPoolGrad 2x2/2 valid matches the JS loop and tfjs cpu exactly', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterEach(() => setSimdKernelsEnabled(true));

  it('the SIMD module is available on the Node wasm backend', async () => {
    await initBackend('wasm');
    expect(simdAvailable(tf.backend())).toBe(true);
  });

  // no H or W < 2: tfjs-wasm's own forward maxPool corrupts its heap on an empty output (tfjs 4.22)
  const sizes: Array<[number, number]> = [[6, 8], [7, 9], [5, 4], [4, 7], [2, 3], [2, 2], [3, 3], [16, 30]];
  const kinds: Kind[] = ['relu', 'quantised', 'uniform', 'constant'];
  let seed = 100;
  for (const b of [1, 3]) {
    for (const c of [4, 8, 16, 32]) {
      for (const [h, w] of sizes) {
        const kind = kinds[seed % kinds.length];
        const s = seed++;
        it(`b${b} ${h}x${w}x${c} ${kind}`, async () => {
          const shape: [number, number, number, number] = [b, h, w, c];
          const xv = input(b * h * w * c, kind, s);
          const dyv = rand(b * (h >> 1) * (w >> 1) * c, s + 7777);
          setSimdKernelsEnabled(true);
          const simd = await maxPoolGrad('wasm', shape, xv, dyv);
          setSimdKernelsEnabled(false);
          const js = await maxPoolGrad('wasm', shape, xv, dyv);
          setSimdKernelsEnabled(true);
          const cpu = await maxPoolGrad('cpu', shape, xv, dyv);
          expectIdentical(simd, js);
          expectEqualValues(simd, cpu);
        });
      }
    }
  }

  it('all 16 two-level 2x2 windows (every tie pattern) route like tfjs cpu', async () => {
    // exhaustive 2x2 windows over the values {0, 1}: 16 patterns × 4 channels, gradient 1..64
    const shape: [number, number, number, number] = [1, 2, 32, 4];
    const xv = new Float32Array(2 * 32 * 4);
    for (let win = 0; win < 16; win++) {
      for (let ch = 0; ch < 4; ch++) {
        const p = (win + ch) % 16;
        xv[(2 * win) * 4 + ch] = p & 1;
        xv[(2 * win + 1) * 4 + ch] = (p >> 1) & 1;
        xv[32 * 4 + (2 * win) * 4 + ch] = (p >> 2) & 1;
        xv[32 * 4 + (2 * win + 1) * 4 + ch] = (p >> 3) & 1;
      }
    }
    const dyv = Float32Array.from({ length: 16 * 4 }, (_, i) => i + 1);
    const simd = await maxPoolGrad('wasm', shape, xv, dyv);
    const cpu = await maxPoolGrad('cpu', shape, xv, dyv);
    expectEqualValues(simd, cpu);
  });

  it('stays correct after the wasm heap grows between calls', async () => {
    const shape: [number, number, number, number] = [2, 9, 11, 8];
    const xv = input(2 * 9 * 11 * 8, 'relu', 5);
    const dyv = rand(2 * 4 * 5 * 8, 6);
    const before = await maxPoolGrad('wasm', shape, xv, dyv);
    await initBackend('wasm');
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    const start = heapBytes();
    const big = tf.zeros([start / 4 + (16 << 20)]); // larger than the whole heap: forces memory.grow
    const grown = heapBytes();
    const after = await maxPoolGrad('wasm', shape, xv, dyv);
    big.dispose();
    expect(grown).toBeGreaterThan(start);
    expectIdentical(after, before);
  });
});

const hasWabt = (() => {
  try {
    createRequire(import.meta.url).resolve('wabt');
    return true;
  } catch {
    return false;
  }
})();
if (!hasWabt) console.warn('simd.test: wabt is not installed — skipping the module.ts freshness check');

describe('generated module.ts', () => {
  it.skipIf(!hasWabt)('is up to date with the .wat files (both modules re-assembled with wabt)', async () => {
    const script = '../../scripts/build-simd.mjs';
    const { assemble, moduleSource } = (await import(/* @vite-ignore */ script)) as {
      assemble(relaxed?: boolean): Promise<Uint8Array>;
      moduleSource(bytes: Uint8Array, relaxedBytes: Uint8Array): string;
    };
    const bytes = await assemble(false);
    const relaxed = await assemble(true);
    expect(Buffer.from(SIMD_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(SIMD_RELAXED_WASM_BASE64, 'base64').equals(Buffer.from(relaxed))).toBe(true);
    const { readFileSync } = await import('node:fs');
    const file = readFileSync(new URL('../../src/model/kernels/simd/module.ts', import.meta.url), 'utf8');
    expect(file).toBe(moduleSource(bytes, relaxed));
  });

  it.skipIf(!hasWabt)('the DSP module (src/dsp/wasm/module.ts) is up to date with its .wat files too', async () => {
    const { assemble, moduleSource } = (await import(/* @vite-ignore */ '../../scripts/build-simd.mjs')) as {
      assemble(relaxed: boolean, dir: string): Promise<Uint8Array>;
      moduleSource(bytes: Uint8Array, relaxedBytes: null, dir: string): string;
    };
    const { fileURLToPath } = await import('node:url');
    const dir = fileURLToPath(new URL('../../src/dsp/wasm', import.meta.url));
    const bytes = await assemble(false, dir);
    expect(Buffer.from(DSP_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(new URL('../../src/dsp/wasm/module.ts', import.meta.url), 'utf8')).toBe(moduleSource(bytes, null, dir));
  });

  it.skipIf(!hasWabt)('the baseline module has no relaxed-SIMD instruction (mul + add instead)', async () => {
    const { withoutRelaxed } = (await import(/* @vite-ignore */ '../../scripts/build-simd.mjs')) as { withoutRelaxed(t: string): string };
    expect(withoutRelaxed('(local.set $a (f32x4.relaxed_madd (local.get $s) (v128.load offset=16 (local.get $p)) (local.get $a)))'))
      .toBe('(local.set $a (f32x4.add (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $p))) (local.get $a)))');
  });
});
