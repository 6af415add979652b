/**
 * Worker-thread body of `FeaturePool`: receives {id, path, params}, reads + decodes the file
 * (WAV/FLAC synchronously, other formats asynchronously) and posts back the spectrogram (its
 * buffer transferred) or an error message.
 */
import { parentPort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { decodeAudio } from '../audio/decode.js';
import { describeError, isSerError } from '../util/errors.js';
import { extractFeatures } from './pipeline.js';
import type { FeatureParams } from './params.js';

export interface FeatureTask { id: number; path: string; params: FeatureParams }
export type FeatureReply =
  | { id: number; ok: true; data: Float32Array; nMels: number; frames: number; seconds: number; decodeMs: number; featureMs: number }
  | { id: number; ok: false; code: string; message: string };

if (parentPort) {
  const port = parentPort;
  port.on('message', async (task: FeatureTask) => {
    try {
      const t0 = performance.now();
      const bytes = readFileSync(task.path);
      const audio = await decodeAudio(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), task.path);
      const t1 = performance.now();
      const spec = extractFeatures(audio, task.params);
      const t2 = performance.now();
      const reply: FeatureReply = { id: task.id, ok: true, data: spec.data, nMels: spec.nMels, frames: spec.frames, seconds: audio.samples.length / audio.sampleRate, decodeMs: t1 - t0, featureMs: t2 - t1 };
      port.postMessage(reply, [spec.data.buffer as ArrayBuffer]);
    } catch (e) {
      const reply: FeatureReply = { id: task.id, ok: false, code: isSerError(e) ? e.code : 'features/worker-error', message: describeError(e) };
      port.postMessage(reply);
    }
  });
}
