/**
 * Conv2DBackpropFilter for wasm (tfjs registers none: tfjs issue #8474).
 * dW[i,j,c,o] = Σ_{b,y,x} x[b, y·s+i−pt, x·s+j−pl, c] · dy[b,y,x,o].
 * Stride 1 (every layer of our models):
 * - 3×3 filters with ≥ 8 input channels in fours and output channels in eights (cnn3's conv2 and conv3,
 *   cnn4's and ser-cnn's later layers) by Winograd F(3×3, 2×2) (simd/winograd.wat, wgFilterGrad): per 2×2
 *   tile of dy and the 4×4 patch of x under it, the 16 products of the transformed tiles are summed over
 *   all tiles and transformed back once, 16 instead of 36 multiply-adds per tile and channel pair (≈ 1.4–1.6×
 *   faster per layer). The few taps that come out within 2⁻¹⁶ of their channel pair's largest are then
 *   recomputed as direct sums over the pixels where x and dy are both non-zero, so a tap no product reaches
 *   is exactly 0, as in the direct sum and PyTorch (Winograd's rounding there scales with the neighbouring
 *   taps, and Adam's ε = 1e-8 turns even 1e-11 into a weight update: test/train/torch-parity.test.ts).
 *   `setWinogradFilterEnabled(false)` turns it off for A/B runs.
 * - everything else by the direct SIMD kernel (simd/conv2d_filter.wat), with no im2col and no packing:
 *   im2col + XNNPACK's product re-packed dy on every call (dy is new each training step), which cost more
 *   than the product itself.
 * Both are deterministic (the same inputs give the same bits on any thread), which the batch-1 offload
 * below relies on: the worker runs this same kernel. Other strides, or no SIMD: im2col written by hand
 * (tfjs's pad + 9 slices + concat measured 2–4× slower), then the wasm BatchMatMul (XNNPACK)
 * multiplies colsT [kh·kw·cin, N] × dy [N, cout] = dW in filter layout.
 */
import { backend_util, getKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo, NamedAttrMap } from '@tensorflow/tfjs-core';
import { f32, type WasmBackendLike } from './heap.js';
import { simdAvailable, simdConv2DBackpropFilterS1, simdWinogradConv2DBackpropFilter, type ConvS1Dims } from './simd/index.js';
import { offerFilterGrad } from './offload-hook.js';

/** Generic (any stride) gather of colsT[(i,j,c), (b,y,x)] from NHWC x. */
function im2colStrided(xs: Float32Array, cs: Float32Array, info: backend_util.Conv2DInfo, n: number): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  const imgStride = inHeight * inWidth * inChannels;
  const rowStride = inWidth * inChannels;
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      for (let c = 0; c < inChannels; c++) {
        let o = ((i * filterWidth + j) * inChannels + c) * n;
        for (let b = 0; b < batchSize; b++) {
          const xb = b * imgStride + c;
          for (let y = 0; y < outHeight; y++, o += outWidth) {
            const yy = y * strideHeight + i - pt;
            if (yy < 0 || yy >= inHeight) {
              cs.fill(0, o, o + outWidth);
              continue;
            }
            const xr = xb + yy * rowStride;
            for (let xx = 0; xx < outWidth; xx++) {
              const col = xx * strideWidth + j - pl;
              cs[o + xx] = col >= 0 && col < inWidth ? xs[xr + col * inChannels] : 0;
            }
          }
        }
      }
    }
  }
}

function conv2DBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: number | [number, number]; pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  if (strideHeight === 1 && strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1 && simdAvailable(backend)) {
    const out = backend.makeOutput(filterShape.slice(), 'float32');
    // another thread may compute it (offload-hook.ts: batch-1 training with 2 threads), filling `out` later
    if (offerFilterGrad({ backend, x, dy, out, attrs: { strides, pad, dataFormat, dimRoundingMode, filterShape } })) return out;
    const dims: ConvS1Dims = {
      batch: batchSize, inHeight: info.inHeight, inWidth: info.inWidth, inChannels, outHeight, outWidth, outChannels,
      filterHeight, filterWidth, padTop: info.padInfo.top, padLeft: info.padInfo.left,
    };
    if (simdWinogradConv2DBackpropFilter(backend, x, dy, out, dims) || simdConv2DBackpropFilterS1(backend, x, dy, out, dims)) return out;
    backend.disposeData(out.dataId);
  }
  const n = batchSize * outHeight * outWidth;
  const rows = filterHeight * filterWidth * inChannels;
  const cols = backend.makeOutput([rows, n], 'float32');
  im2colStrided(f32(backend, x), f32(backend, cols), info, n);
  const mm = getKernel('BatchMatMul', 'wasm')!.kernelFunc as KernelFunc;
  const reshape = getKernel('Reshape', 'wasm')!.kernelFunc as KernelFunc;
  const dy2 = reshape({ inputs: { x: dy }, backend: backend as never, attrs: { shape: [n, outChannels] } }) as TensorInfo;
  const prod = mm({ inputs: { a: cols, b: dy2 }, backend: backend as never, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
  backend.disposeData(cols.dataId);
  backend.disposeData(dy2.dataId);
  const out = reshape({ inputs: { x: prod }, backend: backend as never, attrs: { shape: filterShape } }) as TensorInfo;
  backend.disposeData(prod.dataId);
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
