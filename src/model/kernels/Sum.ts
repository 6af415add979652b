/**
 * Sum for wasm with a fast path for reducing all leading axes (bias gradients: dy [b,H,W,C] → [C]):
 * one pass of our SIMD kernel (simd/channel_ops.wat: 6.9 → ~1 ms on [8,128,300,16]) when C % 4 == 0,
 * else xᵀ·1 on the wasm matrix product, instead of tfjs's transpose-then-reduce (a full copy of dy per
 * conv layer per step). Measured (CPU ms, b=4 cnn3 layer shapes, fresh inputs): 3.3 / 1.4 / 0.6 vs
 * 5.8 / 2.9 / 1.4 for a JS float64 loop and 8.5 / 4.5 / 2.2 for 1ᵀ·x (which repacks x). A bias
 * gradient right after SerReluGrad is not even that pass: ReluGrad.ts summed dx while writing it
 * (row-sums.ts). A sum over the middle axes after the batch axis (the global pooling's [b, H, W, C] over
 * H, W) is the same pass per sample. Other reductions use tfjs's kernel.
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo, NamedAttrMap } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';
import { original, wasmKernel } from './registry.js';
import { simdSumRows, simdSumRowsBatched } from './simd/index.js';
import { takeRowSums } from './row-sums.js';

/** The means from the sums: o[j] /= n. */
function divideInPlace(o: Float32Array, n: number): void {
  for (let j = 0; j < o.length; j++) o[j] = (o[j] as number) / n;
}

/**
 * Σ (or the mean) over the leading axes of x (one SIMD pass, else xᵀ·(scale·1)), or over the middle axes
 * after the batch axis (one SIMD pass per sample), or null for any other reduction (the caller then uses
 * tfjs's kernel). Shared by Sum and Mean.
 */
export function reduceLeading(args: { inputs: { x: TensorInfo }; backend: unknown; attrs: NamedAttrMap }, mean: boolean): TensorInfo | null {
  const { x } = args.inputs;
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const backend = args.backend as WasmBackendLike;
  const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
  const shape = keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  // over the middle axes after the batch axis ([b, H, W, C] over H, W: global pooling): per sample, one
  // streaming SIMD pass each (tfjs transposes x first)
  const middle = axes.length > 0 && axes.length < rank - 1 && axes.every((a, i) => a === i + 1);
  if (x.dtype === 'float32' && middle) {
    const outer = x.shape[0] as number;
    const n = util.sizeFromShape(x.shape.slice(1, axes.length + 1)), m = util.sizeFromShape(x.shape.slice(axes.length + 1));
    if (n < 64 || m % 4 !== 0) return null;
    const out = backend.makeOutput(shape, 'float32');
    if (simdSumRowsBatched(backend, x, out, outer, n, m)) {
      if (mean) divideInPlace(f32(backend, out), n);
      return out;
    }
    backend.disposeData(out.dataId);
    return null;
  }
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  const n = util.sizeFromShape(x.shape.slice(0, axes.length));
  const m = util.sizeFromShape(x.shape.slice(axes.length));
  if (x.dtype !== 'float32' || !leading || n < 64) return null;
  // the sums SerReluGrad computed while writing x (row-sums.ts; the same values as simdSumRows), else one
  // streaming SIMD pass when the channels come in fours (every CNN layer here)
  const direct = backend.makeOutput(shape, 'float32');
  const known = m % 4 === 0 ? takeRowSums(x.dataId, m) : undefined;
  if (known) f32(backend, direct).set(known);
  if (known || simdSumRows(backend, x, direct, n, m)) {
    if (mean) divideInPlace(f32(backend, direct), n);
    return direct;
  }
  backend.disposeData(direct.dataId);
  const ones = backend.makeOutput([n, 1], 'float32');
  f32(backend, ones).fill(mean ? 1 / n : 1);
  const reshape = wasmKernel('Reshape');
  const x2 = reshape({ inputs: { x }, backend: backend as never, attrs: { shape: [n, m] } } as never) as TensorInfo;
  // xᵀ·1 with the big operand as the (unpacked) left input: ones·x would make XNNPACK repack x
  const prod = wasmKernel('BatchMatMul')({ inputs: { a: x2, b: ones }, backend: backend as never, attrs: { transposeA: true, transposeB: false } } as never) as TensorInfo;
  backend.disposeData(ones.dataId);
  backend.disposeData(x2.dataId);
  const out = reshape({ inputs: { x: prod }, backend: backend as never, attrs: { shape } } as never) as TensorInfo;
  backend.disposeData(prod.dataId);
  return out;
}

function sum(args: { inputs: { x: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  return reduceLeading(args, false) ?? (original('Sum')(args as never) as TensorInfo);
}

export const sumConfig: KernelConfig = {
  kernelName: 'Sum',
  backendName: 'wasm',
  kernelFunc: sum as unknown as KernelFunc,
};
