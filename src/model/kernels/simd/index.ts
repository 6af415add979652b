/**
 * Our own small SIMD wasm module (module.ts, assembled from the .wat files here) run directly on
 * tfjs-backend-wasm's heap: the module imports tfjs's WebAssembly.Memory, so kernels read input tensors
 * and write the output tensor in place, with no copies. Compiled lazily and synchronously (the module is
 * ~3 KB) and instantiated once per Memory object. Everything here degrades to "not available" (callers
 * fall back to JS) when WebAssembly/SIMD is missing, the memory cannot be found, or it is shared (the
 * threaded tfjs build; our module imports an unshared memory).
 *
 * The module comes in two builds (scripts/build-simd.mjs): with relaxed SIMD (fused multiply-add) when
 * the engine validates it (relaxed.ts turns it on in Node), else the baseline one.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { SIMD_RELAXED_WASM_BASE64, SIMD_WASM_BASE64 } from './module.js';
import { decodeBase64 } from '../../../util/base64.js';

/** The parts of tfjs's BackendWasm this module reaches into (internal fields, hence all optional). */
interface WasmBackendInternals {
  wasm?: {
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
    wasmExports?: { memory?: WebAssembly.Memory };
    HEAPU8?: Uint8Array;
  };
  getMemoryOffset?(dataId: object): number;
  dataIdMap?: { get(dataId: object): { memoryOffset: number } | undefined };
}

interface SimdExports {
  reluGrad(dy: number, x: number, dx: number, n: number): void;
  reluGradSum(dy: number, x: number, dx: number, out: number, n: number, m: number): void;
  sumRows(x: number, out: number, n: number, m: number): void;
  addRow(x: number, b: number, out: number, n: number, m: number): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, b: number, h: number, w: number, c: number): void;
  conv2dBackpropFilterS1(
    x: number, dy: number, dw: number, b: number, h: number, w: number, cin: number,
    oh: number, ow: number, cout: number, kh: number, kw: number, pt: number, pl: number,
  ): void;
  conv2dPad(x: number, xp: number, b: number, h: number, w: number, c: number, hp: number, wp: number, pt: number, pl: number): void;
  conv2dS1(xp: number, w: number, out: number, b: number, oh: number, ow: number, c: number, o: number, kh: number, kw: number, wp: number): void;
  wgFilter(w: number, u: number, c: number, o: number): void;
  wgConv(
    xp: number, u: number, out: number, scr: number, b: number, oh: number, ow: number, c: number, o: number,
    hp: number, wp: number, tb: number,
  ): void;
  wgFilterGrad(xp: number, g: number, dw: number, scr: number, zs: number, b: number, oh: number, ow: number, c: number, o: number, tb: number): void;
}

let enabled = true;
let relaxedWanted = true;
type Variant = 'relaxed' | 'baseline';
/** Per build — undefined: not tried yet; null: unavailable here. */
const compiled: Record<Variant, WebAssembly.Module | null | undefined> = { relaxed: undefined, baseline: undefined };
const instances: Record<Variant, WeakMap<object, SimdExports | null>> = { relaxed: new WeakMap(), baseline: new WeakMap() };

/** Turn the SIMD kernels off/on (tests and A/B benchmarks compare against the JS loops). */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/**
 * Use the relaxed-SIMD build when the engine supports it (default), or always the baseline build (tests
 * of the fallback, A/B benchmarks).
 */
export function setRelaxedSimdEnabled(on: boolean): void {
  relaxedWanted = on;
}

/** Which build the kernels run: 'relaxed', 'baseline', or null when none is usable here. */
export function simdVariant(): Variant | null {
  if (!enabled) return null;
  if (relaxedWanted && compile('relaxed')) return 'relaxed';
  return compile('baseline') ? 'baseline' : null;
}

