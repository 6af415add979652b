/** Small helpers for kernels on the wasm backend: typed views of tensors in wasm memory. */
import type { TensorInfo } from '@tensorflow/tfjs-core';

/** The part of BackendWasm our kernels use (kept structural so we need not import its class). */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** A Float32Array view of a float32 tensor's memory (valid until the next allocation). */
export function f32(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}
