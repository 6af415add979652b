/**
 * A hand-written WAV (RIFF/RF64 WAVE) reader and a small writer.
 *
 * Reads PCM 8 (unsigned) / 16 / 24 / 32-bit, IEEE float 32 / 64, G.711 μ-law / A-law, WAVE_FORMAT_EXTENSIBLE with a
 * PCM or float subformat, and the float variant whose `fmt ` chunk is 16 bytes long (no cbSize).
 * Unknown chunks are skipped (odd sizes padded), a `data` chunk that claims more bytes than the
 * file holds is clamped to the whole frames present, and every failure is a `SerError` with code
 * `audio/<reason>` naming the file. Multi-channel audio is downmixed to mono (mean of channels).
 */
import { SerError } from '../util/errors.js';
import type { AudioData } from './types.js';

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** G.711 μ-law and A-law byte → 16-bit linear value tables. */
const MULAW = new Int16Array(256);
const ALAW = new Int16Array(256);
for (let b = 0; b < 256; b++) {
  const u = ~b & 0xff;
  const mag = (((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7);
  MULAW[b] = u & 0x80 ? 0x84 - mag : mag - 0x84;
  const a = b ^ 0x55;
  const e = (a >> 4) & 7;
  const m = a & 0x0f;
  const amag = e === 0 ? (m << 4) + 8 : ((m << 4) + 0x108) << (e - 1);
  ALAW[b] = a & 0x80 ? amag : -amag;
}
/** Bytes 2..15 of the KSDATAFORMAT_SUBTYPE_* GUIDs (the first two bytes are the format tag). */
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

function fourcc(b: Uint8Array, off: number): string {
  return String.fromCharCode(b[off]!, b[off + 1]!, b[off + 2]!, b[off + 3]!);
}

function fail(reason: string, source: string, what: string): SerError {
  return new SerError(`audio/${reason}`, `${source}: ${what}`);
}

/** True when the bytes start like a RIFF/RF64 WAVE file. */
export function isWav(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const riff = fourcc(bytes, 0);
  return (riff === 'RIFF' || riff === 'RF64' || riff === 'RIFX' || riff === 'BW64') && fourcc(bytes, 8) === 'WAVE';
}

/** The parsed `fmt ` chunk. */
export interface WavFormat {
  /** 1 = PCM, 3 = IEEE float (the effective format after resolving WAVE_FORMAT_EXTENSIBLE). */
  formatTag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  extensible: boolean;
}

/**
 * Decodes a WAV file held in memory to mono float32 (`AudioData`). `source` names the file in
 * error messages. Throws `SerError` `audio/empty|truncated|no-data|unsupported-encoding|
 * not-audio|bad-header|non-finite`.
 */
export function decodeWav(bytes: Uint8Array, source: string): AudioData {
  const len = bytes.length;
  if (len === 0) throw fail('empty', source, 'the file is empty (0 bytes)');
  if (len < 12) {
    const head = String.fromCharCode(...bytes.subarray(0, 4));
    if ('RIFF'.startsWith(head) || 'RF64'.startsWith(head)) {
      throw fail('truncated', source, `WAV file cut short: only ${len} bytes, the RIFF header needs 12`);
    }
    throw fail('not-audio', source, `not a WAV file (${len} bytes, no RIFF header)`);
  }
  const riff = fourcc(bytes, 0);
  if (riff === 'RIFX') throw fail('unsupported-encoding', source, 'big-endian WAV (RIFX) is not supported');
  if ((riff !== 'RIFF' && riff !== 'RF64' && riff !== 'BW64') || fourcc(bytes, 8) !== 'WAVE') {
    throw fail('not-audio', source, 'not a WAV file (no RIFF/WAVE header)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riffSize = view.getUint32(4, true);

  let fmt: WavFormat | null = null;
  let dataOff = -1;
  let dataClaimed = 0;
  let ds64DataSize = -1;
  let off = 12;
  while (off + 8 <= len) {
    const id = fourcc(bytes, off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'ds64' && size >= 16 && body + 16 <= len) {
      // RF64: 64-bit RIFF size, data size, sample count (low, high words).
      ds64DataSize = view.getUint32(body + 8, true) + view.getUint32(body + 12, true) * 4294967296;
    } else if (id === 'fmt ') {
      if (size < 16) throw fail('bad-header', source, `the fmt chunk is ${size} bytes long, at least 16 are needed`);
      if (body + 16 > len) throw fail('truncated', source, 'the file ends inside the fmt chunk');
      fmt = parseFmt(view, body, Math.min(size, len - body), source);
    } else if (id === 'data') {
      if (dataOff < 0) {
        dataOff = body;
        dataClaimed = size === 0xffffffff && ds64DataSize >= 0 ? ds64DataSize : size;
        if (riff !== 'RIFF' && size === 0xffffffff && ds64DataSize < 0) dataClaimed = len - body;
        // An unfinalised stream (e.g. written to a pipe): RIFF and data sizes left at 0 or -1.
        if (size === 0 && (riffSize === 0 || riffSize === 0xffffffff)) dataClaimed = len - body;
      }
      // A data chunk that runs to (or past) the end of the file ends the walk.
      if (body + dataClaimed >= len) break;
    }
    const next = body + size + (size & 1);
    if (next <= off) break;
    off = next;
  }

  if (!fmt) {
    if (dataOff < 0 && riffSize + 8 > len) throw fail('truncated', source, 'WAV file cut short before its fmt chunk');
    throw fail('bad-header', source, 'no fmt chunk (the WAV header does not say how samples are stored)');
  }
  if (dataOff < 0) {
    if (riffSize + 8 > len) {
      throw fail('truncated', source, `WAV file cut short: ${len} bytes, header declares ${riffSize + 8}; no data chunk`);
    }
    throw fail('no-data', source, 'no data chunk: the WAV file has a header but no audio');
  }
  const { channels, blockAlign } = fmt;
  const present = Math.min(dataClaimed, len - dataOff);
  const frames = Math.floor(present / blockAlign);
  if (frames === 0) {
    if (dataClaimed === 0) throw fail('no-data', source, 'the data chunk is empty (0 samples)');
    throw fail('truncated', source, `the data chunk holds ${present} bytes, less than one frame (${blockAlign} bytes)`);
  }

  const samples = readSamples(view, dataOff, frames, fmt, source);
  return { samples, sampleRate: fmt.sampleRate, channels, source };
}

function parseFmt(view: DataView, off: number, size: number, source: string): WavFormat {
  let formatTag = view.getUint16(off, true);
  const channels = view.getUint16(off + 2, true);
  const sampleRate = view.getUint32(off + 4, true);
  const blockAlign = view.getUint16(off + 12, true);
  let bitsPerSample = view.getUint16(off + 14, true);
  let extensible = false;
  if (channels === 0) throw fail('bad-header', source, 'the fmt chunk says 0 channels');
  if (sampleRate === 0) throw fail('bad-header', source, 'the fmt chunk says sample rate 0');
  if (blockAlign === 0) throw fail('bad-header', source, 'the fmt chunk says block align 0');
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    extensible = true;
    if (size < 40) throw fail('bad-header', source, `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, 40 are needed`);
    const sub = view.getUint16(off + 24, true);
    for (let i = 0; i < 14; i++) {
      if (view.getUint8(off + 26 + i) !== GUID_TAIL[i]) {
        throw fail('unsupported-encoding', source, 'WAVE_FORMAT_EXTENSIBLE with an unknown subformat GUID');
      }
    }
    formatTag = sub;
  }
  const g711 = formatTag === WAVE_FORMAT_ALAW || formatTag === WAVE_FORMAT_MULAW;
  if (formatTag !== WAVE_FORMAT_PCM && formatTag !== WAVE_FORMAT_IEEE_FLOAT && !g711) {
    throw fail('unsupported-encoding', source, `WAV format tag 0x${formatTag.toString(16).padStart(4, '0')} is not PCM or IEEE float`);
  }
  // Some writers leave bitsPerSample inconsistent; the container width is blockAlign / channels.
  const bytesPer = blockAlign / channels;
  if (bitsPerSample === 0 && Number.isInteger(bytesPer)) bitsPerSample = bytesPer * 8;
  const valid = g711
    ? bitsPerSample === 8
    : formatTag === WAVE_FORMAT_PCM
      ? bitsPerSample === 8 || bitsPerSample === 16 || bitsPerSample === 24 || bitsPerSample === 32
      : bitsPerSample === 32 || bitsPerSample === 64;
  if (!valid) {
    const kind = formatTag === WAVE_FORMAT_PCM ? 'PCM' : g711 ? 'G.711' : 'float';
    throw fail('unsupported-encoding', source, `${bitsPerSample}-bit ${kind} WAV is not supported`);
  }
  if (blockAlign < (bitsPerSample / 8) * channels) {
    throw fail('bad-header', source, `block align ${blockAlign} is too small for ${channels} × ${bitsPerSample}-bit samples`);
  }
  return { formatTag, channels, sampleRate, blockAlign, bitsPerSample, extensible };
}

function readSamples(view: DataView, dataOff: number, frames: number, fmt: WavFormat, source: string): Float32Array {
  const { channels, blockAlign, bitsPerSample, formatTag } = fmt;
  const out = new Float32Array(frames);
  // Multi-channel: sum in float64, then divide once (the mean, rounded once to float32).
  const acc: Float32Array | Float64Array = channels === 1 ? out : new Float64Array(frames);
  const bytesPer = bitsPerSample >> 3;
  const isFloat = formatTag === WAVE_FORMAT_IEEE_FLOAT;
  for (let c = 0; c < channels; c++) {
    let p = dataOff + c * bytesPer;
    if (isFloat && bitsPerSample === 32) {
      for (let i = 0; i < frames; i++, p += blockAlign) acc[i]! += view.getFloat32(p, true);
    } else if (isFloat) {
      for (let i = 0; i < frames; i++, p += blockAlign) acc[i]! += view.getFloat64(p, true);
    } else if (bitsPerSample === 16) {
      for (let i = 0; i < frames; i++, p += blockAlign) acc[i]! += view.getInt16(p, true) / 32768;
    } else if (bitsPerSample === 24) {
      for (let i = 0; i < frames; i++, p += blockAlign) {
        const v = view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16);
        acc[i]! += v / 8388608;
      }
    } else if (bitsPerSample === 32) {
      for (let i = 0; i < frames; i++, p += blockAlign) acc[i]! += view.getInt32(p, true) / 2147483648;
    } else if (formatTag === WAVE_FORMAT_MULAW || formatTag === WAVE_FORMAT_ALAW) {
      const table = formatTag === WAVE_FORMAT_MULAW ? MULAW : ALAW;
      for (let i = 0; i < frames; i++, p += blockAlign) acc[i]! += table[view.getUint8(p)]! / 32768;
    } else {
      for (let i = 0; i < frames; i++, p += blockAlign) acc[i]! += (view.getUint8(p) - 128) / 128;
    }
  }
  if (channels > 1) for (let i = 0; i < frames; i++) out[i] = acc[i]! / channels;
  if (isFloat) {
    for (let i = 0; i < frames; i++) {
      if (!Number.isFinite(out[i]!)) {
        throw fail('non-finite', source, `sample ${i} is not a finite number (NaN or Infinity in a float WAV)`);
      }
    }
  }
  return out;
}

/** Sample encodings `encodeWav` can write. */
export type WavEncoding = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

export interface EncodeWavOptions {
  /** Sample encoding; default 'pcm16'. */
  encoding?: WavEncoding;
  /** Write a WAVE_FORMAT_EXTENSIBLE fmt chunk (40 bytes) instead of the plain one. */
  extensible?: boolean;
  /** Extra chunks written before `data` (e.g. LIST); each id is 4 ASCII characters. */
  extraChunks?: Array<{ id: string; data: Uint8Array }>;
}

const ENCODING_BITS: Record<WavEncoding, number> = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32, float64: 64 };

/**
 * Encodes samples as a WAV file. `channels` is one Float32Array per channel (all the same
 * length) or a single mono array. PCM values are scaled by 2^(bits-1), rounded and clamped, so
 * decoding gives round(x·2^(bits-1)) / 2^(bits-1) back exactly.
 */
export function encodeWav(
  channels: Float32Array | Float32Array[],
  sampleRate: number,
  { encoding = 'pcm16', extensible = false, extraChunks = [] }: EncodeWavOptions = {},
): Uint8Array {
  const chans = Array.isArray(channels) ? channels : [channels];
  const nCh = chans.length;
  if (nCh === 0) throw new SerError('audio/bad-header', 'encodeWav: no channels given');
  const frames = chans[0]!.length;
  const bits = ENCODING_BITS[encoding];
  const bytesPer = bits / 8;
  const blockAlign = bytesPer * nCh;
  const isFloat = encoding.startsWith('float');
  const fmtSize = extensible ? 40 : isFloat ? 18 : 16;
  let extraSize = 0;
  for (const c of extraChunks) extraSize += 8 + c.data.length + (c.data.length & 1);
  const dataSize = frames * blockAlign;
  const total = 12 + 8 + fmtSize + extraSize + 8 + dataSize + (dataSize & 1);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const put4 = (off: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[off + i] = s.charCodeAt(i);
  };
  put4(0, 'RIFF');
  view.setUint32(4, total - 8, true);
  put4(8, 'WAVE');
  put4(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  const tag = isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;
  view.setUint16(20, extensible ? WAVE_FORMAT_EXTENSIBLE : tag, true);
  view.setUint16(22, nCh, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bits, true);
  if (extensible) {
    view.setUint16(36, 22, true);
    view.setUint16(38, bits, true);
    view.setUint32(40, 0, true);
    view.setUint16(44, tag, true);
    out.set(GUID_TAIL, 46);
  } else if (fmtSize === 18) {
    view.setUint16(36, 0, true);
  }
  let off = 20 + fmtSize;
  for (const c of extraChunks) {
    put4(off, c.id);
    view.setUint32(off + 4, c.data.length, true);
    out.set(c.data, off + 8);
    off += 8 + c.data.length + (c.data.length & 1);
  }
  put4(off, 'data');
  view.setUint32(off + 4, dataSize, true);
  off += 8;
  const scale = 2 ** (bits - 1);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nCh; c++) {
      const x = chans[c]![i] ?? 0;
      if (encoding === 'float32') view.setFloat32(off, x, true);
      else if (encoding === 'float64') view.setFloat64(off, x, true);
      else {
        const q = Math.max(-scale, Math.min(scale - 1, Math.round(x * scale)));
        if (bits === 8) view.setUint8(off, q + 128);
        else if (bits === 16) view.setInt16(off, q, true);
        else if (bits === 24) {
          view.setUint8(off, q & 0xff);
          view.setUint8(off + 1, (q >> 8) & 0xff);
          view.setUint8(off + 2, (q >> 16) & 0xff);
        } else view.setInt32(off, q, true);
      }
      off += bytesPer;
    }
  }
  return out;
}
