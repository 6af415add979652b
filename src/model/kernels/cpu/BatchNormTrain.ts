/** SerBatchNormTrain on the cpu backend: the JS passes of ../batchnorm-math.ts. */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BN_TRAIN, bnTrainForward, channels, epsilon, type Args, type TrainInputs } from '../batchnorm-math.js';
import { cpuValues, type CpuBackendLike } from './backend.js';

function trainCpu(args: Args<TrainInputs>): TensorInfo[] {
  const { x, gamma, beta } = args.inputs;
  const c = channels(BN_TRAIN, x, [gamma, beta]);
  const backend = args.backend as CpuBackendLike;
  const y = new Float32Array(x.shape.reduce((p, s) => p * s, 1));
  const mean = new Float32Array(c);
  const variance = new Float32Array(c);
  bnTrainForward(cpuValues(backend, x), cpuValues(backend, gamma), cpuValues(backend, beta), epsilon(args.attrs), y, mean, variance);
  return [
    backend.makeTensorInfo(x.shape.slice(), 'float32', y),
    backend.makeTensorInfo([c], 'float32', mean),
    backend.makeTensorInfo([c], 'float32', variance),
  ];
}

export const batchNormTrainCpuConfig: KernelConfig = { kernelName: BN_TRAIN, backendName: 'cpu', kernelFunc: trainCpu as unknown as KernelFunc };
