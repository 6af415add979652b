/**
 * Node-only things inference needs from lower modules (reading files, model folders).
 *
 * Audio comes from src/audio/load.ts. `loadModelFolder` / `saveModelFolder` are TEMPORARY stand-ins
 * with the contract of src/model/io.ts, replaced by re-exports once that module lands.
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { SerError } from '../util/errors.js';
import type { InferMetadata, LoadedModel } from './deps.js';

export { decodeAudio, loadAudio } from '../audio/load.js';

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
