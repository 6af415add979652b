/**
 * Conv2D for wasm: stride 1, dilation 1, NHWC with output channels % 8 == 0 (every conv layer of cnn3 /
 * cnn4) runs our SIMD kernels: 3×3 filters with ≥ 8 input channels (in fours) by Winograd F(2×2, 3×3)
 * (simd/winograd.wat: 16 instead of 36 multiply-adds per 2×2 output tile and channel pair, ≈ 1.6–2× faster;
 * `setWinogradEnabled` turns it off for A/B runs), the rest by the direct kernel (simd/conv2d.wat:
 * zero-padded copy of x, then 4-pixel × 8-channel register tiles, fused multiply-add with relaxed SIMD).
 * Anything else, or no SIMD here, goes to tfjs's
 * own kernel (XNNPACK). XNNPACK re-packs a filter whenever it is a new tensor, which in training is
 * every step (new weights) and every Conv2DBackpropInput call (a new rotated filter); ours reads the
 * filter as it is.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo, NamedAttrMap } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './heap.js';
import { original } from './registry.js';
import { simdConv2DS1, simdWinogradConv2D } from './simd/index.js';

type Pad = 'same' | 'valid' | number | backend_util.ExplicitPadding;

/**
 * Stride-1 convolution of NHWC `x` with `filter` [kh, kw, cin, cout] and explicit pads by the SIMD kernels
 * (Winograd where it applies, else direct), or null (nothing allocated) when it does not apply.
 */
export function directConv2D(
  backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo,
  pads: { top: number; bottom: number; left: number; right: number },
): TensorInfo | null {
  const [b, h, w, ci] = x.shape as [number, number, number, number];
  const [kh, kw, fci, co] = filter.shape as [number, number, number, number];
  if (x.shape.length !== 4 || filter.shape.length !== 4 || fci !== ci || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const oh = h + pads.top + pads.bottom - kh + 1, ow = w + pads.left + pads.right - kw + 1;
  if (!(oh > 0 && ow > 0)) return null;
  const out = backend.makeOutput([b, oh, ow, co], 'float32');
  const dims = {
    batch: b, inHeight: h, inWidth: w, inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw,
    padTop: pads.top, padBottom: pads.bottom, padLeft: pads.left, padRight: pads.right,
  };
  const ok = simdWinogradConv2D(backend, x, filter, out, dims) || simdConv2DS1(backend, x, filter, out, dims);
  if (ok) return out;
  backend.disposeData(out.dataId);
  return null;
}

function conv2D(args: { inputs: { x: TensorInfo; filter: TensorInfo }; backend: unknown; attrs: NamedAttrMap }): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as WasmBackendLike;
  const { x, filter } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as {
    strides: number | [number, number]; pad: Pad; dataFormat: 'NHWC' | 'NCHW';
    dilations: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (dataFormat !== 'NCHW' && x.shape.length === 4) {
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      strides, dilations ?? 1, pad, dimRoundingMode, false, 'channelsLast');
    if (info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1) {
      const out = directConv2D(backend, x, filter, info.padInfo);
      if (out) return out;
    }
  }
  return original('Conv2D')(args as never) as TensorInfo;
}

export const conv2DConfig: KernelConfig = {
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: conv2D as unknown as KernelFunc,
};
