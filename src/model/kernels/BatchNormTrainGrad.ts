/**
 * SerBatchNormTrainGrad on wasm (dy, x, gamma, mean, variance, dmean, dvariance) → [dx, dgamma, dbeta]:
 * WebAssembly SIMD when C % 4 == 0, else the JS passes (batchnorm-math.ts; cpu/BatchNormTrainGrad.ts
 * is the cpu twin).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';
import { BN_TRAIN_GRAD, backwardSimd, bnTrainBackward, channels, epsilon, type Args, type GradInputs } from './batchnorm-math.js';

function gradWasm(args: Args<GradInputs>): TensorInfo[] {
  const { dy, x, gamma, mean, variance, dmean, dvariance } = args.inputs;
  const c = channels(BN_TRAIN_GRAD, x, [gamma, mean, variance, dmean, dvariance]);
  const backend = args.backend as WasmBackendLike;
  const dx = backend.makeOutput(x.shape.slice(), 'float32');
  const dgamma = backend.makeOutput([c], 'float32');
  const dbeta = backend.makeOutput([c], 'float32');
  const eps = epsilon(args.attrs);
  if (!backwardSimd(backend, args.inputs, eps, dx, dgamma, dbeta, c)) {
    const v = (t: TensorInfo): Float32Array => f32(backend, t);
    bnTrainBackward(v(dy), v(x), v(gamma), v(mean), v(variance), v(dmean), v(dvariance), eps,
      v(dx), v(dgamma), v(dbeta));
  }
  return [dx, dgamma, dbeta];
}

export const batchNormTrainGradConfig: KernelConfig = { kernelName: BN_TRAIN_GRAD, backendName: 'wasm', kernelFunc: gradWasm as unknown as KernelFunc };
