/** Loading the classifier in the browser: model files and metadata over HTTP, tfjs wasm backend. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ClassifierCore } from '../infer/core.js';
import { initBackend, type InferMetadata } from '../infer/deps.js';
import { SerError } from '../util/errors.js';

/**
 * Loads `<base>model.json` (+ weights) and `<base>metadata.json` with the wasm backend, whose
 * binaries are fetched from `wasmPath`. Returns the same ClassifierCore the CLI uses.
 */
export async function loadBrowserClassifier(base = '/model/', wasmPath = '/wasm/'): Promise<ClassifierCore> {
  const abs = (p: string) => new URL(p, new URL(base, location.href)).href;
  await initBackend('wasm', { wasmPath: new URL(wasmPath, location.href).href });
  const res = await fetch(abs('metadata.json'));
  if (!res.ok) throw new SerError('model/missing-file', `${abs('metadata.json')}: HTTP ${res.status}`);
  const metadata = (await res.json()) as InferMetadata;
  const model = await tfl.loadLayersModel(abs('model.json'));
  return new ClassifierCore(model, metadata);
}

/** The active tfjs backend name (for the status line). */
export function backendName(): string {
  return tf.getBackend();
}
