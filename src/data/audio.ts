/**
 * Audio loading for the data module: the project's `loadAudio` (src/audio/load.ts) — WAV and
 * FLAC by the project's own decoders, other formats through audio-decode. Errors are SerError
 * `audio/<reason>` naming the file. Kept as a separate name so callers of the data module
 * (probe, explore, training datasets) share one loader.
 */
import type { AudioData } from '../audio/types.js';
import { loadAudio } from '../audio/load.js';

/** Decodes an audio file to mono `AudioData` (see `loadAudio`). */
export async function loadAudioFile(path: string): Promise<AudioData> {
  return loadAudio(path);
}
