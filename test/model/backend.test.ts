import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import { wasmKernels } from '../../src/model/kernels/index.js';

function hasTfjsNode(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

describe('initBackend', () => {
  it('selects wasm by default and registers every custom kernel over tfjs', async () => {
    expect(await initBackend()).toBe('wasm');
    for (const k of wasmKernels) expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(k.kernelFunc);
    expect(wasmKernels.map((k) => k.kernelName)).toContain('Conv2DBackpropFilter');
  });

  it('selects cpu', async () => {
    expect(await initBackend('cpu')).toBe('cpu');
    expect(await initBackend('wasm')).toBe('wasm');
  });

  it.skipIf(hasTfjsNode())("refuses 'tensorflow' clearly when @tensorflow/tfjs-node is not installed", async () => {
    await expect(initBackend('tensorflow')).rejects.toMatchObject({ code: 'model/backend-unavailable', message: expect.stringMatching(/tfjs-node/) });
  });

  it('refuses an unknown backend name', async () => {
    await expect(initBackend('webgpu' as never)).rejects.toMatchObject({ code: 'model/backend-unknown' });
  });
});
