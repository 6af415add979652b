/**
 * Format sniffing and in-memory decoding of any supported format (browser-safe: no node: imports).
 * WAV and FLAC go through the project's own decoders (synchronous, fast); every other format
 * (MP3, OGG Vorbis/Opus, M4A/AAC, AIFF, WebM, CAF, AMR, WMA, …) through `audio-decode`, loaded lazily.
 */
import { SerError, isSerError } from '../util/errors.js';
import type { AudioData } from './types.js';
import { decodeWav, isWav } from './wav.js';
import { decodeFlac, isFlac } from './flac.js';

/** Container/codec families `sniffFormat` recognises. */
export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'aac' | 'ogg' | 'mp4' | 'aiff' | 'webm' | 'caf' | 'amr' | 'wma' | 'qoa';

function ascii(b: Uint8Array, off: number, s: string): boolean {
  if (b.length < off + s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[off + i] !== s.charCodeAt(i)) return false;
  return true;
}

function id3Length(b: Uint8Array): number {
  if (b.length >= 10 && ascii(b, 0, 'ID3')) {
    const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
    return 10 + size + (b[5]! & 0x10 ? 10 : 0);
  }
  return 0;
}

/** Identifies the audio format from magic bytes (never from a file name); null when unknown. */
export function sniffFormat(bytes: Uint8Array): AudioFormat | null {
  if (isWav(bytes)) return 'wav';
  if (isFlac(bytes)) return 'flac';
  if (ascii(bytes, 0, 'OggS')) return 'ogg';
  if (ascii(bytes, 4, 'ftyp')) return 'mp4';
  if (ascii(bytes, 0, 'FORM') && (ascii(bytes, 8, 'AIFF') || ascii(bytes, 8, 'AIFC'))) return 'aiff';
  if (bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  if (ascii(bytes, 0, 'caff')) return 'caf';
  if (ascii(bytes, 0, '#!AMR')) return 'amr';
  if (ascii(bytes, 0, 'qoaf')) return 'qoa';
  if (bytes.length >= 4 && bytes[0] === 0x30 && bytes[1] === 0x26 && bytes[2] === 0xb2 && bytes[3] === 0x75) return 'wma';
  const off = id3Length(bytes);
  if (bytes.length >= off + 2 && bytes[off] === 0xff) {
    const b1 = bytes[off + 1]!;
    if ((b1 & 0xf6) === 0xf0) return 'aac'; // ADTS: sync 0xFFF, layer 00
    if ((b1 & 0xe0) === 0xe0 && (b1 & 0x06) !== 0) return 'mp3'; // MPEG audio frame sync, layer I–III
  }
  if (off > 0) return 'mp3'; // an ID3v2 tag almost always fronts MP3
  return null;
}

/**
 * Decodes WAV or FLAC bytes synchronously (for hot loops and workers). Other known formats
 * throw `audio/unsupported-encoding` (use `decodeAudio`); unknown bytes throw `audio/not-audio`.
 */
export function decodeAudioSync(bytes: Uint8Array, source: string): AudioData {
  if (bytes.length === 0) throw new SerError('audio/empty', `${source}: the file is empty (0 bytes)`);
  const fmt = sniffFormat(bytes);
  if (fmt === 'wav') return decodeWav(bytes, source);
  if (fmt === 'flac') return decodeFlac(bytes, source);
  if (fmt === null) return decodeWav(bytes, source); // gives the precise not-audio/truncated error
  throw new SerError(
    'audio/unsupported-encoding',
    `${source}: ${fmt.toUpperCase()} needs the asynchronous decoder (decodeAudio); only WAV and FLAC decode synchronously`,
  );
}

interface ExternalDecoded {
  channelData: Float32Array[];
  sampleRate: number;
}
type ExternalDecoder = (bytes: Uint8Array) => Promise<ExternalDecoded>;
let external: Promise<ExternalDecoder> | null = null;

function loadExternal(): Promise<ExternalDecoder> {
  external ??= import('audio-decode').then((m) => (m as unknown as { default: ExternalDecoder }).default);
  return external;
}

/**
 * Decodes any supported format held in memory to mono float32 `AudioData` (mean of the
 * channels). `source` names the file in errors. Throws `SerError` `audio/<reason>`.
 */
export async function decodeAudio(bytes: Uint8Array, source: string): Promise<AudioData> {
  if (bytes.length === 0) throw new SerError('audio/empty', `${source}: the file is empty (0 bytes)`);
  const fmt = sniffFormat(bytes);
  if (fmt === 'wav' || fmt === 'flac' || fmt === null) return decodeAudioSync(bytes, source);
  let decoded: ExternalDecoded;
  try {
    const decode = await loadExternal();
    // audio-decode may keep a view on the input: hand it a private copy (Buffer#slice would not copy).
    decoded = await decode(new Uint8Array(bytes));
  } catch (e) {
    if (isSerError(e)) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    if (/unknown audio format/i.test(msg)) {
      throw new SerError('audio/not-audio', `${source}: not a recognised audio format`, { cause: e });
    }
    throw new SerError('audio/unreadable', `${source}: cannot decode ${fmt.toUpperCase()} audio (${msg})`, { cause: e });
  }
  const chans = decoded?.channelData ?? [];
  const nCh = chans.length;
  const n = nCh > 0 ? Math.min(...chans.map((c) => c.length)) : 0;
  // audio-decode returns an empty buffer (no throw) for a broken or header-only file.
  if (nCh === 0 || n === 0 || !(decoded.sampleRate > 0)) {
    throw new SerError('audio/no-data', `${source}: no audio could be decoded from this ${fmt.toUpperCase()} file (broken or header-only?)`);
  }
  const samples = new Float32Array(n);
  if (nCh === 1) samples.set(chans[0]!.subarray(0, n));
  else {
    const inv = 1 / nCh;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < nCh; c++) s += chans[c]![i]!;
      samples[i] = s * inv;
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(samples[i]!)) {
      throw new SerError('audio/non-finite', `${source}: decoded sample ${i} is not a finite number`);
    }
  }
  return { samples, sampleRate: decoded.sampleRate, channels: nCh, source };
}