function compile(v: Variant): WebAssembly.Module | null {
  const done = compiled[v];
  if (done !== undefined) return done;
  try {
    if (typeof WebAssembly === 'undefined') return (compiled[v] = null);
    const bytes = decodeBase64(v === 'relaxed' ? SIMD_RELAXED_WASM_BASE64 : SIMD_WASM_BASE64);
    // validate() is false without SIMD (or relaxed-SIMD) support: no exception path needed for old engines.
    // Not cached when false for the relaxed build: the flag may be turned on later (relaxed.ts).
    if (!WebAssembly.validate(bytes)) {
      if (v === 'baseline') compiled[v] = null;
      return null;
    }
    compiled[v] = new WebAssembly.Module(bytes);
  } catch {
    compiled[v] = null;
  }
  return compiled[v] ?? null;
}

/** tfjs-backend-wasm's heap, if it can be found and is the one its typed views use. */
function findMemory(b: WasmBackendInternals): WebAssembly.Memory | null {
  const w = b.wasm;
  if (!w) return null;
  const mem = w.asm?.memory ?? w.wasmMemory ?? w.wasmExports?.memory;
  if (!(mem instanceof WebAssembly.Memory)) return null;
  // guard against picking a different memory than the one tensors live in
  if (w.HEAPU8 && w.HEAPU8.buffer !== mem.buffer) return null;
  return mem;
}

/** The instantiated kernels for this backend's memory, or null. */
function kernelsFor(backend: unknown): { exports: SimdExports; b: WasmBackendInternals } | null {
  const v = simdVariant();
  if (!v) return null;
  const b = backend as WasmBackendInternals;
  const mem = findMemory(b);
  if (!mem) return null;
  let inst = instances[v].get(mem);
  if (inst === undefined) {
    inst = null;
    const mod = compile(v);
    if (mod && !(typeof SharedArrayBuffer !== 'undefined' && mem.buffer instanceof SharedArrayBuffer)) {
      try {
        inst = new WebAssembly.Instance(mod, { env: { memory: mem } }).exports as unknown as SimdExports;
      } catch {
        inst = null;
      }
    }
    instances[v].set(mem, inst);
  }
  return inst ? { exports: inst, b } : null;
}

function offsetOf(b: WasmBackendInternals, t: TensorInfo): number | null {
  const off = b.getMemoryOffset ? b.getMemoryOffset(t.dataId) : b.dataIdMap?.get(t.dataId)?.memoryOffset;
  return typeof off === 'number' && off > 0 ? off : null;
}

/** The kernels and the heap offsets of `tensors`, or null when the module or any offset is unavailable. */
function locate(backend: unknown, tensors: TensorInfo[]): { exports: SimdExports; b: WasmBackendInternals; offsets: number[] } | null {
  const k = kernelsFor(backend);
  if (!k) return null;
  const offsets: number[] = [];
  for (const t of tensors) {
    const o = offsetOf(k.b, t);
    if (o === null) return null;
    offsets.push(o);
  }
  return { ...k, offsets };
}

/** Whether the SIMD kernels can run on this backend (compiles/instantiates on first call). */
export function simdAvailable(backend: unknown): boolean {
  return kernelsFor(backend) !== null;
}

/**
 * MaxPoolGrad, NHWC float32, 2×2 window, stride 2, valid padding, channels % 4 == 0: writes every element
 * of `out` (shape of `input`). `dy` is [batch, ⌊height/2⌋, ⌊width/2⌋, channels]. Returns false (nothing
 * written) when the SIMD module is unusable or the shape is not supported, so the caller runs its JS loop.
 */
export function simdMaxPoolGrad2x2(
  backend: unknown,
  dy: TensorInfo,
  input: TensorInfo,
  out: TensorInfo,
  dims: { batch: number; height: number; width: number; channels: number },
): boolean {
  const { batch, height, width, channels } = dims;
  if (channels <= 0 || channels % 4 !== 0 || batch <= 0 || height <= 0 || width <= 0) return false;
  // byte sizes are i32 in the module
  if (batch * height * width * channels * 4 > 0x7fffffff) return false;
  const k = locate(backend, [input, dy, out]);
  if (!k) return false;
  const [x, g, dx] = k.offsets as [number, number, number];
  k.exports.maxPoolGrad2x2(x, g, dx, batch, height, width, channels);
  return true;
}

