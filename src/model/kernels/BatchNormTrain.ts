/**
 * SerBatchNormTrain on wasm (x, gamma, beta; attr epsilon) → [y, batch mean, biased batch variance]
 * over the last axis of a channels-last x: WebAssembly SIMD when C % 4 == 0, else the JS passes (see
 * batchnorm-math.ts for the arithmetic; cpu/BatchNormTrain.ts is the cpu twin).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';
import { BN_TRAIN, channels, epsilon, forwardSimd, bnTrainForward, type Args, type TrainInputs } from './batchnorm-math.js';

function trainWasm(args: Args<TrainInputs>): TensorInfo[] {
  const { x, gamma, beta } = args.inputs;
  const c = channels(BN_TRAIN, x, [gamma, beta]);
  const backend = args.backend as WasmBackendLike;
  // allocate first: heap views go stale when wasm memory grows
  const y = backend.makeOutput(x.shape.slice(), 'float32');
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  const eps = epsilon(args.attrs);
  if (!forwardSimd(backend, x, gamma, beta, eps, y, mean, variance, c)) {
    bnTrainForward(f32(backend, x), f32(backend, gamma), f32(backend, beta), eps,
      f32(backend, y), f32(backend, mean), f32(backend, variance));
  }
  return [y, mean, variance];
}

export const batchNormTrainConfig: KernelConfig = { kernelName: BN_TRAIN, backendName: 'wasm', kernelFunc: trainWasm as unknown as KernelFunc };
