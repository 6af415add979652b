/**
 * Add for wasm with a fast path for the bias add of a conv layer: x [..., C] + b [C] (or b shaped
 * [1, ..., 1, C]), C % 4 == 0, float32, in one streaming pass of our SIMD kernel
 * (simd/channel_ops.wat). tfjs-wasm's broadcasting Add took 4.2 ms on [8,128,300,16] + [16]. Every
 * other case goes to tfjs's kernel.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './heap.js';
import { original } from './registry.js';
import { simdAddRow } from './simd/index.js';

/** Whether `b` is a row to broadcast over the last axis of `a`: [C] or [1, …, 1, C] with rank ≤ a's. */
function isRowOf(a: TensorInfo, b: TensorInfo): boolean {
  const c = a.shape[a.shape.length - 1];
  if (a.shape.length < 2 || b.shape.length > a.shape.length || b.shape[b.shape.length - 1] !== c) return false;
  return b.shape.slice(0, -1).every((d) => d === 1);
}

function add(args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: unknown }): TensorInfo {
  const { a, b } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  if (a.dtype === 'float32' && b.dtype === 'float32') {
    const [x, row] = isRowOf(a, b) ? [a, b] : isRowOf(b, a) ? [b, a] : [null, null];
    if (x && row) {
      const m = x.shape[x.shape.length - 1] as number;
      const n = util.sizeFromShape(x.shape) / m;
      const out = backend.makeOutput(x.shape.slice(), 'float32');
      if (simdAddRow(backend, x, row, out, n, m)) return out;
      backend.disposeData(out.dataId);
    }
  }
  return original('Add')(args as never) as TensorInfo;
}

export const addConfig: KernelConfig = {
  kernelName: 'Add',
  backendName: 'wasm',
  kernelFunc: add as unknown as KernelFunc,
};
