/**
 * SerReluGrad (our kernel, wasm and cpu): dx = x > 0 ? dy : 0, and the gradient of tfjs's `Relu`
 * re-registered to use it. tfjs computes dy · step(x): a Step kernel, a temporary and a Multiply
 * (~5 ms per cnn3 step at batch 8 on wasm); this is one SIMD pass (simd/relu_grad.wat) with a JS
 * fallback. Zeros come out as +0 where tfjs's product can give −0; NaN in x gives 0 (tfjs: NaN).
 */
import { cast, engine, getBackend, getKernel, mul, step } from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';
import { simdReluGrad } from './simd/index.js';

export const RELU_GRAD = 'SerReluGrad';

function reluGradLoop(dy: Float32Array, x: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < dx.length; i++) dx[i] = (x[i] as number) > 0 ? (dy[i] as number) : 0;
}

function check(dy: TensorInfo, x: TensorInfo): void {
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
  if (n > 0 && !simdReluGrad(backend, dy, x, out, n)) reluGradLoop(f32(backend, dy), f32(backend, x), f32(backend, out));
  return out;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

function reluGradCpu(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: unknown }): TensorInfo {
  const { dy, x } = args.inputs;
  check(dy, x);
  const backend = args.backend as CpuBackendLike;
  const g = backend.data.get(dy.dataId).values as Float32Array;
  const out = new Float32Array(g.length);
  reluGradLoop(g, backend.data.get(x.dataId).values as Float32Array, out);
  return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
}

export const reluGradConfig: KernelConfig = { kernelName: RELU_GRAD, backendName: 'wasm', kernelFunc: reluGradWasm as unknown as KernelFunc };
export const reluGradCpuConfig: KernelConfig = { kernelName: RELU_GRAD, backendName: 'cpu', kernelFunc: reluGradCpu as unknown as KernelFunc };

/** tfjs's Relu gradient, through SerReluGrad on backends that have it (tfjs's dy · step(x) elsewhere). */
export const reluGradientConfig: GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: ((dy: Tensor, saved: Tensor[]) => {
    const [x] = saved;
    return {
      x: () =>
        dy.dtype === 'float32' && x!.dtype === 'float32' && getKernel(RELU_GRAD, getBackend())
          ? (engine().runKernel(RELU_GRAD, { dy, x: x! }, {}) as Tensor)
          : mul(dy, cast(step(x!), 'float32')),
    };
  }) as GradConfig['gradFunc'],
};
