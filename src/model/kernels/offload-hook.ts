/**
 * A hook through which Conv2DBackpropFilter (wasm) may hand its work to another thread: when set
 * (src/train/offload.ts sets it around one batch-1 training step), the kernel allocates its output and
 * offers the job to the hook; if the hook takes it (returns true), the output tensor is filled later,
 * before anything reads it — the trainer reads the gradients only after `finish()` has written them. A
 * filter gradient is a leaf of the backward pass (nothing downstream reads it), so the rest of the
 * backward pass runs meanwhile. Unset, the kernel computes as always.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './heap.js';

/** A stride-1 filter-gradient job: what the kernel would compute into `out`. */
export interface FilterGradJob {
  backend: WasmBackendLike;
  x: TensorInfo;
  dy: TensorInfo;
  out: TensorInfo;
  /** The kernel's attributes (strides, pad, dataFormat, dimRoundingMode, filterShape). */
  attrs: Record<string, unknown>;
}

let hook: ((job: FilterGradJob) => boolean) | null = null;

/** Sets (or with null clears) the hook. */
export function setFilterGradOffload(h: ((job: FilterGradJob) => boolean) | null): void {
  hook = h;
}

/** Offers the job to the hook; false when there is none or it declines (the kernel then computes). */
export function offerFilterGrad(job: FilterGradJob): boolean {
  return hook !== null && hook(job);
}
