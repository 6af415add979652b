/**
 * MaxPoolGrad for wasm: each output's gradient goes to the first maximum of its window (tfjs's cpu
 * semantics). Hand-written because it is a scatter with data-dependent indices that no fast wasm
 * kernel composes into; one tight pass over the windows, no allocation beyond the output, with a
 * fast path for the common 2×2 / stride 2 / valid pooling. tfjs's own wasm kernel is ~5× slower.
 * With channels % 4 == 0 that fast path runs in our WASM SIMD module (simd/) on tfjs's heap.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo, NamedAttrMap } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';
import { simdMaxPoolGrad2x2 } from './simd/index.js';

function maxPoolGrad(args: { inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as WasmBackendLike;
  const { dy, input } = inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: number | [number, number]; strides: number | [number, number];
    pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  const out = backend.makeOutput(input.shape.slice(), 'float32');
  const fast2x2 = fh === 2 && fw === 2 && sh === 2 && sw === 2 && pt === 0 && pl === 0 && outHeight * 2 <= inHeight && outWidth * 2 <= inWidth;
  // the branch-bound JS loop below is ~14x slower than compare+bitselect over 4 channels in wasm SIMD;
  // the SIMD kernel needs dy to be exactly the ⌊H/2⌋×⌊W/2⌋ grid it assumes
  if (fast2x2 && C % 4 === 0 && outHeight === inHeight >> 1 && outWidth === inWidth >> 1 &&
      simdMaxPoolGrad2x2(backend, dy, input, out, { batch: batchSize, height: inHeight, width: inWidth, channels: C })) {
    return out;
  }
  const x = f32(backend, input);
  const g = f32(backend, dy);
  const dx = f32(backend, out);
  const rowStride = inWidth * C;
  const imgStride = inHeight * rowStride;
  if (fast2x2) {
    // windows tile the input: every covered cell is written (gradient or 0), so no separate zero-fill
    // pass unless odd sizes leave an uncovered last row/column
    if (outHeight * 2 !== inHeight || outWidth * 2 !== inWidth) dx.fill(0);
    let gi = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let y = 0; y < outHeight; y++) {
        const r0 = b * imgStride + 2 * y * rowStride;
        for (let xo = 0; xo < outWidth; xo++) {
          const p00 = r0 + 2 * xo * C;
          for (let c = 0; c < C; c++, gi++) {
            const a = p00 + c, bb = a + C, cc = a + rowStride, dd = cc + C;
            let best = 0, v = x[a];
            if (x[bb] > v) { v = x[bb]; best = 1; }
            if (x[cc] > v) { v = x[cc]; best = 2; }
            if (x[dd] > v) { best = 3; }
            const gv = g[gi];
            dx[a] = best === 0 ? gv : 0;
            dx[bb] = best === 1 ? gv : 0;
            dx[cc] = best === 2 ? gv : 0;
            dx[dd] = best === 3 ? gv : 0;
          }
        }
      }
    }
    return out;
  }
  dx.fill(0);
  let gi = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let y = 0; y < outHeight; y++) {
      const y0 = y * sh - pt;
      for (let xo = 0; xo < outWidth; xo++) {
        const x0 = xo * sw - pl;
        for (let c = 0; c < C; c++, gi++) {
          let best = -1, v = -Infinity;
          for (let i = 0; i < fh; i++) {
            const yy = y0 + i;
            if (yy < 0 || yy >= inHeight) continue;
            for (let j = 0; j < fw; j++) {
              const xx = x0 + j;
              if (xx < 0 || xx >= inWidth) continue;
              const k = b * imgStride + yy * rowStride + xx * C + c;
              if (x[k] > v || best < 0) { v = x[k]; best = k; }
            }
          }
          if (best >= 0) dx[best] += g[gi];
        }
      }
    }
  }
  return out;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
