/**
 * Model folders on disk (Node): `saveModelFolder` writes model.json + weights.bin + metadata.json
 * into a temporary folder and renames it into place; `loadModelFolder` checks everything (metadata,
 * weights size and checksum) before building the model. Browser: `loadModelFromUrl` (files.ts).
 */
import { mkdtemp, readFile, rename, rm, stat, writeFile, mkdir, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { SerError } from '../util/errors.js';
import { METADATA_JSON, MODEL_JSON, WEIGHTS_BIN, modelFromFiles, modelToFiles, parseModelJson, type LoadedModel } from './files.js';
import type { MetadataInput, ModelMetadata } from './metadata.js';

/**
 * Writes a model folder atomically: the files go to a temporary sibling folder first. If `dir` does
 * not exist the folder is renamed into place in one step; if it exists (e.g. a training output folder
 * with logs) each file is renamed over its old version, metadata.json last — an interrupted save is
 * then caught at load time by the weights checksum. Returns the written metadata.
 */
export async function saveModelFolder(dir: string, model: tfl.LayersModel, metadata: MetadataInput): Promise<ModelMetadata> {
  const target = resolve(dir);
  const files = await modelToFiles(model, metadata);
  await mkdir(dirname(target), { recursive: true });
  const tmp = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`));
  try {
    await writeFile(join(tmp, WEIGHTS_BIN), files.weights);
    await writeFile(join(tmp, MODEL_JSON), files.modelJson);
    await writeFile(join(tmp, METADATA_JSON), files.metadataJson);
    let exists = false;
    try {
      exists = (await stat(target)).isDirectory();
    } catch {
      exists = false;
    }
    if (!exists) {
      await rename(tmp, target);
    } else {
      for (const f of [WEIGHTS_BIN, MODEL_JSON, METADATA_JSON]) await rename(join(tmp, f), join(target, f));
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new SerError('model/save-failed', `could not save the model folder ${target}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return JSON.parse(files.metadataJson) as ModelMetadata;
}

async function readOrThrow(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SerError('model/missing-file', `${path}: missing (${what})`);
    throw new SerError('model/missing-file', `${path}: cannot be read (${code ?? String(e)})`, { cause: e });
  }
}

/** Loads and checks a model folder; refuses a missing, damaged or incompatible one with a SerError. */
export async function loadModelFolder(dir: string): Promise<LoadedModel> {
  const root = resolve(dir);
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    throw new SerError('model/missing-file', `${root}: model folder not found`);
  }
  if (!entries.includes(METADATA_JSON)) throw new SerError('model/missing-file', `${join(root, METADATA_JSON)}: missing (every model folder has one)`);
  const metadataJson = (await readOrThrow(join(root, METADATA_JSON), 'the model metadata')).toString('utf8');
  const modelJson = (await readOrThrow(join(root, MODEL_JSON), 'the tfjs model topology')).toString('utf8');
  const parsed = parseModelJson(modelJson, join(root, MODEL_JSON));
  if (basename(parsed.weightsFile) !== parsed.weightsFile) {
    throw new SerError('model/damaged', `${join(root, MODEL_JSON)}: weights path '${parsed.weightsFile}' must be a file name inside the folder`);
  }
  const weights = await readOrThrow(join(root, parsed.weightsFile), 'the weights');
  return modelFromFiles({ modelJson, weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength), metadataJson }, root);
}
