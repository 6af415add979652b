/**
 * The arithmetic of our batch-normalisation training kernels (BatchNormTrain.ts, BatchNormTrainGrad.ts
 * and their cpu twins in cpu/), shared by both backends. Batch normalisation in training mode as two
 * kernels of our own (wasm and cpu), over the last axis
 * of a channels-last tensor x [..., C] (N = x.size / C values per channel):
 *
 * - `SerBatchNormTrain` (x, gamma, beta; attr epsilon) → [y, batch mean, biased batch variance]
 *   y = γ·(x − mean)/√(var + ε) + β. One pass for the statistics, one for y.
 * - `SerBatchNormTrainGrad` (dy, x, gamma, mean, variance, dmean, dvariance) → [dx, dgamma, dbeta]
 *   dx = γ·invstd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)) (+ the direct terms of dmean, dvariance, normally 0),
 *   in two passes: the per-channel sums, then dx as one multiply-add per element.
 *
 * They replace tfjs-layers' training path (moments + FusedBatchNorm, whose gradient is a chain of
 * broadcasting Multiply/Sum/Sub/Mean ops, slow on tfjs-wasm). On wasm with C % 4 == 0 the four
 * passes run as WebAssembly SIMD (simd/batchnorm.wat, channels in v128 lanes; float32 sums in blocks
 * of 128 rows, float64 across blocks); otherwise, and on cpu, the inner loops are plain JS over
 * Float32Array views with float64 sums. The per-channel constants between the passes are computed
 * here in float64 by the same functions for both paths.
 */
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';
import { simdAvailable, simdBnApply, simdBnApply2, simdBnDotSums, simdBnSums } from './simd/index.js';

export const BN_TRAIN = 'SerBatchNormTrain';
export const BN_TRAIN_GRAD = 'SerBatchNormTrainGrad';

// ---- the arithmetic, shared by both backends --------------------------------------------------------

/**
 * The JS passes (the cpu backend, and wasm when channels are not a multiple of 4 or SIMD is missing):
 * one channel at a time, striding over the pixels, constants and sums in locals. The wasm fast path is
 * simd/batchnorm.wat.
 */
/** s1[ch] += Σ(x − k[ch]), s2[ch] += Σ(x − k[ch])² over the channel's values of x [..., C]. */
function sumsShifted(x: Float32Array, k: Float64Array, s1: Float64Array, s2: Float64Array): void {
  const c = k.length;
  for (let ch = 0; ch < c; ch++) {
    const k0 = k[ch] as number;
    let p = 0, q = 0;
    for (let i = ch; i < x.length; i += c) {
      const d = (x[i] as number) - k0;
      p += d;
      q += d * d;
    }
    s1[ch] += p;
    s2[ch] += q;
  }
}

/** s1[ch] += Σdy, s2[ch] += Σ dy·(x − m[ch]) over the channel's values. */
function sumsDot(dy: Float32Array, x: Float32Array, m: Float64Array, s1: Float64Array, s2: Float64Array): void {
  const c = m.length;
  for (let ch = 0; ch < c; ch++) {
    const m0 = m[ch] as number;
    let p = 0, q = 0;
    for (let i = ch; i < x.length; i += c) {
      const g = dy[i] as number;
      p += g;
      q += g * ((x[i] as number) - m0);
    }
    s1[ch] += p;
    s2[ch] += q;
  }
}

/** out = x·a[ch] + b[ch]. */
export function affine(x: Float32Array, a: Float64Array, b: Float64Array, out: Float32Array): void {
  const c = a.length;
  for (let ch = 0; ch < c; ch++) {
    const a0 = a[ch] as number, b0 = b[ch] as number;
    for (let i = ch; i < x.length; i += c) out[i] = (x[i] as number) * a0 + b0;
  }
}

/** out = u·a[ch] + v·b[ch] + d[ch]. */
export function affine2(u: Float32Array, v: Float32Array, a: Float64Array, b: Float64Array, d: Float64Array, out: Float32Array): void {
  const c = a.length;
  for (let ch = 0; ch < c; ch++) {
    const a0 = a[ch] as number, b0 = b[ch] as number, d0 = d[ch] as number;
    for (let i = ch; i < v.length; i += c) out[i] = (u[i] as number) * a0 + (v[i] as number) * b0 + d0;
  }
}

/**
 * Per-channel results of the forward statistics s1 = Σ(x − k), s2 = Σ(x − k)² over n values: the
 * float32 mean and variance, and y = x·scale + shift computed from those same rounded values so that
 * the gradient (which only sees them) matches the forward exactly.
 */
function forwardConstants(
  k: Float64Array, s1: Float64Array, s2: Float64Array, n: number, gamma: Float32Array, beta: Float32Array, eps: number,
  mean: Float32Array, variance: Float32Array, scale: Float64Array, shift: Float64Array,
): void {
  for (let ch = 0; ch < k.length; ch++) {
    const m1 = s1[ch] / n;
    const v = Math.max(s2[ch] / n - m1 * m1, 0);
    mean[ch] = k[ch] + m1;
    variance[ch] = v;
    const sc = gamma[ch] / Math.sqrt(variance[ch] + eps);
    scale[ch] = sc;
    shift[ch] = beta[ch] - mean[ch] * sc;
  }
}

/** Batch statistics (into `mean`, `variance`, float32) and y. */
export function bnTrainForward(
  x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number,
  y: Float32Array, mean: Float32Array, variance: Float32Array,
): void {
  const c = gamma.length;
  const n = x.length / c;
  // Σ(x − K) and Σ(x − K)² with K = the channel's first value: one pass, without the cancellation of
  // E[x²] − E[x]² when |mean| ≫ std
  const k = new Float64Array(c);
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) k[ch] = x[ch];
  sumsShifted(x, k, s1, s2);
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  forwardConstants(k, s1, s2, n, gamma, beta, eps, mean, variance, scale, shift);
  affine(x, scale, shift, y);
}

