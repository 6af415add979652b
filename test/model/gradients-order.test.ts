import { it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';

// tfjs-layers registers tfjs's own gradients when it loads; ours (Relu → SerReluGrad, Sum → Tile) must survive a
// layers import that comes after initBackend (src/model/kernels/index.ts loads the layers first for that)
it('our Relu and Sum gradients stay registered when tfjs-layers is imported after initBackend', async () => {
  const kernels = async (): Promise<string[]> => {
    await initBackend('wasm');
    return (await tf.profile(() => tf.grad((v: tf.Tensor) => tf.sum(tf.relu(v)))(tf.tensor([1, -2, 3, 0])))).kernelNames;
  };
  const before = await kernels();
  await import('@tensorflow/tfjs-layers');
  await import('../../src/model/layers.js');
  const after = await kernels();
  for (const names of [before, after]) {
    expect(names).toContain('SerReluGrad');
    expect(names).toContain('Tile');
    expect(names).not.toContain('Step');
  }
});