/** Shape of a stride-1, dilation-1 NHWC convolution as Conv2DBackpropFilter sees it. */
export interface ConvS1Dims {
  batch: number; inHeight: number; inWidth: number; inChannels: number;
  outHeight: number; outWidth: number; outChannels: number;
  filterHeight: number; filterWidth: number; padTop: number; padLeft: number;
}

/**
 * Conv2DBackpropFilter, NHWC float32, stride 1, dilation 1: writes every element of `out` ([kh, kw, Cin,
 * Cout]) from `x` [B, H, W, Cin] and `dy` [B, OH, OW, Cout], directly (no im2col, no packing). Returns
 * false (nothing written) when the SIMD module is unusable here, so the caller takes its matmul path.
 */
export function simdConv2DBackpropFilterS1(backend: unknown, x: TensorInfo, dy: TensorInfo, out: TensorInfo, d: ConvS1Dims): boolean {
  const dims = [d.batch, d.inHeight, d.inWidth, d.inChannels, d.outHeight, d.outWidth, d.outChannels, d.filterHeight, d.filterWidth];
  if (dims.some((v) => !Number.isInteger(v) || v <= 0)) return false;
  if (!Number.isInteger(d.padTop) || !Number.isInteger(d.padLeft)) return false;
  // byte offsets and sizes are i32 in the module
  const maxBytes = Math.max(d.batch * d.inHeight * d.inWidth * d.inChannels, d.batch * d.outHeight * d.outWidth * d.outChannels,
    d.filterHeight * d.filterWidth * d.inChannels * d.outChannels) * 4;
  if (maxBytes > 0x7fffffff) return false;
  const k = locate(backend, [x, dy, out]);
  if (!k) return false;
  const [xo, g, w] = k.offsets as [number, number, number];
  k.exports.conv2dBackpropFilterS1(xo, g, w, d.batch, d.inHeight, d.inWidth, d.inChannels, d.outHeight, d.outWidth,
    d.outChannels, d.filterHeight, d.filterWidth, d.padTop, d.padLeft);
  return true;
}

/**
 * out[j] = Σ_i x[i·m + j] for x viewed as [n, m] float32, m % 4 == 0 (bias gradients: Σ over the
 * pixels of dy). Returns false (nothing written) when the SIMD module cannot run this.
 */
export function simdSumRows(backend: unknown, x: TensorInfo, out: TensorInfo, n: number, m: number): boolean {
  if (!(n > 0) || !(m > 0) || m % 4 !== 0 || n * m * 4 > 0x7fffffff) return false;
  const k = locate(backend, [x, out]);
  if (!k) return false;
  const [xo, o] = k.offsets as [number, number];
  k.exports.sumRows(xo, o, n, m);
  return true;
}

/**
 * out[k·m + j] = Σ_i x[(k·n + i)·m + j] for k < outer: simdSumRows on each of the `outer` [n, m] blocks of x
 * (a sum over the middle axes, e.g. [b, H, W, C] over H and W). False (nothing written) when not possible.
 */
export function simdSumRowsBatched(backend: unknown, x: TensorInfo, out: TensorInfo, outer: number, n: number, m: number): boolean {
  if (!(outer > 0) || !(n > 0) || !(m > 0) || m % 4 !== 0 || outer * n * m * 4 > 0x7fffffff) return false;
  const k = locate(backend, [x, out]);
  if (!k) return false;
  const [xo, o] = k.offsets as [number, number];
  for (let b = 0; b < outer; b++) k.exports.sumRows(xo + 4 * b * n * m, o + 4 * b * m, n, m);
  return true;
}

/** out[i·m + j] = x[i·m + j] + b[j] (x viewed as [n, m], b [m], m % 4 == 0); false when not possible here. */
export function simdAddRow(backend: unknown, x: TensorInfo, b: TensorInfo, out: TensorInfo, n: number, m: number): boolean {
  if (!(n > 0) || !(m > 0) || m % 4 !== 0 || n * m * 4 > 0x7fffffff) return false;
  const k = locate(backend, [x, b, out]);
  if (!k) return false;
  const [xo, bo, o] = k.offsets as [number, number, number];
  k.exports.addRow(xo, bo, o, n, m);
  return true;
}

// ---- batch normalisation (batchnorm.wat) -------------------------------------------------------------

