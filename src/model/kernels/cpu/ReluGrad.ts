/** SerReluGrad on the cpu backend (see ../ReluGrad.ts). */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { RELU_GRAD, check, reluGradLoop } from '../ReluGrad.js';
import type { CpuBackendLike } from './backend.js';

function reluGradCpu(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: unknown }): TensorInfo {
  const { dy, x } = args.inputs;
  check(dy, x);
  const backend = args.backend as CpuBackendLike;
  const g = backend.data.get(dy.dataId).values as Float32Array;
  const out = new Float32Array(g.length);
  reluGradLoop(g, backend.data.get(x.dataId).values as Float32Array, out);
  return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
}

export const reluGradCpuConfig: KernelConfig = { kernelName: RELU_GRAD, backendName: 'cpu', kernelFunc: reluGradCpu as unknown as KernelFunc };
