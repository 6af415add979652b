/**
 * Node-only things inference needs from lower modules (reading files, model folders).
 *
 * TEMPORARY stand-ins with the contracts of src/audio/load.ts (`loadAudio`) and src/model/io.ts
 * (`loadModelFolder`, `saveModelFolder`); replaced by re-exports once those modules land.
 */
import { readFile, stat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { AudioData } from '../audio/types.js';
import { SerError } from '../util/errors.js';
import { decodeAudioBrowserSafe, type InferMetadata, type LoadedModel } from './deps.js';

/**
 * Decodes any supported audio bytes: WAV/FLAC with the project's decoders, other formats through
 * `audio-decode` (stand-in for src/audio/load.ts `decodeAudio` until it lands).
 */
export async function decodeAudio(bytes: Uint8Array, source: string): Promise<AudioData> {
  try {
    return await decodeAudioBrowserSafe(bytes, source);
  } catch (e) {
    if (!(e instanceof SerError) || e.code !== 'audio/not-audio') throw e;
  }
  let buf: { numberOfChannels: number; sampleRate: number; length: number; getChannelData(c: number): Float32Array } | undefined;
  try {
    const mod = (await import('audio-decode')) as unknown as { default: (b: Uint8Array) => Promise<typeof buf> };
    buf = await mod.default(bytes);
  } catch {
    buf = undefined;
  }
  if (!buf || !buf.length || !buf.sampleRate) throw new SerError('audio/not-audio', `${source}: not a recognised audio file`);
  const out = new Float32Array(buf.length);
  for (let c = 0; c < buf.numberOfChannels; c++) {
    const d = buf.getChannelData(c);
    for (let i = 0; i < out.length; i++) out[i] += d[i] / buf.numberOfChannels;
  }
  return { samples: out, sampleRate: buf.sampleRate, channels: buf.numberOfChannels, source };
}

/** Reads and decodes an audio file; SerError naming the path when missing / a directory / unreadable. */
export async function loadAudio(path: string): Promise<AudioData> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new SerError('audio/missing', `${path}: no such file`);
  }
  if (st.isDirectory()) throw new SerError('audio/is-directory', `${path}: is a directory, not an audio file`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new SerError('audio/unreadable', `${path}: cannot be read (${(e as Error).message})`);
  }
  return decodeAudio(bytes, path);
}

/** Loads a model folder (model.json + weights + metadata.json). */
export async function loadModelFolder(dir: string): Promise<LoadedModel> {
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(join(dir, name));
    } catch {
      throw new SerError('model/missing-file', `${join(dir, name)}: missing (is ${dir} a model folder?)`);
    }
  };
  let modelJson: any;
  let metadata: InferMetadata;
  try {
    modelJson = JSON.parse((await read('model.json')).toString('utf8'));
    metadata = JSON.parse((await read('metadata.json')).toString('utf8'));
  } catch (e) {
    if (e instanceof SerError) throw e;
    throw new SerError('model/damaged', `${dir}: model.json or metadata.json is not valid JSON`);
  }
  if (!Array.isArray(metadata.labels) || !metadata.featureParams) {
    throw new SerError('model/incompatible', `${dir}/metadata.json: needs "labels" and "featureParams"`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest ?? []) {
    specs.push(...group.weights);
    for (const p of group.paths) parts.push(new Uint8Array(await read(p)));
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    weightData.set(p, off);
    off += p.length;
  }
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: weightData.buffer }),
  );
  return { model, metadata };
}

/** Saves a model folder (model.json + weights.bin + metadata.json). */
export async function saveModelFolder(dir: string, model: tfl.LayersModel, metadata: InferMetadata): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (art) => {
      const data = art.weightData as ArrayBuffer;
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(data));
      const json = {
        format: 'layers-model',
        modelTopology: art.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }],
      };
      await writeFile(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
}
