/**
 * What happens to a spectrogram between the feature cache (and data/augment's ops) and the
 * network: per-utterance normalisation, resizing to a fixed frame count, soft targets. Pure functions.
 */
import type { Spectrogram } from '../features/types.js';
import { normalizeSpectrogram } from '../features/normalize.js';
import { interpolateTime, padTime } from '../features/reshape.js';
import type { Normalization } from './recipes.js';

/** (S − mean) / std over the whole spectrogram (the study); a constant input becomes all zeros. */
export { standardizeUtterance, standardizeBands } from '../features/normalize.js';

/** Applies a recipe's normalisation. */
export function normalize(s: Spectrogram, mode: Normalization): Spectrogram {
  return normalizeSpectrogram(s, mode);
}

/** The study's resize to a fixed frame count: zero-pad when shorter, interpolate along time when longer. */
export function resizeFrames(s: Spectrogram, frames = 256): Spectrogram {
  return s.frames <= frames ? padTime(s, frames) : interpolateTime(s, frames);
}

/** Soft targets (b × k, row-major): one-hot with label smoothing eps (eps/k everywhere, 1 − eps + eps/k on the label). */
export function softTargets(labels: readonly number[], k: number, smoothing = 0): Float32Array {
  const t = new Float32Array(labels.length * k).fill(smoothing / k);
  for (let i = 0; i < labels.length; i++) t[i * k + (labels[i] as number)] = 1 - smoothing + smoothing / k;
  return t;
}
