/**
 * The packed-features file: every spectrogram of a corpus in one checksummed file (the checkpoint
 * format of train/checkpoint.ts), written once by the parent and read once per child job instead of
 * hundreds of feature-cache entries.
 */
import type { Spectrogram } from '../features/types.js';
import type { FeatureItem } from '../train/dataset.js';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.js';
import { SerError } from '../util/errors.js';

/** Writes every item's spectrogram into one file (read once per child job instead of 500 cache entries). */
export async function writePackedFeatures(path: string, items: readonly FeatureItem[]): Promise<void> {
  await saveCheckpoint(path, { paths: items.map((i) => i.path), nMels: items.map((i) => i.spec.nMels), data: items.map((i) => i.spec.data) });
}

const packedCache = new Map<string, Map<string, Spectrogram>>();
/** Reads a file written by `writePackedFeatures` (memoised per process). */
export async function readPackedFeatures(path: string): Promise<Map<string, Spectrogram>> {
  const hit = packedCache.get(path);
  if (hit) return hit;
  const v = (await loadCheckpoint(path)) as { paths: string[]; nMels: number[]; data: Float32Array[] } | null;
  if (!v) throw new SerError('eval/features-missing', `${path}: packed features file is missing`);
  const m = new Map<string, Spectrogram>();
  v.paths.forEach((p, i) => {
    const data = v.data[i] as Float32Array;
    const nMels = v.nMels[i] as number;
    m.set(p, { data, nMels, frames: data.length / nMels });
  });
  packedCache.set(path, m);
  return m;
}
