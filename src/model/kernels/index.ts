/**
 * Our wasm training kernels, registered from this one list (one kernel per file, like tfjs's wasm
 * backend). Call after the wasm backend is initialised so tfjs's originals can be kept as fallbacks.
 */
import { registerKernel, registerGradient, unregisterKernel, getKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { identityConfig } from './Identity.js';
import { castConfig } from './Cast.js';
import { sumConfig } from './Sum.js';
import { meanConfig } from './Mean.js';
import { tileConfig } from './Tile.js';
import { addConfig } from './Add.js';
import { reluGradConfig, reluGradCpuConfig, reluGradientConfig } from './ReluGrad.js';
import { maskTimeConfig, maskTimeCpuConfig, maskTimeGradConfig } from './MaskTime.js';
import { captureOriginal, hasOriginal, original } from './registry.js';

/** Every custom wasm kernel. */
export const wasmKernels: KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  identityConfig,
  castConfig,
  sumConfig,
  meanConfig,
  maskTimeConfig,
  tileConfig,
  addConfig,
  reluGradConfig,
];

let registered = false;

/** Register (once) our kernels over tfjs's wasm ones. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  for (const k of wasmKernels) {
    captureOriginal(k.kernelName);
    if (getKernel(k.kernelName, 'wasm')) unregisterKernel(k.kernelName, 'wasm');
    registerKernel(k);
  }
}

/** Put tfjs's own kernels back (for A/B benchmarks). */
export function unregisterWasmKernels(): void {
  if (!registered) return;
  registered = false;
  for (const k of wasmKernels) {
    unregisterKernel(k.kernelName, 'wasm');
    if (hasOriginal(k.kernelName)) registerKernel({ kernelName: k.kernelName, backendName: 'wasm', kernelFunc: original(k.kernelName) });
  }
}

let opsRegistered = false;

/**
 * Our own ops (kernels tfjs does not have, e.g. SerMaskTime): their cpu kernels and gradients.
 * Idempotent; done on import of model/layers.ts so any backend can run and differentiate them.
 */
export function registerCustomOps(): void {
  if (opsRegistered) return;
  opsRegistered = true;
  if (!getKernel(maskTimeCpuConfig.kernelName, 'cpu')) registerKernel(maskTimeCpuConfig);
  registerGradient(maskTimeGradConfig);
  if (!getKernel(reluGradCpuConfig.kernelName, 'cpu')) registerKernel(reluGradCpuConfig);
  // replaces tfjs's Relu gradient (dy · step(x)) with one SerReluGrad kernel where it exists
  registerGradient(reluGradientConfig);
}
