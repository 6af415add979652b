/**
 * Per-utterance normalisation of a feature matrix — applied the same way in training (src/train) and
 * inference (src/infer, also in the browser), so it lives here, below both.
 *
 * 'utterance' = (S − mean) / std over the whole spectrogram (the study's per-sample standardisation);
 * 'utterance-band' = the same per mel band over time; 'none' = unchanged. A (near-)constant block maps to 0.
 */
import type { Spectrogram } from './types.js';

export type Normalization = 'utterance' | 'utterance-band' | 'none';

function standardizeBlocks(s: Spectrogram, blocks: number, eps: number): Spectrogram {
  const out = new Float32Array(s.data.length);
  const len = blocks ? s.data.length / blocks : 0;
  for (let b = 0; b < blocks; b++) {
    const o = b * len;
    let sum = 0;
    for (let i = 0; i < len; i++) sum += s.data[o + i]!;
    const mean = len ? sum / len : 0;
    let v = 0;
    for (let i = 0; i < len; i++) v += (s.data[o + i]! - mean) ** 2;
    const std = len ? Math.sqrt(v / len) : 0;
    const inv = std > eps ? 1 / std : 0;
    for (let i = 0; i < len; i++) out[o + i] = (s.data[o + i]! - mean) * inv;
  }
  return { data: out, nMels: s.nMels, frames: s.frames };
}

/** (S − mean) / std over the whole spectrogram (population std), as a new spectrogram. */
export function standardizeUtterance(s: Spectrogram, eps = 1e-8): Spectrogram {
  return standardizeBlocks(s, 1, eps);
}

/** Per mel band (row) mean / variance normalisation over time. */
export function standardizeBands(s: Spectrogram, eps = 1e-8): Spectrogram {
  return standardizeBlocks(s, s.nMels, eps);
}

/** Applies a normalisation mode (recipes and model metadata name it). */
export function normalizeSpectrogram(s: Spectrogram, mode: Normalization = 'utterance', eps = 1e-8): Spectrogram {
  if (mode === 'utterance') return standardizeUtterance(s, eps);
  if (mode === 'utterance-band') return standardizeBands(s, eps);
  return s;
}
