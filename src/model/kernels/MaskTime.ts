/**
 * SerMaskTime (our own kernel, wasm and cpu): zeroes a feature map x [b, rows, T, C] on the frames
 * where the batch mask [b, T0] is 0 (T0 = f·T; frame t of x reads mask[b, t·f + f − 1], the last frame
 * of its pooled block: a pooled frame is valid only when its whole block is, as PyTorch's pools floor). Replaces `x · reshape(mask, [b,1,T,1])`: tfjs-wasm's broadcasting Multiply took
 * 6.6 ms on [8,128,300,16], while this copies x once and fills the padded tails (and, for a batch
 * without padding, shares x's memory and costs nothing). Its gradient is the same op on dy
 * (gradients/MaskTime_grad.ts); cpu/MaskTime.ts is the cpu twin.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';

export const MASK_TIME = 'SerMaskTime';

/** Zero runs [t0, t1) per sample at x's time resolution; null when nothing is masked. */
export function maskedRuns(mask: ArrayLike<number>, b: number, t0: number, t: number): Array<Array<[number, number]>> | null {
  const f = t0 / t;
  if (!Number.isInteger(f) || f < 1) throw new Error(`${MASK_TIME}: mask of ${t0} frames does not divide into ${t} frames`);
  let any = false;
  const runs: Array<Array<[number, number]>> = [];
  for (let s = 0; s < b; s++) {
    const r: Array<[number, number]> = [];
    let start = -1;
    for (let k = 0; k < t; k++) {
      const off = mask[s * t0 + k * f + f - 1] === 0;
      if (off && start < 0) start = k;
      if (!off && start >= 0) { r.push([start, k]); start = -1; }
    }
    if (start >= 0) r.push([start, t]);
    if (r.length) any = true;
    runs.push(r);
  }
  return any ? runs : null;
}

/** Fills the masked frames of `out` (a copy of x, [b, rows, T, C] starting at `base`) with 0. */
export function zeroRuns(out: Float32Array, base: number, runs: Array<Array<[number, number]>>, rows: number, t: number, c: number): void {
  const img = rows * t * c;
  runs.forEach((r, s) => {
    for (const [a, e] of r) {
      for (let row = 0; row < rows; row++) {
        const o = base + s * img + (row * t) * c;
        out.fill(0, o + a * c, o + e * c);
      }
    }
  });
}

export function dims(x: TensorInfo, mask: TensorInfo): [number, number, number, number, number] {
  if (x.shape.length !== 4 || mask.shape.length !== 2 || mask.shape[0] !== x.shape[0]) {
    throw new Error(`${MASK_TIME}: expected x [b, rows, T, C] and mask [b, T0], got [${x.shape}] and [${mask.shape}]`);
  }
  const [b, rows, t, c] = x.shape as [number, number, number, number];
  return [b, rows, t, c, mask.shape[1] as number];
}

interface RefCounting { incRef(dataId: object): void }

function maskTimeWasm(args: { inputs: { x: TensorInfo; mask: TensorInfo }; backend: unknown }): TensorInfo {
  const { x, mask } = args.inputs;
  const backend = args.backend as WasmBackendLike & RefCounting;
  const [b, rows, t, c, t0] = dims(x, mask);
  const runs = maskedRuns(f32(backend, mask), b, t0, t);
  if (!runs) {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  }
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const xs = f32(backend, x);
  const os = f32(backend, out);
  const heap = new Float32Array(os.buffer);
  heap.copyWithin(os.byteOffset >> 2, xs.byteOffset >> 2, (xs.byteOffset >> 2) + xs.length);
  zeroRuns(heap, os.byteOffset >> 2, runs, rows, t, c);
  return out;
}

export const maskTimeConfig: KernelConfig = { kernelName: MASK_TIME, backendName: 'wasm', kernelFunc: maskTimeWasm as unknown as KernelFunc };
