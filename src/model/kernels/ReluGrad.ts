/**
 * SerReluGrad (our kernel, wasm; cpu/ReluGrad.ts is the cpu twin): dx = x > 0 ? dy : 0, and the
 * gradient of tfjs's `Relu` re-registered to use it (gradients/Relu_grad.ts). tfjs computes dy · step(x): a Step kernel, a temporary and a Multiply
 * (~5 ms per cnn3 step at batch 8 on wasm); this is one SIMD pass (simd/relu_grad.wat) with a JS
 * fallback. Zeros come out as +0 where tfjs's product can give −0; NaN in x gives 0 (tfjs: NaN).
 * On a conv layer's output (rank ≥ 3, ≥ 64 pixels, channels % 4 == 0) the same pass also sums dx over the
 * pixels: the bias gradient, which the Sum kernel then takes from row-sums.ts instead of reading dx again.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';
import { simdReluGrad, simdReluGradSum } from './simd/index.js';
import { putRowSums } from './row-sums.js';

export const RELU_GRAD = 'SerReluGrad';

export function reluGradLoop(dy: Float32Array, x: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < dx.length; i++) dx[i] = (x[i] as number) > 0 ? (dy[i] as number) : 0;
}

export function check(dy: TensorInfo, x: TensorInfo): void {
  if (dy.dtype !== 'float32' || x.dtype !== 'float32' || dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`${RELU_GRAD}: dy and x must be float32 of the same shape, got [${dy.shape}] ${dy.dtype} and [${x.shape}] ${x.dtype}`);
  }
}

function reluGradWasm(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: unknown }): TensorInfo {
  const { dy, x } = args.inputs;
  check(dy, x);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const n = out.shape.reduce((a, b) => a * b, 1);
  const m = out.shape[out.shape.length - 1] ?? 0;
  if (out.shape.length >= 3 && m > 0 && m % 4 === 0 && n / m >= 64) {
    const sums = simdReluGradSum(backend, dy, x, out, n / m, m);
    if (sums) {
      putRowSums(out.dataId, m, sums);
      return out;
    }
  }
  if (n > 0 && !simdReluGrad(backend, dy, x, out, n)) reluGradLoop(f32(backend, dy), f32(backend, x), f32(backend, out));
  return out;
}

export const reluGradConfig: KernelConfig = { kernelName: RELU_GRAD, backendName: 'wasm', kernelFunc: reluGradWasm as unknown as KernelFunc };
