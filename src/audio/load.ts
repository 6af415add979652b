/**
 * Loading audio files from disk: `loadAudio(path)` reads the file and decodes it (any supported
 * format, sniffed from the bytes). The in-memory decoders are in decode.ts.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { SerError } from '../util/errors.js';
import type { AudioData } from './types.js';

import { decodeAudio, decodeAudioSync } from './decode.js';

/** File extensions (lower case, no dot) taken for audio when a folder is scanned (the bytes decide the format). */
export const AUDIO_EXTENSIONS: readonly string[] = ['wav', 'wave', 'flac', 'mp3', 'ogg', 'oga', 'opus', 'm4a', 'aac', 'aif', 'aiff', 'webm'];

/** Whether a file name has one of `AUDIO_EXTENSIONS` (any case). */
export function isAudioFileName(name: string): boolean {
  return AUDIO_EXTENSIONS.includes(extname(name).slice(1).toLowerCase());
}

/** Reads a file's bytes, turning file-system failures into `SerError`s naming the path. */
export async function readAudioBytes(path: string): Promise<Uint8Array> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SerError('audio/not-found', `${path}: no such file`, { cause: e });
    }
    throw new SerError('audio/unreadable', `${path}: cannot read file (${(e as Error).message})`, { cause: e });
  }
  if (info.isDirectory()) throw new SerError('audio/is-directory', `${path}: is a directory, not an audio file`);
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new SerError('audio/unreadable', `${path}: cannot read file (${(e as Error).message})`, { cause: e });
  }
}

/**
 * Loads and decodes an audio file to mono float32 `AudioData` (`source` = the path). Throws
 * `SerError` `audio/not-found|is-directory|unreadable|empty|…` naming the path.
 */
export async function loadAudio(path: string): Promise<AudioData> {
  return decodeAudio(await readAudioBytes(path), path);
}

/** Synchronous-decode variant of `loadAudio` for WAV/FLAC (reads the file asynchronously). */
export async function loadAudioFast(path: string): Promise<AudioData> {
  return decodeAudioSync(await readAudioBytes(path), path);
}