/** The batchnorm.wat exports (kept apart from SimdExports so this section only appends to the file). */
interface BnExports {
  bnSums(x: number, k: number, out: number, n: number, m: number): void;
  bnDotSums(dy: number, x: number, k: number, out: number, n: number, m: number): void;
  bnApply(x: number, a: number, b: number, y: number, n: number, m: number): void;
  bnApply2(u: number, v: number, a: number, b: number, d: number, out: number, n: number, m: number): void;
}

/** The scratch-tensor calls the batch-norm wrappers need (BackendWasm has them publicly). */
interface ScratchBackend {
  makeOutput?(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData?(dataId: object, force?: boolean): boolean;
}

/**
 * Runs `body` with the kernels, a scratch float32 tensor of `floats` values (the per-channel vectors the
 * wasm functions read or write; its offset is 16-aligned by tfjs's malloc, checked) and the offsets
 * of `tensors`. Returns false, having run nothing, when any of them is unavailable.
 */
function withBnScratch(
  backend: unknown, floats: number, tensors: TensorInfo[],
  body: (e: BnExports, heap: ArrayBuffer, scratch: number, offsets: number[]) => void,
): boolean {
  const k = locate(backend, tensors);
  const sb = backend as ScratchBackend;
  if (!k || !sb.makeOutput || !sb.disposeData) return false;
  const { offsets } = k;
  const scratch = sb.makeOutput([floats], 'float32');
  try {
    const so = offsetOf(k.b, scratch);
    // Float64Array views of the sums need 8-byte alignment
    const mem = findMemory(k.b);
    if (so === null || so % 8 !== 0 || !mem) return false;
    // the allocation may have grown the heap: take the buffer only now
    body(k.exports as unknown as BnExports, mem.buffer as ArrayBuffer, so, offsets);
    return true;
  } finally {
    sb.disposeData(scratch.dataId);
  }
}

function bnShapeOk(n: number, m: number): boolean {
  return n > 0 && m > 0 && m % 4 === 0 && Number.isInteger(n) && n * m * 4 <= 0x7fffffff;
}

/**
 * Batch-norm forward statistics of x viewed as [n, m] (m % 4 == 0) around a per-channel shift k
 * (used as float32): s1[j] = Σ_i (x[i,j] − k[j]), s2[j] = Σ_i (x[i,j] − k[j])². Float32 within blocks
 * of 128 rows, float64 across them. Returns false (s1, s2 untouched) when the SIMD module cannot run this.
 */
export function simdBnSums(
  backend: unknown, x: TensorInfo, k: ArrayLike<number>, n: number, m: number, s1: Float64Array, s2: Float64Array,
): boolean {
  if (!bnShapeOk(n, m) || k.length !== m || s1.length !== m || s2.length !== m) return false;
  // scratch: float64 sums [2, m] (4m floats), then k (m floats)
  return withBnScratch(backend, 5 * m, [x], (e, heap, so, [xo]) => {
    new Float32Array(heap, so + 16 * m, m).set(k);
    e.bnSums(xo, so + 16 * m, so, n, m);
    const s = new Float64Array(heap, so, 2 * m);
    s1.set(s.subarray(0, m));
    s2.set(s.subarray(m));
  });
}

/**
 * Batch-norm gradient statistics over [n, m] views (m % 4 == 0): s1[j] = Σ_i dy[i,j],
 * s2[j] = Σ_i dy[i,j]·(x[i,j] − k[j]) with k (used as float32) the batch mean. False when not possible here.
 */
export function simdBnDotSums(
  backend: unknown, dy: TensorInfo, x: TensorInfo, k: ArrayLike<number>, n: number, m: number,
  s1: Float64Array, s2: Float64Array,
): boolean {
  if (!bnShapeOk(n, m) || k.length !== m || s1.length !== m || s2.length !== m) return false;
  return withBnScratch(backend, 5 * m, [dy, x], (e, heap, so, [go, xo]) => {
    new Float32Array(heap, so + 16 * m, m).set(k);
    e.bnDotSums(go, xo, so + 16 * m, so, n, m);
    const s = new Float64Array(heap, so, 2 * m);
    s1.set(s.subarray(0, m));
    s2.set(s.subarray(m));
  });
}

/** y[i,j] = x[i,j]·a[j] + b[j] over [n, m] views (m % 4 == 0; a, b used as float32); false when not possible. */
export function simdBnApply(
  backend: unknown, x: TensorInfo, a: ArrayLike<number>, b: ArrayLike<number>, y: TensorInfo, n: number, m: number,
): boolean {
  if (!bnShapeOk(n, m) || a.length !== m || b.length !== m) return false;
  return withBnScratch(backend, 2 * m, [x, y], (e, heap, so, [xo, yo]) => {
    new Float32Array(heap, so, m).set(a);
    new Float32Array(heap, so + 4 * m, m).set(b);
    e.bnApply(xo, so, so + 4 * m, yo, n, m);
  });
}

/**
 * out[i,j] = u[i,j]·a[j] + v[i,j]·b[j] + d[j] over [n, m] views (m % 4 == 0; a, b, d used as float32):
 * the batch-norm dx. False when not possible here.
 */
export function simdBnApply2(
  backend: unknown, u: TensorInfo, v: TensorInfo, a: ArrayLike<number>, b: ArrayLike<number>, d: ArrayLike<number>,
  out: TensorInfo, n: number, m: number,
): boolean {
  if (!bnShapeOk(n, m) || a.length !== m || b.length !== m || d.length !== m) return false;
  return withBnScratch(backend, 3 * m, [u, v, out], (e, heap, so, [uo, vo, oo]) => {
    new Float32Array(heap, so, m).set(a);
    new Float32Array(heap, so + 4 * m, m).set(b);
    new Float32Array(heap, so + 8 * m, m).set(d);
    e.bnApply2(uo, vo, so, so + 4 * m, so + 8 * m, oo, n, m);
  });
}

/** dx = x > 0 ? dy : 0 over `n` float32 values; false (nothing written) when the SIMD module cannot run. */
export function simdReluGrad(backend: unknown, dy: TensorInfo, x: TensorInfo, out: TensorInfo, n: number): boolean {
  if (!(n > 0) || n * 4 > 0x7fffffff) return false;
  const k = locate(backend, [dy, x, out]);
  if (!k) return false;
  const [g, xo, o] = k.offsets as [number, number, number];
  k.exports.reluGrad(g, xo, o, n);
  return true;
}

/**
 * reluGrad over dy, x, out viewed as [n, m] (m % 4 == 0) that also returns Σ_i out[i, :] (m sums,
 * bit-identical to `simdSumRows` on out); null (nothing written) when the SIMD module cannot run this.
 */
export function simdReluGradSum(backend: unknown, dy: TensorInfo, x: TensorInfo, out: TensorInfo, n: number, m: number): Float32Array | null {
  if (!(n > 0) || !(m > 0) || m % 4 !== 0 || n * m * 4 > 0x7fffffff) return null;
  const sb = backend as ScratchBackend;
  if (!sb.makeOutput || !sb.disposeData) return null;
  const acc = sb.makeOutput([m], 'float32');
  try {
    const k = locate(backend, [dy, x, out, acc]);
    if (!k) return null;
    const [g, xo, o, ao] = k.offsets as [number, number, number, number];
    k.exports.reluGradSum(g, xo, o, ao, n, m);
    const mem = findMemory(k.b);
    return mem ? new Float32Array(mem.buffer, ao, m).slice() : null;
  } finally {
    sb.disposeData(acc.dataId);
  }
}

// ---- direct convolution (conv2d.wat) -------------------------------------------------------------------

/** A stride-1 convolution: x [batch, inHeight, inWidth, inChannels] ⊛ w [kh, kw, inChannels, outChannels]. */
export interface ConvForwardDims {
  batch: number; inHeight: number; inWidth: number; inChannels: number; outChannels: number;
  filterHeight: number; filterWidth: number;
  /** Zero padding (≥ 0) on each side; the output is (inHeight + padTop + padBottom − kh + 1) × (…). */
  padTop: number; padBottom: number; padLeft: number; padRight: number;
}

/** Whether `simdConv2DS1` takes these dimensions (outChannels % 8 == 0, pads ≥ 0, a non-empty output). */
export function simdConv2DS1Supports(d: ConvForwardDims): boolean {
  const pos = [d.batch, d.inHeight, d.inWidth, d.inChannels, d.outChannels, d.filterHeight, d.filterWidth];
  const pads = [d.padTop, d.padBottom, d.padLeft, d.padRight];
  if (pos.some((v) => !Number.isInteger(v) || v <= 0) || pads.some((v) => !Number.isInteger(v) || v < 0)) return false;
  if (d.outChannels % 8 !== 0) return false;
  const hp = d.inHeight + d.padTop + d.padBottom, wp = d.inWidth + d.padLeft + d.padRight;
  if (hp < d.filterHeight || wp < d.filterWidth) return false;
  const oh = hp - d.filterHeight + 1, ow = wp - d.filterWidth + 1;
  const maxBytes = Math.max(d.batch * hp * wp * d.inChannels, d.batch * oh * ow * d.outChannels,
    d.filterHeight * d.filterWidth * d.inChannels * d.outChannels) * 4;
  return maxBytes <= 0x3fffffff;
}

/**
 * Stride-1 convolution, NHWC float32, explicit zero padding, by the direct SIMD kernel: writes every element
 * of `out` [batch, OH, OW, outChannels]. Pads into a scratch tensor first (skipped when there is no
 * padding). Returns false (nothing written) when the module is unusable here or the dimensions are not
 * supported (`simdConv2DS1Supports`), so the caller takes its fallback.
 */
export function simdConv2DS1(backend: unknown, x: TensorInfo, w: TensorInfo, out: TensorInfo, d: ConvForwardDims): boolean {
  if (!simdConv2DS1Supports(d)) return false;
  const sb = backend as ScratchBackend;
  if (!sb.makeOutput || !sb.disposeData) return false;
  const hp = d.inHeight + d.padTop + d.padBottom, wp = d.inWidth + d.padLeft + d.padRight;
  const oh = hp - d.filterHeight + 1, ow = wp - d.filterWidth + 1;
  const padded = d.padTop + d.padBottom + d.padLeft + d.padRight > 0;
  const scratch = padded ? sb.makeOutput([d.batch * hp * wp * d.inChannels], 'float32') : null;
  try {
    const k = locate(backend, scratch ? [x, w, out, scratch] : [x, w, out]);
    if (!k) return false;
    const [xo, wo, oo, so] = k.offsets as [number, number, number, number | undefined];
    let src = xo;
    if (so !== undefined) {
      k.exports.conv2dPad(xo, so, d.batch, d.inHeight, d.inWidth, d.inChannels, hp, wp, d.padTop, d.padLeft);
      src = so;
    }
    k.exports.conv2dS1(src, wo, oo, d.batch, oh, ow, d.inChannels, d.outChannels, d.filterHeight, d.filterWidth, wp);
    return true;
  } finally {
    if (scratch) sb.disposeData!(scratch.dataId);
  }
}

// ---- Winograd F(2×2, 3×3) convolution (winograd.wat) ---------------------------------------------------

let winogradEnabled = true;

/** Turn the Winograd path of the 3×3 convolutions off/on (tests and A/B benchmarks; on by default). */
export function setWinogradEnabled(on: boolean): void {
  winogradEnabled = on;
}

/**
 * Whether `simdWinogradConv2D` takes these dimensions: a 3×3 filter, ≥ 8 input channels in fours, output
 * channels % 8 == 0, and what `simdConv2DS1Supports` asks (pads ≥ 0, a non-empty output, sizes in range).
 * Fewer input channels (the first layer) stay on the direct kernel: the transforms would cost more than
 * the multiply-adds they save.
 */
export function simdWinogradSupports(d: ConvForwardDims): boolean {
  if (d.filterHeight !== 3 || d.filterWidth !== 3 || d.inChannels < 8 || d.inChannels % 4 !== 0) return false;
  if (!simdConv2DS1Supports(d)) return false;
  const th = Math.ceil((d.inHeight + d.padTop + d.padBottom - 2) / 2), tw = Math.ceil((d.inWidth + d.padLeft + d.padRight - 2) / 2);
  return d.batch * (2 * th + 2) * (2 * tw + 2) * d.inChannels * 4 <= 0x3fffffff;
}

/** Tiles per block: the block's transformed input and products (16·TB·(C + O) floats) within ~128 KB. */
function winogradBlock(c: number, o: number, tilesW: number): number {
  return Math.max(4, Math.min(tilesW, Math.floor(2048 / (c + o))));
}

/**
 * Stride-1 3×3 convolution by Winograd F(2×2, 3×3) (winograd.wat), NHWC float32, explicit zero padding:
 * writes every element of `out` [batch, OH, OW, outChannels]. Scratch: the zero-padded input (to whole
 * tiles), the transformed filter and one block's transforms. Returns false (nothing written) when the
 * module is unusable here, Winograd is off, or the dimensions are not supported (`simdWinogradSupports`).
 */
export function simdWinogradConv2D(backend: unknown, x: TensorInfo, w: TensorInfo, out: TensorInfo, d: ConvForwardDims): boolean {
  if (!winogradEnabled || !simdWinogradSupports(d)) return false;
  const sb = backend as ScratchBackend;
  if (!sb.makeOutput || !sb.disposeData) return false;
  const c = d.inChannels, o = d.outChannels;
  const oh = d.inHeight + d.padTop + d.padBottom - 2, ow = d.inWidth + d.padLeft + d.padRight - 2;
  const th = (oh + 1) >> 1, tw = (ow + 1) >> 1;
  const hp = 2 * th + 2, wp = 2 * tw + 2;
  const tb = winogradBlock(c, o, tw);
  const padFloats = d.batch * hp * wp * c, uFloats = 16 * c * o, blockFloats = 16 * tb * (c + o);
  // one scratch tensor: padded input, U, block (each a multiple of 4 floats, so every part stays 16-aligned)
  const scratch = sb.makeOutput([padFloats + uFloats + blockFloats], 'float32');
  try {
    const k = locate(backend, [x, w, out, scratch]);
    if (!k) return false;
    const [xo, wo, oo, so] = k.offsets as [number, number, number, number];
    const uo = so + 4 * padFloats, bo = uo + 4 * uFloats;
    k.exports.conv2dPad(xo, so, d.batch, d.inHeight, d.inWidth, c, hp, wp, d.padTop, d.padLeft);
    k.exports.wgFilter(wo, uo, c, o);
    k.exports.wgConv(so, uo, oo, bo, d.batch, oh, ow, c, o, hp, wp, tb);
    return true;
  } finally {
    sb.disposeData!(scratch.dataId);
  }
}

// ---- Winograd F(3×3, 2×2) filter gradient (winograd.wat, wgFilterGrad) ---------------------------------

let winogradFilterEnabled = true;

/** Turn the Winograd path of the 3×3 filter gradient off/on (tests and A/B benchmarks; on by default). */
export function setWinogradFilterEnabled(on: boolean): void {
  winogradFilterEnabled = on;
}

/**
 * Whether `simdWinogradConv2DBackpropFilter` takes these dimensions: a 3×3 filter, ≥ 8 input channels in
 * fours, output channels % 8 == 0, pads ≥ 0 on all four sides (bottom / right as implied by the output
 * size), sizes in range. Fewer input channels (the first layer, Cin = 1) stay on the direct kernel.
 */
export function simdWinogradFilterSupports(d: ConvS1Dims): boolean {
  return winogradFilterPlan(d) !== null;
}

/** The scratch layout of a supported filter gradient (`simdWinogradFilterSupports`), or null. */
function winogradFilterPlan(d: ConvS1Dims): ReturnType<typeof winogradFilterScratch> | null {
  const pos = [d.batch, d.inHeight, d.inWidth, d.inChannels, d.outHeight, d.outWidth, d.outChannels];
  if (pos.some((v) => !Number.isInteger(v) || v <= 0)) return null;
  if (d.filterHeight !== 3 || d.filterWidth !== 3 || d.inChannels < 8 || d.inChannels % 4 !== 0 || d.outChannels % 8 !== 0) return null;
  if (!Number.isInteger(d.padTop) || !Number.isInteger(d.padLeft) || d.padTop < 0 || d.padLeft < 0) return null;
  // the bottom / right pads the output size implies (a 'valid' or 'same' convolution: ≥ 0)
  if (d.outHeight + 2 - d.inHeight - d.padTop < 0 || d.outWidth + 2 - d.inWidth - d.padLeft < 0) return null;
  // byte offsets are i32 in the module: the tensors and the scratch in range
  const scratch = winogradFilterScratch(d);
  const maxFloats = Math.max(d.batch * d.inHeight * d.inWidth * d.inChannels, d.batch * d.outHeight * d.outWidth * d.outChannels, scratch.total);
  return maxFloats * 4 <= 0x3fffffff ? scratch : null;
}

/**
 * The scratch of `simdWinogradConv2DBackpropFilter`, in floats (each part a multiple of 4, so 16-aligned):
 * x zero-padded to whole tiles [B, 2·TH + 2, 2·TW + 2, C], the 16 transformed sums M and one block's
 * transforms (tb tiles), the small taps' u64 bit rows of every x and dy channel and 2·(C + O) flags.
 */
function winogradFilterScratch(d: ConvS1Dims): { th: number; tw: number; tb: number; x: number; work: number; total: number } {
  const c = d.inChannels, o = d.outChannels;
  const th = (d.outHeight + 1) >> 1, tw = (d.outWidth + 1) >> 1;
  const hp = 2 * th + 2, wp = 2 * tw + 2;
  const tb = winogradFilterBlock(c, o, d.batch * th * tw);
  const x = d.batch * hp * wp * c;
  const work = 16 * (c * o + tb * (c + o) + 32);
  const zeros = 2 * Math.ceil(wp / 64) * d.batch * (c * hp + o * d.outHeight) + 2 * (c + o);
  return { th, tw, tb, x, work, total: x + work + zeros };
}

/** Tiles per block: one transformed slice V_ξ, D_ξ (TB·(C + O) floats) within ~24 KB, for the L1 cache. */
function winogradFilterBlock(c: number, o: number, tiles: number): number {
  return Math.max(1, Math.min(tiles, Math.max(8, Math.floor(6144 / (c + o)))));
}

/**
 * Conv2DBackpropFilter of a stride-1 3×3 convolution by Winograd F(3×3, 2×2) (winograd.wat, wgFilterGrad),
 * NHWC float32: writes every element of `out` [3, 3, Cin, Cout] from `x` [B, H, W, Cin] and `dy`
 * [B, OH, OW, Cout]. Scratch: x zero-padded to whole tiles, the 16 transformed sums M, one block's transforms
 * and the small taps' bit rows (winograd.wat). The same inputs give the same bits on
 * any thread. Returns false (nothing written) when the module is unusable here, the path is off, or the
 * dimensions are not supported (`simdWinogradFilterSupports`), so the caller runs the direct kernel.
 */
export function simdWinogradConv2DBackpropFilter(backend: unknown, x: TensorInfo, dy: TensorInfo, out: TensorInfo, d: ConvS1Dims): boolean {
  const s = winogradFilterEnabled ? winogradFilterPlan(d) : null;
  if (!s) return false;
  const sb = backend as ScratchBackend;
  if (!sb.makeOutput || !sb.disposeData) return false;
  const scratch = sb.makeOutput([s.total], 'float32');
  try {
    const k = locate(backend, [x, dy, out, scratch]);
    if (!k) return false;
    const [xo, go, oo, so] = k.offsets as [number, number, number, number];
    const wo = so + 4 * s.x, zo = wo + 4 * s.work;
    k.exports.conv2dPad(xo, so, d.batch, d.inHeight, d.inWidth, d.inChannels, 2 * s.th + 2, 2 * s.tw + 2, d.padTop, d.padLeft);
    k.exports.wgFilterGrad(so, go, oo, wo, zo, d.batch, d.outHeight, d.outWidth, d.inChannels, d.outChannels, s.tb);
    return true;
  } finally {
    sb.disposeData!(scratch.dataId);
  }
}
