/**
 * Batch normalisation in training mode as two kernels of our own (wasm and cpu), over the last axis
 * of a channels-last tensor x [..., C] (N = x.size / C values per channel):
 *
 * - `SerBatchNormTrain` (x, gamma, beta; attr epsilon) → [y, batch mean, biased batch variance]
 *   y = γ·(x − mean)/√(var + ε) + β. One pass for the statistics, one for y.
 * - `SerBatchNormTrainGrad` (dy, x, gamma, mean, variance, dmean, dvariance) → [dx, dgamma, dbeta]
 *   dx = γ·invstd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)) (+ the direct terms of dmean, dvariance, normally 0),
 *   in two passes: the per-channel sums, then dx as one multiply-add per element.
 *
 * They replace tfjs-layers' training path (moments + FusedBatchNorm, whose gradient is a chain of
 * broadcasting Multiply/Sum/Sub/Mean ops, slow on tfjs-wasm). Inner loops are plain JS over
 * Float32Array views (tfjs-wasm's heap, or the cpu backend's arrays); sums are kept in float64.
 */
import { engine, getKernel, registerGradient, registerKernel } from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';

export const BN_TRAIN = 'SerBatchNormTrain';
export const BN_TRAIN_GRAD = 'SerBatchNormTrainGrad';

// ---- the arithmetic, shared by both backends --------------------------------------------------------

/**
 * Batch statistics and y. `mean`/`variance` receive the float32 statistics; y is computed from those
 * same rounded values so that the gradient (which only sees them) matches the forward exactly.
 */
export function bnTrainForward(
  x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number,
  y: Float32Array, mean: Float32Array, variance: Float32Array,
): void {
  const c = gamma.length;
  const len = x.length;
  const n = len / c;
  // Σ(x − K) and Σ(x − K)² with K = the channel's first value: one pass, without the cancellation of
  // E[x²] − E[x]² when |mean| ≫ std
  const k = new Float64Array(c);
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) k[ch] = x[ch];
  for (let i = 0, ch = 0; i < len; i++) {
    const d = x[i] - k[ch];
    s1[ch] += d;
    s2[ch] += d * d;
    if (++ch === c) ch = 0;
  }
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const m1 = s1[ch] / n;
    const v = Math.max(s2[ch] / n - m1 * m1, 0);
    mean[ch] = k[ch] + m1;
    variance[ch] = v;
    const sc = gamma[ch] / Math.sqrt(variance[ch] + eps);
    scale[ch] = sc;
    shift[ch] = beta[ch] - mean[ch] * sc;
  }
  for (let i = 0, ch = 0; i < len; i++) {
    y[i] = x[i] * scale[ch] + shift[ch];
    if (++ch === c) ch = 0;
  }
}

/** dx, dgamma, dbeta of bnTrainForward given dy and the direct gradients of its mean/variance outputs. */
export function bnTrainBackward(
  dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array,
  dmean: Float32Array, dvariance: Float32Array, eps: number,
  dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array,
): void {
  const c = gamma.length;
  const len = x.length;
  const n = len / c;
  const sdy = new Float64Array(c);
  const sdyx = new Float64Array(c); // Σ dy·(x − mean)
  const m = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) m[ch] = mean[ch];
  for (let i = 0, ch = 0; i < len; i++) {
    const g = dy[i];
    sdy[ch] += g;
    sdyx[ch] += g * (x[i] - m[ch]);
    if (++ch === c) ch = 0;
  }
  // dx = A·dy + B·x + D per channel (the standard formula with x̂ = (x − mean)·invstd expanded)
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  const d = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const invstd = 1 / Math.sqrt(variance[ch] + eps);
    const dg = sdyx[ch] * invstd; // Σ dy·x̂
    dgamma[ch] = dg;
    dbeta[ch] = sdy[ch];
    const kk = gamma[ch] * invstd;
    // x̂ term of the formula plus ∂var/∂x = 2(x − mean)/N for a direct variance gradient
    const bb = -kk * (dg / n) * invstd + (2 * dvariance[ch]) / n;
    a[ch] = kk;
    b[ch] = bb;
    d[ch] = -kk * (sdy[ch] / n) + dmean[ch] / n - bb * m[ch];
  }
  for (let i = 0, ch = 0; i < len; i++) {
    dx[i] = a[ch] * dy[i] + b[ch] * x[i] + d[ch];
    if (++ch === c) ch = 0;
  }
}

// ---- backends ---------------------------------------------------------------------------------------

interface TrainInputs { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }
interface GradInputs {
  dy: TensorInfo; x: TensorInfo; gamma: TensorInfo; mean: TensorInfo; variance: TensorInfo;
  dmean: TensorInfo; dvariance: TensorInfo;
}
interface Args<I> { inputs: I; backend: unknown; attrs: NamedAttrMap }

function channels(name: string, x: TensorInfo, params: TensorInfo[]): number {
  const c = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || x.dtype !== 'float32' || !(c > 0)) {
    throw new Error(`${name}: expected a float32 x [..., C], got ${x.dtype} [${x.shape}]`);
  }
  for (const p of params) {
    if (p.shape.length !== 1 || p.shape[0] !== c) throw new Error(`${name}: expected parameters of shape [${c}], got [${p.shape}]`);
  }
  return c;
}

