/**
 * Identity for wasm without a copy: the output shares the input's memory (reference counted, as the
 * cpu backend and wasm's own Reshape do). tfjs clones every tensor it saves for the backward pass,
 * and the stock wasm Identity copies each one (profile: ~60 copies per cnn3 step).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

function identity(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') throw new Error('Identity (wasm): string tensors are not supported');
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelFunc,
};