/**
 * dgamma, dbeta and the per-channel A, B, D of dx = A·dy + B·x + D from sdy = Σdy and
 * sdyx = Σ dy·(x − m) over n values (the standard formula with x̂ = (x − mean)·invstd expanded).
 */
function backwardConstants(
  sdy: Float64Array, sdyx: Float64Array, m: Float64Array, n: number, gamma: Float32Array, variance: Float32Array,
  dmean: Float32Array, dvariance: Float32Array, eps: number,
  dgamma: Float32Array, dbeta: Float32Array, a: Float64Array, b: Float64Array, d: Float64Array,
): void {
  for (let ch = 0; ch < m.length; ch++) {
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
}

/** dx, dgamma, dbeta of bnTrainForward given dy and the direct gradients of its mean/variance outputs. */
export function bnTrainBackward(
  dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array,
  dmean: Float32Array, dvariance: Float32Array, eps: number,
  dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array,
): void {
  const c = gamma.length;
  const n = x.length / c;
  const sdy = new Float64Array(c);
  const sdyx = new Float64Array(c); // Σ dy·(x − mean)
  const m = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) m[ch] = mean[ch];
  sumsDot(dy, x, m, sdy, sdyx);
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  const d = new Float64Array(c);
  backwardConstants(sdy, sdyx, m, n, gamma, variance, dmean, dvariance, eps, dgamma, dbeta, a, b, d);
  affine2(dy, x, a, b, d, dx);
}

// ---- backends ---------------------------------------------------------------------------------------

export interface TrainInputs { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }
export interface GradInputs {
  dy: TensorInfo; x: TensorInfo; gamma: TensorInfo; mean: TensorInfo; variance: TensorInfo;
  dmean: TensorInfo; dvariance: TensorInfo;
}
export interface Args<I> { inputs: I; backend: unknown; attrs: NamedAttrMap }

export function channels(name: string, x: TensorInfo, params: TensorInfo[]): number {
  const c = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || x.dtype !== 'float32' || !(c > 0)) {
    throw new Error(`${name}: expected a float32 x [..., C], got ${x.dtype} [${x.shape}]`);
  }
  for (const p of params) {
    if (p.shape.length !== 1 || p.shape[0] !== c) throw new Error(`${name}: expected parameters of shape [${c}], got [${p.shape}]`);
  }
  return c;
}

export function epsilon(attrs: NamedAttrMap): number {
  const e = attrs['epsilon'];
  return typeof e === 'number' ? e : 1e-3;
}

/** How often the wasm kernels took the SIMD path (tests check that it is really used). */
export const bnSimdCalls = { forward: 0, backward: 0 };

/**
 * The forward on the wasm backend with the SIMD kernels (C % 4 == 0): sums in wasm, the C constants
 * here, y in wasm. False (nothing written) when SIMD is unavailable, so the caller runs the JS loops.
 */
export function forwardSimd(
  backend: WasmBackendLike, x: TensorInfo, gammaT: TensorInfo, betaT: TensorInfo, eps: number,
  y: TensorInfo, meanT: TensorInfo, varianceT: TensorInfo, c: number,
): boolean {
  if (c % 4 !== 0 || !simdAvailable(backend)) return false;
  const xv = f32(backend, x);
  const n = xv.length / c;
  // shift: the float32 mean of the first (up to) 64 rows, close to the batch mean, so that the
  // float32 sums of (x − k)² do not lose the variance to cancellation
  const k = new Float64Array(c);
  const rows = Math.min(n, 64);
  for (let i = 0; i < rows; i++) for (let ch = 0; ch < c; ch++) k[ch] += xv[i * c + ch];
  for (let ch = 0; ch < c; ch++) k[ch] = Math.fround(k[ch] / rows);
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  if (!simdBnSums(backend, x, k, n, c, s1, s2)) return false;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  // views after the scratch allocation inside simdBnSums (heap growth detaches older ones)
  forwardConstants(k, s1, s2, n, f32(backend, gammaT), f32(backend, betaT), eps, f32(backend, meanT), f32(backend, varianceT), scale, shift);
  if (!simdBnApply(backend, x, scale, shift, y, n, c)) affine(f32(backend, x), scale, shift, f32(backend, y));
  bnSimdCalls.forward++;
  return true;
}

/** The gradient with the SIMD kernels (C % 4 == 0); false (nothing written) when unavailable. */
export function backwardSimd(backend: WasmBackendLike, inp: GradInputs, eps: number, dx: TensorInfo, dgammaT: TensorInfo, dbetaT: TensorInfo, c: number): boolean {
  if (c % 4 !== 0 || !simdAvailable(backend)) return false;
  const v = (t: TensorInfo): Float32Array => f32(backend, t);
  const n = v(inp.x).length / c;
  const m = Float64Array.from(v(inp.mean));
  const sdy = new Float64Array(c);
  const sdyx = new Float64Array(c);
  if (!simdBnDotSums(backend, inp.dy, inp.x, m, n, c, sdy, sdyx)) return false;
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  const d = new Float64Array(c);
  backwardConstants(sdy, sdyx, m, n, v(inp.gamma), v(inp.variance), v(inp.dmean), v(inp.dvariance), eps, v(dgammaT), v(dbetaT), a, b, d);
  if (!simdBnApply2(backend, inp.dy, inp.x, a, b, d, dx, n, c)) affine2(v(inp.dy), v(inp.x), a, b, d, v(dx));
  bnSimdCalls.backward++;
  return true;
}
