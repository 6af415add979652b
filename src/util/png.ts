/**
 * PNG encoding (RGBA 8-bit, node:zlib deflate) plus colormaps and a spectrogram renderer.
 * Dependency-free; used for log-mel images in reports.
 */
import { deflateSync } from 'node:zlib';
import { SerError } from './errors.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the PNG/zlib polynomial) of `bytes`. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/**
 * Encodes an RGBA image (`width*height*4` bytes, rows top to bottom) as a PNG file.
 */
export function encodePng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new SerError('png/bad-size', `encodePng: width and height must be positive integers (got ${width}×${height})`);
  }
  if (rgba.length !== width * height * 4) {
    throw new SerError('png/bad-size', `encodePng: rgba has ${rgba.length} bytes, expected ${width}×${height}×4 = ${width * height * 4}`);
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  // compression 0, filter 0, interlace 0
  const stride = width * 4;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const idat = deflateSync(raw, { level: 6 });
  const sig = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
  const parts = [sig, chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(idat.buffer, idat.byteOffset, idat.length)), chunk('IEND', new Uint8Array(0))];
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

export type ColormapName = 'magma' | 'viridis' | 'gray';

// Key colours sampled at 9 evenly spaced points; linear interpolation between them.
const STOPS: Record<ColormapName, string[]> = {
  magma: ['#000004', '#1c1044', '#4f127b', '#812581', '#b5367a', '#e55064', '#fb8761', '#fec287', '#fcfdbf'],
  viridis: ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#fde725'],
  gray: ['#000000', '#ffffff'],
};

function hexToRgb(h: string): [number, number, number] {
  const v = parseInt(h.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** A 256-entry RGB lookup table (768 bytes) for a colormap. */
export function colormapLut(name: ColormapName = 'magma'): Uint8Array {
  const stops = STOPS[name].map(hexToRgb);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t));
    const f = t - k;
    const a = stops[k] as [number, number, number];
    const b = stops[k + 1] as [number, number, number];
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(a[c] + (b[c] - a[c]) * f);
  }
  return lut;
}

/** The RGB colour of value t in [0, 1] (clamped) under a colormap. */
export function colormap(t: number, name: ColormapName = 'magma'): [number, number, number] {
  const lut = colormapLut(name);
  const i = Math.round(Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * 255);
  return [lut[i * 3] as number, lut[i * 3 + 1] as number, lut[i * 3 + 2] as number];
}

/** A matrix with rows = frequency bands (row 0 = lowest), columns = frames (the `Spectrogram` shape). */
export interface SpectrogramLike {
  data: Float32Array;
  nMels: number;
  frames: number;
}

export interface SpectrogramPngOptions {
  colormap?: ColormapName;
  /** Value range mapped to the colormap; default the data's min and max. */
  min?: number;
  max?: number;
  /** Integer pixel scale per cell (x, y). */
  scaleX?: number;
  scaleY?: number;
}

/**
 * Renders a spectrogram (e.g. log-mel in dB) as RGBA pixels with low frequencies at the
 * bottom (row 0 of the data is the bottom row of the image).
 */
export function spectrogramRgba(spec: SpectrogramLike, opts: SpectrogramPngOptions = {}): { rgba: Uint8Array; width: number; height: number } {
  const sx = Math.max(1, Math.floor(opts.scaleX ?? 1));
  const sy = Math.max(1, Math.floor(opts.scaleY ?? 1));
  const { nMels, frames, data } = spec;
  if (nMels <= 0 || frames <= 0 || data.length !== nMels * frames) {
    throw new SerError('png/bad-spectrogram', `spectrogramPng: data has ${data.length} values, expected nMels ${nMels} × frames ${frames} (both > 0)`);
  }
  let lo = opts.min ?? Infinity;
  let hi = opts.max ?? -Infinity;
  if (opts.min === undefined || opts.max === undefined) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (!Number.isFinite(v)) continue;
      if (opts.min === undefined && v < lo) lo = v;
      if (opts.max === undefined && v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) { lo = 0; hi = 1; }
  const span = hi > lo ? hi - lo : 1;
  const lut = colormapLut(opts.colormap ?? 'magma');
  const width = frames * sx;
  const height = nMels * sy;
  const rgba = new Uint8Array(width * height * 4);
  for (let m = 0; m < nMels; m++) {
    const imgRow0 = (nMels - 1 - m) * sy;
    for (let f = 0; f < frames; f++) {
      const v = data[m * frames + f] as number;
      const t = Number.isFinite(v) ? Math.min(1, Math.max(0, (v - lo) / span)) : 0;
      const k = Math.round(t * 255) * 3;
      for (let dy = 0; dy < sy; dy++) {
        let p = ((imgRow0 + dy) * width + f * sx) * 4;
        for (let dx = 0; dx < sx; dx++) {
          rgba[p] = lut[k] as number;
          rgba[p + 1] = lut[k + 1] as number;
          rgba[p + 2] = lut[k + 2] as number;
          rgba[p + 3] = 255;
          p += 4;
        }
      }
    }
  }
  return { rgba, width, height };
}

/** A PNG image of a spectrogram (low frequencies at the bottom, magma by default). */
export function spectrogramPng(spec: SpectrogramLike, opts: SpectrogramPngOptions = {}): Uint8Array {
  const { rgba, width, height } = spectrogramRgba(spec, opts);
  return encodePng(rgba, width, height);
}