function epsilon(attrs: NamedAttrMap): number {
  const e = attrs['epsilon'];
  return typeof e === 'number' ? e : 1e-3;
}

function trainWasm(args: Args<TrainInputs>): TensorInfo[] {
  const { x, gamma, beta } = args.inputs;
  const c = channels(BN_TRAIN, x, [gamma, beta]);
  const backend = args.backend as WasmBackendLike;
  // allocate first: heap views go stale when wasm memory grows
  const y = backend.makeOutput(x.shape.slice(), 'float32');
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  bnTrainForward(f32(backend, x), f32(backend, gamma), f32(backend, beta), epsilon(args.attrs),
    f32(backend, y), f32(backend, mean), f32(backend, variance));
  return [y, mean, variance];
}

function gradWasm(args: Args<GradInputs>): TensorInfo[] {
  const { dy, x, gamma, mean, variance, dmean, dvariance } = args.inputs;
  const c = channels(BN_TRAIN_GRAD, x, [gamma, mean, variance, dmean, dvariance]);
  const backend = args.backend as WasmBackendLike;
  const dx = backend.makeOutput(x.shape.slice(), 'float32');
  const dgamma = backend.makeOutput([c], 'float32');
  const dbeta = backend.makeOutput([c], 'float32');
  const v = (t: TensorInfo): Float32Array => f32(backend, t);
  bnTrainBackward(v(dy), v(x), v(gamma), v(mean), v(variance), v(dmean), v(dvariance), epsilon(args.attrs),
    v(dx), v(dgamma), v(dbeta));
  return [dx, dgamma, dbeta];
}

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

function cpuValues(backend: CpuBackendLike, t: TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

function trainCpu(args: Args<TrainInputs>): TensorInfo[] {
  const { x, gamma, beta } = args.inputs;
  const c = channels(BN_TRAIN, x, [gamma, beta]);
  const backend = args.backend as CpuBackendLike;
  const y = new Float32Array(x.shape.reduce((p, s) => p * s, 1));
  const mean = new Float32Array(c);
  const variance = new Float32Array(c);
  bnTrainForward(cpuValues(backend, x), cpuValues(backend, gamma), cpuValues(backend, beta), epsilon(args.attrs), y, mean, variance);
  return [
    backend.makeTensorInfo(x.shape.slice(), 'float32', y),
    backend.makeTensorInfo([c], 'float32', mean),
    backend.makeTensorInfo([c], 'float32', variance),
  ];
}

function gradCpu(args: Args<GradInputs>): TensorInfo[] {
  const { dy, x, gamma, mean, variance, dmean, dvariance } = args.inputs;
  const c = channels(BN_TRAIN_GRAD, x, [gamma, mean, variance, dmean, dvariance]);
  const backend = args.backend as CpuBackendLike;
  const v = (t: TensorInfo): Float32Array => cpuValues(backend, t);
  const dx = new Float32Array(x.shape.reduce((p, s) => p * s, 1));
  const dgamma = new Float32Array(c);
  const dbeta = new Float32Array(c);
  bnTrainBackward(v(dy), v(x), v(gamma), v(mean), v(variance), v(dmean), v(dvariance), epsilon(args.attrs), dx, dgamma, dbeta);
  return [
    backend.makeTensorInfo(x.shape.slice(), 'float32', dx),
    backend.makeTensorInfo([c], 'float32', dgamma),
    backend.makeTensorInfo([c], 'float32', dbeta),
  ];
}

export const bnTrainWasmConfig: KernelConfig = { kernelName: BN_TRAIN, backendName: 'wasm', kernelFunc: trainWasm as unknown as KernelFunc };
export const bnTrainCpuConfig: KernelConfig = { kernelName: BN_TRAIN, backendName: 'cpu', kernelFunc: trainCpu as unknown as KernelFunc };
export const bnTrainGradWasmConfig: KernelConfig = { kernelName: BN_TRAIN_GRAD, backendName: 'wasm', kernelFunc: gradWasm as unknown as KernelFunc };
export const bnTrainGradCpuConfig: KernelConfig = { kernelName: BN_TRAIN_GRAD, backendName: 'cpu', kernelFunc: gradCpu as unknown as KernelFunc };

/**
 * Gradient of SerBatchNormTrain: one SerBatchNormTrainGrad call gives all three input gradients.
 * dys = [dy, dmean, dvariance]; the engine passes zeros for outputs off the loss path (the moving
 * averages), so the direct mean/variance terms cost nothing in practice but keep the gradient exact.
 */
export const bnTrainGradConfig: GradConfig = {
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: ((dys: Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [dy, dmean, dvariance] = dys;
    const [x, gamma, mean, variance] = saved;
    const [dx, dgamma, dbeta] = engine().runKernel(
      BN_TRAIN_GRAD, { dy, x, gamma, mean, variance, dmean, dvariance } as never, { epsilon: attrs['epsilon'] } as never,
    ) as Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  }) as unknown as GradConfig['gradFunc'],
};

let registered = false;

/** Registers the wasm and cpu kernels and the gradient (once). */
export function registerBatchNormKernels(): void {
  if (registered) return;
  registered = true;
  for (const k of [bnTrainWasmConfig, bnTrainCpuConfig, bnTrainGradWasmConfig, bnTrainGradCpuConfig]) {
    if (!getKernel(k.kernelName, k.backendName)) registerKernel(k);
  }
  registerGradient(bnTrainGradConfig);
}
