/**
 * Tile for wasm by block copies: the innermost axis is written once, then every axis's block is
 * repeated with memmoves (copyWithin on the wasm heap, doubling the copied span each time).
 * tfjs-wasm's own Tile computes an index per element: 221 ms for [1,1,1,16] → [8,128,256,16], which
 * tfjs's batch-norm gradient does once per layer per step (profile of cnn3-resized); this takes ~2 ms.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './heap.js';
import { original } from './registry.js';

interface HeapBackend extends WasmBackendLike {
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Repeats heap[dst, dst + n) `times` times in place after itself (span doubling). */
function repeatBlock(heap: Float32Array | Int32Array | Uint8Array, dst: number, n: number, times: number): void {
  let have = n;
  const total = n * times;
  while (have < total) {
    const len = Math.min(have, total - have);
    heap.copyWithin(dst + have, dst, dst + len);
    have += len;
  }
}

function tile(args: { inputs: { x: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const { x } = args.inputs;
  const backend = args.backend as HeapBackend;
  const reps = (args.attrs as unknown as { reps: number[] }).reps;
  if (x.dtype === 'string' || x.dtype === 'complex64' || reps.length !== x.shape.length || x.shape.length === 0) {
    return original('Tile')(args as never) as TensorInfo;
  }
  const rank = x.shape.length;
  const outShape = x.shape.map((s, i) => s * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype as 'float32');
  if (outShape.some((s) => s === 0)) return out;
  const xs = backend.typedArrayFromHeap(x);
  const os = backend.typedArrayFromHeap(out);
  // element-typed view of the whole heap so copies between the two tensors are plain memmoves
  const heap = new (xs.constructor as Float32ArrayConstructor)(xs.buffer) as unknown as Float32Array;
  const el = xs.BYTES_PER_ELEMENT;
  const xBase = xs.byteOffset / el, oBase = os.byteOffset / el;
  const inStride = new Array<number>(rank), outStride = new Array<number>(rank);
  inStride[rank - 1] = 1;
  outStride[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) {
    inStride[d] = inStride[d + 1] * x.shape[d + 1];
    outStride[d] = outStride[d + 1] * outShape[d + 1];
  }
  const fill = (d: number, src: number, dst: number): void => {
    const n = x.shape[d];
    if (d === rank - 1) heap.copyWithin(dst, src, src + n);
    else for (let i = 0; i < n; i++) fill(d + 1, src + i * inStride[d], dst + i * outStride[d]);
    if (reps[d] > 1) repeatBlock(heap, dst, n * outStride[d], reps[d]);
  };
  fill(0, xBase, oBase);
  return out;
}

export const tileConfig: KernelConfig = {
  kernelName: 'Tile',
  backendName: 'wasm',
  kernelFunc: tile as unknown as KernelFunc,
};
