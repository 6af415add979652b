/** Loading the classifier in the browser: model files and metadata over HTTP, tfjs wasm backend. */
import * as tf from '@tensorflow/tfjs-core';
import { ClassifierCore } from '../infer/core.js';
import { initBackend } from '../model/backend.js';
import { loadModelFromUrl } from '../model/files.js';

/**
 * Loads `<base>model.json` (+ weights) and `<base>metadata.json` (checked like on disk) with the wasm backend, whose
 * binaries are fetched from `wasmPath`. Returns the same ClassifierCore the CLI uses.
 */
export async function loadBrowserClassifier(base = '/model/', wasmPath = '/wasm/'): Promise<ClassifierCore> {
  const abs = (p: string) => new URL(p, new URL(base, location.href)).href;
  await initBackend('wasm', { wasmPath: new URL(wasmPath, location.href).href });
  const { model, metadata } = await loadModelFromUrl(abs('./'));
  return new ClassifierCore(model, metadata);
}

/** The active tfjs backend name (for the status line). */
export function backendName(): string {
  return tf.getBackend();
}
