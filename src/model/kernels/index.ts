/**
 * Every kernel and gradient of ours, registered from these lists and nowhere else (one kernel per
 * file, one config per file, like tfjs's wasm backend): `registerKernels(backend)`, called by
 * `initBackend` once the backend is ready (tfjs's wasm kernels run their setup when the wasm backend
 * initialises, so ours replace them only after that). Our wasm kernels replace tfjs's (whose originals are kept, for composing and
 * for A/B benchmarks); our own ops (SerMaskTime, SerReluGrad, SerBatchNormTrain(Grad)) also get cpu
 * kernels, so the models run and train on the cpu backend too.
 */
import { getKernel, registerGradient, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs's own gradients into the global registry when it loads (its Node bundle carries a
// copy of tfjs-core's register_all_gradients): loaded here, it runs before `registerKernels` whatever the import
// order elsewhere — else a later `import()` of the layers would silently put tfjs's Relu and Sum gradients back
import '@tensorflow/tfjs-layers';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DConfig } from './Conv2D.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { identityConfig } from './Identity.js';
import { castConfig } from './Cast.js';
import { sumConfig } from './Sum.js';
import { meanConfig } from './Mean.js';
import { tileConfig } from './Tile.js';
import { addConfig } from './Add.js';
import { reluGradConfig } from './ReluGrad.js';
import { maskTimeConfig } from './MaskTime.js';
import { batchNormTrainConfig } from './BatchNormTrain.js';
import { batchNormTrainGradConfig } from './BatchNormTrainGrad.js';
import { maskTimeCpuConfig } from './cpu/MaskTime.js';
import { reluGradCpuConfig } from './cpu/ReluGrad.js';
import { batchNormTrainCpuConfig } from './cpu/BatchNormTrain.js';
import { batchNormTrainGradCpuConfig } from './cpu/BatchNormTrainGrad.js';
import { maskTimeGradConfig } from './gradients/MaskTime_grad.js';
import { reluGradientConfig } from './gradients/Relu_grad.js';
import { sumGradientConfig } from './gradients/Sum_grad.js';
import { batchNormTrainGradientConfig } from './gradients/BatchNormTrain_grad.js';
import { captureOriginal, hasOriginal, original } from './registry.js';

/** Our wasm kernels: replacements of tfjs's and our own ops. */
export const wasmKernels: KernelConfig[] = [
  conv2DConfig,
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
  batchNormTrainConfig,
  batchNormTrainGradConfig,
];

/** cpu kernels of our own ops (tfjs's cpu kernels are kept as they are). */
export const cpuKernels: KernelConfig[] = [maskTimeCpuConfig, reluGradCpuConfig, batchNormTrainCpuConfig, batchNormTrainGradCpuConfig];

/** Gradients of our own ops, tfjs's Relu gradient through SerReluGrad and tfjs's Sum gradient as a Tile. */
export const gradients: GradConfig[] = [maskTimeGradConfig, reluGradientConfig, batchNormTrainGradientConfig, sumGradientConfig];

let registered = false;
let wasmRegistered = false;

/**
 * Registers the cpu kernels and gradients above (once), and with `backend` 'wasm' (an initialised
 * wasm backend) the wasm kernels (once; again after `unregisterWasmKernels`).
 */
export function registerKernels(backend: string): void {
  if (!registered) {
    registered = true;
    for (const k of cpuKernels) if (!getKernel(k.kernelName, k.backendName)) registerKernel(k);
    for (const g of gradients) registerGradient(g);
  }
  if (backend !== 'wasm' || wasmRegistered) return;
  wasmRegistered = true;
  for (const k of wasmKernels) {
    captureOriginal(k.kernelName);
    if (getKernel(k.kernelName, 'wasm')) unregisterKernel(k.kernelName, 'wasm');
    registerKernel(k);
  }
}

/** Puts tfjs's own wasm kernels back (for A/B benchmarks); ops tfjs does not have fall back to tfjs ops. */
export function unregisterWasmKernels(): void {
  if (!wasmRegistered) return;
  wasmRegistered = false;
  for (const k of wasmKernels) {
    unregisterKernel(k.kernelName, 'wasm');
    if (hasOriginal(k.kernelName)) registerKernel({ kernelName: k.kernelName, backendName: 'wasm', kernelFunc: original(k.kernelName) });
  }
}
