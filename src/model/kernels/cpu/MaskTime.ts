/** SerMaskTime on the cpu backend (see ../MaskTime.ts). */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { MASK_TIME, dims, maskedRuns, zeroRuns } from '../MaskTime.js';
import type { CpuBackendLike } from './backend.js';

function maskTimeCpu(args: { inputs: { x: TensorInfo; mask: TensorInfo }; backend: unknown }): TensorInfo {
  const { x, mask } = args.inputs;
  const backend = args.backend as CpuBackendLike;
  const [b, rows, t, c, t0] = dims(x, mask);
  const runs = maskedRuns(backend.data.get(mask.dataId).values as Float32Array, b, t0, t);
  if (!runs) {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  }
  const out = new Float32Array(backend.data.get(x.dataId).values as Float32Array);
  zeroRuns(out, 0, runs, rows, t, c);
  return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
}

export const maskTimeCpuConfig: KernelConfig = { kernelName: MASK_TIME, backendName: 'cpu', kernelFunc: maskTimeCpu as unknown as KernelFunc };
