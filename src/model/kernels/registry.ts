/** Access to tfjs's own wasm kernels (captured before ours replace them) for composing. */
import { getKernel } from '@tensorflow/tfjs-core';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { SerError } from '../../util/errors.js';

const originals = new Map<string, KernelFunc>();

/** Remember tfjs's wasm kernel `name` (if any) before we register ours over it. */
export function captureOriginal(name: string): void {
  if (originals.has(name)) return;
  const k = getKernel(name, 'wasm');
  if (k) originals.set(name, k.kernelFunc);
}

/** Whether tfjs had its own wasm kernel `name`. */
export function hasOriginal(name: string): boolean {
  return originals.has(name);
}

/** tfjs's original wasm kernel `name` (throws if there was none). */
export function original(name: string): KernelFunc {
  const f = originals.get(name);
  if (!f) throw new SerError('model/kernel-missing', `no original wasm kernel '${name}' to fall back to`);
  return f;
}

/** The currently registered wasm kernel `name`. */
export function wasmKernel(name: string): KernelFunc {
  const k = getKernel(name, 'wasm');
  if (!k) throw new SerError('model/kernel-missing', `the wasm backend has no kernel '${name}'`);
  return k.kernelFunc;
}
