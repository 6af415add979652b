/** What our cpu kernels use of tfjs's cpu backend: tensor values, new tensors, reference counts. */
import type { TensorInfo } from '@tensorflow/tfjs-core';

export interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  incRef(dataId: object): void;
}

/** The Float32Array behind a tensor of the cpu backend. */
export function cpuValues(backend: CpuBackendLike, t: TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}
