/**
 * Audio loading for the data module. Uses the project's `loadAudio` (src/audio/load.ts) when it
 * is present; until then a private fallback: WAV and FLAC by the project's own decoders, other
 * formats through audio-decode. Errors are SerError `audio/<reason>` naming the file.
 */
import { readFile } from 'node:fs/promises';
import type { AudioData } from '../audio/types.js';
import { decodeWav, isWav } from '../audio/wav.js';
import { decodeFlac, isFlac } from '../audio/flac.js';
import { SerError, isSerError } from '../util/errors.js';

type Loader = (path: string) => Promise<AudioData>;
let cached: Loader | null = null;

async function fallbackLoad(path: string): Promise<AudioData> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new SerError('audio/unreadable', `${path}: cannot read file (${(e as Error).message})`, { cause: e });
  }
  if (bytes.length === 0) throw new SerError('audio/empty', `${path}: the file is empty (0 bytes)`);
  if (isWav(bytes) || /\.wave?$/i.test(path)) return decodeWav(bytes, path);
  if (isFlac(bytes)) return decodeFlac(bytes, path);
  try {
    const mod = (await import('audio-decode')) as unknown as { default: (b: Uint8Array) => Promise<{ numberOfChannels: number; sampleRate: number; length: number; getChannelData(c: number): Float32Array }> };
    const buf = await mod.default(bytes);
    const samples = new Float32Array(buf.length);
    for (let c = 0; c < buf.numberOfChannels; c++) {
      const ch = buf.getChannelData(c);
      for (let i = 0; i < samples.length; i++) samples[i] = (samples[i] as number) + (ch[i] as number) / buf.numberOfChannels;
    }
    return { samples, sampleRate: buf.sampleRate, channels: buf.numberOfChannels, source: path };
  } catch (e) {
    if (isSerError(e)) throw e;
    throw new SerError('audio/undecodable', `${path}: cannot decode audio (${(e as Error).message})`, { cause: e });
  }
}

/** Decodes an audio file to mono `AudioData` (see module doc). */
export async function loadAudioFile(path: string): Promise<AudioData> {
  if (!cached) {
    try {
      const spec = '../audio/load.js';
      const mod = (await import(spec)) as { loadAudio?: Loader };
      cached = typeof mod.loadAudio === 'function' ? mod.loadAudio : fallbackLoad;
    } catch {
      cached = fallbackLoad;
    }
  }
  return cached(path);
}
