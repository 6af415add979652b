/**
 * From a corpus scan to training data: features for every item (through an on-disk cache keyed
 * by the feature parameters and the file's path, size and mtime), unreadable files reported and
 * left out, string labels mapped to indices in a fixed (alphabetical) order.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CorpusItem } from '../data/corpus.js';
import { loadAudioFile } from '../data/audio.js';
import { extractFeatures, featureKey } from '../features/pipeline.js';
import type { FeatureParams } from '../features/params.js';
import type { Spectrogram } from '../features/types.js';
import { describeError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { EMOTIONS } from '../util/labels.js';
import { createProgress } from '../util/progress.js';
import type { LabeledSpecs } from './loop.js';

/** A corpus item with its features. */
export interface FeatureItem extends CorpusItem {
  spec: Spectrogram;
}

/** A file that could not be turned into features. */
export interface FeatureFailure {
  path: string;
  message: string;
}

/** Default feature cache folder: $SER_CACHE_DIR, else `.ser-cache/features` in the working folder. */
export function defaultCacheDir(): string {
  return resolve(process.env.SER_CACHE_DIR ?? join('.ser-cache', 'features'));
}

function sha1(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}

function cachePath(cacheDir: string, path: string, params: FeatureParams): string {
  const st = statSync(path);
  return join(cacheDir, sha1(featureKey(params)).slice(0, 16), `${sha1(`${resolve(path)}|${st.size}|${st.mtimeMs}`)}.f32`);
}

function encodeSpec(s: Spectrogram): Uint8Array {
  const out = new Uint8Array(8 + s.data.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, s.nMels, true);
  dv.setUint32(4, s.frames, true);
  out.set(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength), 8);
  return out;
}

function decodeSpec(b: Uint8Array): Spectrogram | null {
  if (b.length < 8) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const nMels = dv.getUint32(0, true);
  const frames = dv.getUint32(4, true);
  if (b.length !== 8 + nMels * frames * 4) return null;
  const data = new Float32Array(nMels * frames);
  new Uint8Array(data.buffer).set(b.subarray(8));
  return { data, nMels, frames };
}

/** Features of one file, from the cache when present (computed and stored otherwise). null cacheDir: no cache. */
export async function featuresOf(path: string, params: FeatureParams, cacheDir: string | null = defaultCacheDir()): Promise<Spectrogram> {
  const cp = cacheDir ? cachePath(cacheDir, path, params) : null;
  if (cp && existsSync(cp)) {
    const s = decodeSpec(new Uint8Array(await readFile(cp)));
    if (s) return s;
  }
  const spec = extractFeatures(await loadAudioFile(path), params);
  if (cp) await writeFileAtomic(cp, encodeSpec(spec));
  return spec;
}

export interface LoadFeaturesOptions {
  cacheDir?: string | null;
  /** Progress bar on stderr (default true). */
  progress?: boolean;
  label?: string;
}

/** Features for every item; files that fail (unreadable, too short, ...) are returned in `failed`, not thrown. */
export async function loadFeatures<T extends CorpusItem>(
  items: readonly T[],
  params: FeatureParams,
  opts: LoadFeaturesOptions = {},
): Promise<{ items: Array<T & { spec: Spectrogram }>; failed: FeatureFailure[] }> {
  const cacheDir = opts.cacheDir === undefined ? defaultCacheDir() : opts.cacheDir;
  const bar = createProgress({ total: items.length, label: opts.label ?? 'features', unit: 'files', enabled: opts.progress !== false });
  const ok: Array<T & { spec: Spectrogram }> = [];
  const failed: FeatureFailure[] = [];
  for (const it of items) {
    try {
      ok.push({ ...it, spec: await featuresOf(it.path, params, cacheDir) });
    } catch (e) {
      failed.push({ path: it.path, message: describeError(e) });
    }
    bar.tick();
  }
  bar.finish();
  return { items: ok, failed };
}

/** Label names in index order: the five emotions in the study's order when they cover the data, else sorted. */
export function labelNamesOf(items: readonly { label: string }[]): string[] {
  const set = new Set(items.map((i) => i.label));
  if ([...set].every((l) => (EMOTIONS as readonly string[]).includes(l))) return [...EMOTIONS];
  return [...set].sort();
}

/** Labelled spectrograms with labels as indices into `labelNames`; ids are the file paths. */
export function toLabeledSpecs(items: readonly FeatureItem[], labelNames: readonly string[]): LabeledSpecs {
  const index = new Map(labelNames.map((l, i) => [l, i]));
  return {
    specs: items.map((i) => i.spec),
    labels: items.map((i) => {
      const k = index.get(i.label);
      if (k === undefined) throw new Error(`${i.path}: label '${i.label}' is not one of ${labelNames.join(', ')}`);
      return k;
    }),
    ids: items.map((i) => i.path),
  };
}
