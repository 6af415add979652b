import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import { colormap, crc32, encodePng, spectrogramPng, spectrogramRgba } from '../../src/util/png.js';

function readChunks(png: Uint8Array) {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Array<{ type: string; data: Uint8Array; crcOk: boolean }> = [];
  let off = 8;
  while (off < png.length) {
    const len = dv.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    const data = png.subarray(off + 8, off + 8 + len);
    const crc = dv.getUint32(off + 8 + len);
    chunks.push({ type, data, crcOk: crc === crc32(png, off + 4, off + 8 + len) });
    off += 12 + len;
  }
  return chunks;
}

describe('encodePng', () => {
  it('crc32 matches the known value of "IEND"', () => {
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
  it('writes signature, IHDR, IDAT, IEND and the exact pixels', () => {
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const png = encodePng(rgba, 3, 2);
    expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const chunks = readChunks(png);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(chunks.every((c) => c.crcOk)).toBe(true);
    const ih = new DataView(chunks[0]!.data.buffer, chunks[0]!.data.byteOffset);
    expect([ih.getUint32(0), ih.getUint32(4), chunks[0]!.data[8], chunks[0]!.data[9]]).toEqual([3, 2, 8, 6]);
    const raw = inflateSync(chunks[1]!.data);
    expect(raw.length).toBe(2 * (1 + 12));
    expect(raw[0]).toBe(0);
    expect([...raw.subarray(1, 13)]).toEqual([...rgba.subarray(0, 12)]);
    expect([...raw.subarray(14, 26)]).toEqual([...rgba.subarray(12, 24)]);
  });
  it('rejects a wrong buffer size with a clear error', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2)).toThrow(/expected 2×2×4 = 16/);
  });
});

describe('spectrogram images', () => {
  it('puts row 0 (low frequencies) at the bottom and maps min/max to the colormap ends', () => {
    // 2 mel rows × 3 frames: row 0 all 0 (min), row 1 all 10 (max)
    const spec = { data: new Float32Array([0, 0, 0, 10, 10, 10]), nMels: 2, frames: 3 };
    const { rgba, width, height } = spectrogramRgba(spec, { colormap: 'viridis' });
    expect([width, height]).toEqual([3, 2]);
    const top = [...rgba.subarray(0, 3)];
    const bottom = [...rgba.subarray(12, 15)];
    expect(top).toEqual(colormap(1, 'viridis'));
    expect(bottom).toEqual(colormap(0, 'viridis'));
    expect(colormap(0, 'viridis')).toEqual([0x44, 0x01, 0x54]);
    expect(colormap(1, 'magma')).toEqual([0xfc, 0xfd, 0xbf]);
    expect(colormap(0.5, 'gray')).toEqual([128, 128, 128]);
  });
  it('scales pixels and encodes a PNG', () => {
    const spec = { data: new Float32Array([0, 1, 2, 3]), nMels: 2, frames: 2 };
    const { width, height } = spectrogramRgba(spec, { scaleX: 3, scaleY: 2 });
    expect([width, height]).toEqual([6, 4]);
    const png = spectrogramPng(spec);
    expect(readChunks(png).map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  });
});
