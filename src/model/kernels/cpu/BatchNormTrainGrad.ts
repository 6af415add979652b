/** SerBatchNormTrainGrad on the cpu backend: the JS passes of ../batchnorm-math.ts. */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BN_TRAIN_GRAD, bnTrainBackward, channels, epsilon, type Args, type GradInputs } from '../batchnorm-math.js';
import { cpuValues, type CpuBackendLike } from './backend.js';

function gradCpu(args: Args<GradInputs>): TensorInfo[] {
  const { dy, x, gamma, mean, variance, dmean, dvariance } = args.inputs;
  const c = channels(BN_TRAIN_GRAD, x, [gamma, mean, variance, dmean, dvariance]);
  const backend = args.backend as CpuBackendLike;
  const v = (t: TensorInfo): Float32Array => cpuValues(backend, t);
  const dx = new Float32Array(x.shape.reduce((p, s) => p * s, 1));
  const dgamma = new Float32Array(c);
  const dbeta = new Float32Array(c);
  bnTrainBackward(v(dy), v(x), v(gamma), v(mean), v(variance), v(dmean), v(dvariance), epsilon(args.attrs), dx, dgamma, dbeta);
  return [
    backend.makeTensorInfo(x.shape.slice(), 'float32', dx),
    backend.makeTensorInfo([c], 'float32', dgamma),
    backend.makeTensorInfo([c], 'float32', dbeta),
  ];
}

export const batchNormTrainGradCpuConfig: KernelConfig = { kernelName: BN_TRAIN_GRAD, backendName: 'cpu', kernelFunc: gradCpu as unknown as KernelFunc };
