/**
 * Audio that arrives in pieces (standard input, a WebSocket): raw PCM of a declared format, or a WAV
 * stream whose header comes first and whose data size may be unknown (arecord, sox and ffmpeg write
 * 0 or 0xFFFFFFFF when piping). `PcmStreamDecoder.write(bytes)` returns the mono samples the bytes
 * complete; a sample split across two writes is carried over. Browser-safe.
 */
import { SerError } from '../util/errors.js';

export type PcmEncoding = 's16le' | 's24le' | 's32le' | 'f32le' | 'u8';
export const PCM_ENCODINGS: readonly PcmEncoding[] = ['s16le', 's24le', 's32le', 'f32le', 'u8'];

export interface PcmFormat {
  encoding: PcmEncoding;
  sampleRate: number;
  channels: number;
}

const BYTES: Record<PcmEncoding, number> = { u8: 1, s16le: 2, s24le: 3, s32le: 4, f32le: 4 };

/** Largest WAV header we wait for before giving up (bytes). */
const MAX_HEADER = 1 << 16;

/** Checks a declared raw format; SerError `audio/bad-format`. */
export function checkPcmFormat(f: PcmFormat): PcmFormat {
  if (!PCM_ENCODINGS.includes(f.encoding)) {
    throw new SerError('audio/bad-format', `unknown PCM encoding "${String(f.encoding)}" (one of ${PCM_ENCODINGS.join(', ')})`);
  }
  if (!Number.isInteger(f.sampleRate) || f.sampleRate < 4000 || f.sampleRate > 384000) {
    throw new SerError('audio/bad-format', `sample rate must be an integer from 4000 to 384000 Hz, got ${f.sampleRate}`);
  }
  if (!Number.isInteger(f.channels) || f.channels < 1 || f.channels > 32) {
    throw new SerError('audio/bad-format', `channels must be an integer from 1 to 32, got ${f.channels}`);
  }
  return f;
}

/** Parses a WAV header at the start of `b`: the format and where the data starts; null = need more bytes. */
export function parseWavStreamHeader(b: Uint8Array, source = 'stream'): { format: PcmFormat; dataOffset: number } | null {
  const bad = (what: string) => new SerError('audio/bad-wav', `${source}: ${what}`);
  if (b.length < 12) return null;
  const tag = String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!);
  if ((tag !== 'RIFF' && tag !== 'RF64') || String.fromCharCode(b[8]!, b[9]!, b[10]!, b[11]!) !== 'WAVE') throw bad('not a WAV stream (no RIFF/WAVE header)');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 12;
  let format: PcmFormat | null = null;
  while (off + 8 <= b.length) {
    const id = String.fromCharCode(b[off]!, b[off + 1]!, b[off + 2]!, b[off + 3]!);
    const size = dv.getUint32(off + 4, true);
    if (id === 'data') {
      if (!format) throw bad('the data chunk comes before the fmt chunk');
      return { format, dataOffset: off + 8 };
    }
    if (off + 8 + size > b.length) return null;
    if (id === 'fmt ') {
      if (size < 16) throw bad('fmt chunk too short');
      let code = dv.getUint16(off + 8, true);
      const channels = dv.getUint16(off + 10, true);
      const sampleRate = dv.getUint32(off + 12, true);
      const bits = dv.getUint16(off + 22, true);
      if (code === 0xfffe && size >= 40) code = dv.getUint16(off + 32, true);
      const enc: PcmEncoding | undefined =
        code === 3 && bits === 32 ? 'f32le' : code === 1 ? ({ 8: 'u8', 16: 's16le', 24: 's24le', 32: 's32le' } as Record<number, PcmEncoding>)[bits] : undefined;
      if (!enc) throw bad(`unsupported WAV encoding for streaming (format ${code}, ${bits} bits); use PCM 8/16/24/32-bit or float 32-bit`);
      format = checkPcmFormat({ encoding: enc, sampleRate, channels });
    }
    off += 8 + size + (size & 1);
  }
  if (b.length > MAX_HEADER) throw bad(`no data chunk in the first ${MAX_HEADER} bytes`);
  return null;
}

/** Incremental decoder: raw PCM of a known format, or `'wav'` (format read from the stream's header). */
export class PcmStreamDecoder {
  private fmt: PcmFormat | null;
  private pending = new Uint8Array(0);
  private headerDone: boolean;

  constructor(
    format: PcmFormat | 'wav',
    private readonly source = 'stream',
  ) {
    this.fmt = format === 'wav' ? null : checkPcmFormat(format);
    this.headerDone = format !== 'wav';
  }

  /** The stream's format (null until a WAV header has been read). */
  get format(): PcmFormat | null {
    return this.fmt;
  }

  /** Decodes `bytes` (plus any carried-over partial frame) to mono samples in [-1, 1]. */
  write(bytes: Uint8Array): Float32Array {
    let b = bytes;
    if (this.pending.length) {
      b = new Uint8Array(this.pending.length + bytes.length);
      b.set(this.pending);
      b.set(bytes, this.pending.length);
    }
    if (!this.headerDone) {
      const h = parseWavStreamHeader(b, this.source);
      if (!h) {
        this.pending = b.slice();
        return new Float32Array(0);
      }
      this.fmt = h.format;
      this.headerDone = true;
      b = b.subarray(h.dataOffset);
    }
    const f = this.fmt!;
    const frameBytes = BYTES[f.encoding] * f.channels;
    const frames = Math.floor(b.length / frameBytes);
    this.pending = b.slice(frames * frameBytes);
    const out = new Float32Array(frames);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const bps = BYTES[f.encoding];
    const inv = 1 / f.channels;
    for (let i = 0; i < frames; i++) {
      let acc = 0;
      for (let c = 0; c < f.channels; c++) {
        const o = i * frameBytes + c * bps;
        let v: number;
        switch (f.encoding) {
          case 'u8': v = (b[o]! - 128) / 128; break;
          case 's16le': v = dv.getInt16(o, true) / 32768; break;
          case 's24le': v = ((b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) << 8 >> 8) / 8388608; break;
          case 's32le': v = dv.getInt32(o, true) / 2147483648; break;
          default: v = dv.getFloat32(o, true);
        }
        acc += v;
      }
      const m = acc * inv;
      if (!Number.isFinite(m)) throw new SerError('audio/bad-samples', `${this.source}: the stream holds a sample that is not a finite number (NaN or infinity)`);
      out[i] = m;
    }
    return out;
  }
}
