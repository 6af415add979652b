/**
 * What inference needs from the modules below it (audio, features, model), in one place.
 * Browser-safe: no node: imports here (the web bundle uses this file).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { AudioData } from '../audio/types.js';
import { decodeWav, isWav } from '../audio/wav.js';
import { decodeFlac, isFlac } from '../audio/flac.js';
import { isSilent } from '../audio/normalize.js';
import { extractFeatures } from '../features/pipeline.js';
import type { FeatureParams } from '../features/params.js';
import type { Spectrogram } from '../features/types.js';
import { ARCH_NAMES, makeBatch, type ArchOptions } from '../model/architectures.js';
import '../model/layers.js'; // registers the custom layers so saved models deserialize
import { initBackend } from '../model/backend.js';
import { SerError } from '../util/errors.js';

export { extractFeatures, isSilent, initBackend };

/** How training normalised each spectrogram (metadata.normalization; default the study's per-utterance). */
export { normalizeSpectrogram, type Normalization } from '../features/normalize.js';
import type { Normalization } from '../features/normalize.js';

/** The part of a model folder's metadata.json inference reads. */
export interface InferMetadata {
  labels: string[];
  featureParams: FeatureParams;
  arch?: string;
  archOptions?: ArchOptions;
  normalization?: Normalization;
  [key: string]: unknown;
}

/** A loaded model folder. */
export interface LoadedModel {
  model: LayersModel;
  metadata: InferMetadata;
}

/**
 * Decodes WAV or FLAC bytes (the project's plain-TS decoders, so Node and the browser read files
 * identically) into mono AudioData. Other formats: SerError `audio/unsupported-encoding`.
 */
export async function decodeAudioBrowserSafe(bytes: Uint8Array, source: string): Promise<AudioData> {
  if (bytes.length === 0) throw new SerError('audio/empty', `${source}: the file is empty`);
  if (isWav(bytes)) return decodeWav(bytes, source);
  if (isFlac(bytes)) return decodeFlac(bytes, source);
  throw new SerError('audio/not-audio', `${source}: not a WAV or FLAC file`);
}

// ---------------------------------------------------------------------------------------------
// model input

/**
 * The model's input tensors for one normalised spectrogram. Models of the project's architectures
 * (metadata.arch) get exactly what training fed them, via `makeBatch` (masked padding to the pooling
 * factor, or the fixed 256-frame resize). Any other tfjs layers model: `[1, rows, T, 1]`,
 * padded/cropped to its fixed frame count if it has one, plus a `[1, T]` mask if it takes two inputs.
 */
export function makeModelInput(model: LayersModel, spec: Spectrogram, metadata?: InferMetadata): tf.Tensor | tf.Tensor[] {
  if (metadata?.arch && (ARCH_NAMES as readonly string[]).includes(metadata.arch) && model.inputs.length === 2) {
    const { x, mask } = makeBatch([spec], metadata.arch, metadata.archOptions ?? {});
    return [x, mask];
  }
  const shape = model.inputs[0].shape;
  const fixedT = typeof shape[2] === 'number' ? (shape[2] as number) : null;
  const T = fixedT ?? spec.frames;
  const data = new Float32Array(spec.nMels * T);
  const n = Math.min(T, spec.frames);
  for (let r = 0; r < spec.nMels; r++) data.set(spec.data.subarray(r * spec.frames, r * spec.frames + n), r * T);
  const x = tf.tensor4d(data, [1, spec.nMels, T, 1]);
  if (model.inputs.length < 2) return x;
  const mask = new Float32Array(T);
  mask.fill(1, 0, n);
  return [x, tf.tensor2d(mask, [1, T])];
}

/**
 * True when the model's outputs are already probabilities: its last layer ends in a softmax, or
 * averages softmax outputs (a `ser-mlp` ensemble); else its outputs are logits.
 */
export function endsInSoftmax(model: LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  const isSoftmax = (l: typeof last) => (l?.getConfig() as { activation?: string } | undefined)?.activation === 'softmax';
  if (isSoftmax(last)) return true;
  if (last?.getClassName() !== 'Average') return false;
  const inbound = last.inboundNodes.flatMap((n) => n.inboundLayers);
  return inbound.length > 0 && inbound.every(isSoftmax);
}
