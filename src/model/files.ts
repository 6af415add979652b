/**
 * Browser-safe model-folder logic: turning a model into the three files (model.json, weights.bin,
 * metadata.json) and back, with every check made before the model is built. `io.ts` adds the Node
 * file system; `loadModelFromUrl` loads a folder served over HTTP (the browser app).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { SerError } from '../util/errors.js';
import './layers.js'; // registers the custom layers for deserialisation
import { completeMetadata, validateMetadata, type MetadataInput, type ModelMetadata } from './metadata.js';
import { sha256Hex } from '../util/hash.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const METADATA_JSON = 'metadata.json';

/** The bytes of a model folder. */
export interface ModelFiles {
  modelJson: string;
  weights: Uint8Array;
  metadataJson: string;
}

/** Serialises a model and its metadata into the three files (weights checksum recorded in metadata). */
export async function modelToFiles(model: tfl.LayersModel, metadata: MetadataInput): Promise<ModelFiles> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const art = artifacts as unknown as tf.io.ModelArtifacts;
  const data = art.weightData;
  const buffers = data === undefined ? [] : Array.isArray(data) ? data : [data];
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const weights = new Uint8Array(total);
  let o = 0;
  for (const b of buffers) {
    weights.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  const meta: ModelMetadata = completeMetadata(metadata);
  meta.weights = { file: WEIGHTS_BIN, bytes: weights.byteLength, sha256: await sha256Hex(weights) };
  const modelJson = JSON.stringify({
    format: 'layers-model',
    generatedBy: 'speech-emotion',
    convertedBy: null,
    modelTopology: art.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: art.weightSpecs }],
  });
  return { modelJson, weights, metadataJson: JSON.stringify(meta, null, 2) };
}

/** JSON.parse, with a damaged-model error naming the file. */
function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SerError('model/damaged', `${where}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Parses and checks metadata.json text. */
export function parseMetadata(text: string, where: string): ModelMetadata {
  const raw = parseJson(text, where);
  return validateMetadata(raw, where);
}

interface ParsedModelJson {
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightsFile: string;
}

/** Parses and checks model.json text. */
export function parseModelJson(text: string, where: string): ParsedModelJson {
  const raw = parseJson(text, where);
  const r = raw as { modelTopology?: unknown; weightsManifest?: Array<{ paths?: unknown; weights?: unknown }> };
  if (typeof r !== 'object' || r === null || typeof r.modelTopology !== 'object' || r.modelTopology === null || !Array.isArray(r.weightsManifest) || r.weightsManifest.length !== 1) {
    throw new SerError('model/damaged', `${where}: not a tfjs layers model (needs modelTopology and one weightsManifest group)`);
  }
  const group = r.weightsManifest[0];
  if (!Array.isArray(group.paths) || group.paths.length !== 1 || typeof group.paths[0] !== 'string' || !Array.isArray(group.weights)) {
    throw new SerError('model/damaged', `${where}: weightsManifest must list one weights file and its weights`);
  }
  return { modelTopology: r.modelTopology, weightSpecs: group.weights as tf.io.WeightsManifestEntry[], weightsFile: group.paths[0] as string };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** Checks the weights bytes against model.json (sizes) and metadata (size, checksum). */
export async function checkWeights(parsed: ParsedModelJson, meta: ModelMetadata, weights: Uint8Array, where: string): Promise<void> {
  let expected = 0;
  for (const w of parsed.weightSpecs) {
    const per = DTYPE_BYTES[w.dtype];
    if (!per || w.quantization) throw new SerError('model/incompatible', `${where}: weight ${w.name} has unsupported dtype/quantization`);
    expected += per * w.shape.reduce((a, b) => a * b, 1);
  }
  if (weights.byteLength !== expected) {
    throw new SerError('model/damaged', `${where}: ${parsed.weightsFile} has ${weights.byteLength} bytes, model.json needs ${expected}`);
  }
  if (meta.weights) {
    if (meta.weights.bytes !== weights.byteLength) {
      throw new SerError('model/damaged', `${where}: ${parsed.weightsFile} has ${weights.byteLength} bytes, metadata.json recorded ${meta.weights.bytes}`);
    }
    const sum = await sha256Hex(weights);
    if (sum !== meta.weights.sha256) throw new SerError('model/damaged', `${where}: ${parsed.weightsFile} checksum does not match metadata.json (file damaged or replaced)`);
  }
}

/** A loaded model folder. */
export interface LoadedModel {
  model: tfl.LayersModel;
  metadata: ModelMetadata;
}

/** Builds the model from checked files (all checks first; the model is built last). */
export async function modelFromFiles(files: ModelFiles, where: string): Promise<LoadedModel> {
  const metadata = parseMetadata(files.metadataJson, `${where}/${METADATA_JSON}`);
  const parsed = parseModelJson(files.modelJson, `${where}/${MODEL_JSON}`);
  await checkWeights(parsed, metadata, files.weights, where);
  const w = files.weights;
  const weightData = w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer;
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: parsed.modelTopology, weightSpecs: parsed.weightSpecs, weightData }));
  } catch (e) {
    throw new SerError('model/damaged', `${where}: the model could not be built (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const outUnits = model.outputs[0]?.shape[1];
  if (outUnits !== metadata.labels.length) {
    model.dispose();
    throw new SerError('model/incompatible', `${where}: the model has ${outUnits} outputs but metadata.json lists ${metadata.labels.length} labels`);
  }
  return { model, metadata };
}

/**
 * Loads a model folder served at `baseUrl` (e.g. '/models/default/'), in the browser or anywhere
 * `fetch` works. Same checks as loadModelFolder.
 */
export async function loadModelFromUrl(baseUrl: string, fetchFn: typeof fetch = globalThis.fetch.bind(globalThis)): Promise<LoadedModel> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const get = async (name: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetchFn(base + name);
    } catch (e) {
      throw new SerError('model/missing-file', `${base}${name}: could not be fetched (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
    if (!res.ok) throw new SerError('model/missing-file', `${base}${name}: HTTP ${res.status}`);
    return res;
  };
  const metadataJson = await (await get(METADATA_JSON)).text();
  const modelJson = await (await get(MODEL_JSON)).text();
  const parsed = parseModelJson(modelJson, `${base}${MODEL_JSON}`);
  const weights = new Uint8Array(await (await get(parsed.weightsFile)).arrayBuffer());
  return modelFromFiles({ modelJson, weights, metadataJson }, base.replace(/\/$/, ''));
}
