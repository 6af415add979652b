/** Test helpers shared by test/infer, test/server and test/web: a tiny random model folder and WAV writing. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../../src/model/architectures.js';
import { featureParams } from '../../src/features/params.js';
import { EMOTIONS } from '../../src/util/labels.js';
import { saveModelFolder } from '../../src/model/io.js';
import { ensureBackend } from '../../src/infer/classifier.js';

/** Builds and saves a tiny randomly initialised cnn3 (channels 4/8/8, masked variable length); returns the folder. */
export async function makeTinyModelFolder(dir = mkdtempSync(join(tmpdir(), 'ser-model-'))): Promise<string> {
  await ensureBackend();
  const model = buildModel('cnn3', { channels: [4, 8, 8] }, 7);
  await saveModelFolder(dir, model, {
    formatVersion: 1,
    labels: [...EMOTIONS],
    featureParams: featureParams(),
    arch: 'cnn3',
    archOptions: { channels: [4, 8, 8] },
    metrics: { note: 'random weights, for tests' },
  });
  model.dispose();
  return dir;
}

/** A 16-bit PCM mono WAV of `samples`. */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + samples.length * 2, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 44 + 2 * i);
  return new Uint8Array(buf);
}

/** A deterministic voiced-like test signal: harmonics of a gliding pitch with a syllable envelope. */
export function speechLike(seconds: number, sampleRate = 16000, seed = 1): Float32Array {
  const n = Math.round(seconds * sampleRate);
  const y = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t + seed);
    phase += (2 * Math.PI * f0) / sampleRate;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t + seed);
    let s = 0;
    for (let h = 1; h <= 6; h++) s += Math.sin(h * phase) / h;
    y[i] = 0.3 * env * s;
  }
  return y;
}

/** Writes a WAV file into `dir` and returns its path. */
export function writeWav(dir: string, name: string, samples: Float32Array, sampleRate = 16000): string {
  const p = join(dir, name);
  writeFileSync(p, encodeWav16(samples, sampleRate));
  return p;
}
