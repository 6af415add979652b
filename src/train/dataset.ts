/**
 * From a corpus scan to training data: features for every item (through an on-disk cache keyed
 * by the feature parameters and the file's path, size and mtime), unreadable files reported and
 * left out, string labels mapped to indices in a fixed (alphabetical) order.
 */
import { join, resolve } from 'node:path';
import type { CorpusItem } from '../data/corpus.js';
import { extractFeatures, featureKey, utteranceFeatures, utteranceInputs, type UtteranceInputs } from '../features/pipeline.js';
import { FeatureCache, cacheKey } from '../features/cache.js';
import { sha256Hex } from '../util/hash.js';
import { sourceDigest } from '../util/fs.js';
import { decodeAudio } from '../audio/decode.js';
import { loadAudio, readAudioBytes } from '../audio/load.js';
import { applyChannel, pitchShift } from '../data/augment.js';
import { resample } from '../audio/resample.js';
import type { AudioData } from '../audio/types.js';
import { createRng } from '../util/rng.js';
import type { PitchShiftSource } from './loop.js';
import type { FeatureParams } from '../features/params.js';
import type { Spectrogram } from '../features/types.js';
import { describeError } from '../util/errors.js';
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

/** Digest of the augmentation code (data/augment.ts): part of the cache key of every augmented copy. */
const augmentCodeDigest = (): Promise<string> => sourceDigest(import.meta.url, ['../data/augment.js']);

/** Default feature cache folder: $SER_CACHE_DIR, else `.cache/features` in the working folder (src/features' default). */
export function defaultCacheDir(): string {
  return resolve(process.env.SER_CACHE_DIR ?? join('.cache', 'features'));
}

const caches = new Map<string, FeatureCache>();

/** Features of one file through src/features' on-disk cache (keyed by content hash + params). null cacheDir: no cache. */
export async function featuresOf(path: string, params: FeatureParams, cacheDir: string | null = defaultCacheDir()): Promise<Spectrogram> {
  if (cacheDir === null) return extractFeatures(await loadAudio(path), params);
  const dir = resolve(cacheDir);
  let cache = caches.get(dir);
  if (!cache) caches.set(dir, (cache = new FeatureCache({ dir })));
  return cache.getOrCompute(path, params);
}

/**
 * Waveform pitch shift for offline augmentation: item i's audio shifted by `semitones`
 * (data/augment `pitchShift`: phase-vocoder stretch + resample), then the full feature pipeline.
 * Results are cached under a key derived from the file's hash and the shift.
 * For `representation: 'utterance-stats'` the shift is done in the feature domain instead: the
 * statistics are recomputed with `melWarp = 2^(semitones/12)` (mel axis and F0 scaled), from
 * log-mel + pitch inputs kept in memory per file (`utteranceWarpSource`).
 */
export function pitchShiftSource(items: readonly { path: string }[], params: FeatureParams, cacheDir: string | null = defaultCacheDir()): PitchShiftSource {
  if (params.representation === 'utterance-stats') return utteranceWarpSource(items, params, cacheDir);
  const cache = cacheDir === null ? null : new FeatureCache({ dir: resolve(cacheDir) });
  return async (index, semitones) => {
    const item = items[index];
    if (!item) throw new Error(`pitchShiftSource: no item ${index}`);
    const bytes = await readAudioBytes(item.path);
    const key = await cacheKey(await sha256Hex(`${await sha256Hex(bytes)}|pitch|${semitones}|${await augmentCodeDigest()}`), params);
    const hit = cache?.get(key);
    if (hit) return hit;
    const audio = await decodeAudio(bytes, item.path);
    const shifted = { ...audio, samples: pitchShift(audio.samples, audio.sampleRate, semitones) };
    const spec = extractFeatures(shifted, params);
    cache?.put(key, spec);
    return spec;
  };
}

const utteranceMemo = new Map<string, UtteranceInputs>();
const audioMemo = new Map<string, AudioData>();

/** Item audio at the features' rate (resampled once, kept in memory: up to 4000 files per process). */
async function audioAtRate(path: string, params: FeatureParams): Promise<AudioData> {
  const k = `${resolve(path)}|${params.sampleRate}`;
  let a = audioMemo.get(k);
  if (!a) {
    a = await loadAudio(path);
    if (params.sampleRate !== null && a.sampleRate !== params.sampleRate) {
      a = { ...a, samples: resample(a.samples, a.sampleRate, params.sampleRate), sampleRate: params.sampleRate };
    }
    if (audioMemo.size >= 4000) audioMemo.clear();
    audioMemo.set(k, a);
  }
  return a;
}

/**
 * Feature-domain pitch shift for utterance-stats features: item i's statistics with
 * `melWarp = 2^(semitones/12)`. The unwarped log-mel + pitch track of each file are computed once
 * and kept in memory (up to 4000 files per process), so each augmented copy costs only the statistics.
 * With a `channel` draw the item's audio first goes through data/augment's `applyChannel` (babble
 * is made from the other items' audio), and its inputs are computed afresh.
 */
export function utteranceWarpSource(items: readonly { path: string }[], params: FeatureParams, cacheDir: string | null = defaultCacheDir()): PitchShiftSource {
  const base = { ...params, melWarp: 1 };
  const key = featureKey(base);
  const cache = cacheDir === null ? null : new FeatureCache({ dir: resolve(cacheDir) });
  return async (index, semitones, channel) => {
    const item = items[index];
    if (!item) throw new Error(`utteranceWarpSource: no item ${index}`);
    const warp = { ...base, melWarp: 2 ** (semitones / 12) };
    if (channel) {
      const rng = createRng(channel.seed);
      // babble comes from other items of this (training) list only, never from elsewhere
      const poolPaths: string[] = [];
      if (channel.aug.babble && items.length > 1) {
        for (let t = 0; t < 8; t++) {
          const j = rng.int(items.length);
          if (j !== index) poolPaths.push((items[j] as { path: string }).path);
        }
      }
      // the channel ops' code is part of the key (the features' code is, in every cacheKey)
      const ck = cache ? await cacheKey(await sha256Hex(`${resolve(item.path)}|channel|${JSON.stringify(channel.aug)}|${channel.seed}|${semitones}|${poolPaths.map((p) => resolve(p)).join('|')}|${await augmentCodeDigest()}`), base) : null;
      const hit = ck ? cache!.get(ck) : undefined;
      if (hit) return hit;
      const audio = await audioAtRate(item.path, params);
      const pool = await Promise.all(poolPaths.map(async (p) => (await audioAtRate(p, params)).samples));
      const samples = applyChannel(audio.samples, audio.sampleRate, channel.aug, rng, pool);
      const spec = utteranceFeatures(utteranceInputs({ ...audio, samples }, base), warp);
      if (ck) cache!.put(ck, spec);
      return spec;
    }
    const k = `${resolve(item.path)}|${key}`;
    let inputs = utteranceMemo.get(k);
    if (!inputs) {
      inputs = utteranceInputs(await loadAudio(item.path), base);
      if (utteranceMemo.size >= 4000) utteranceMemo.clear();
      utteranceMemo.set(k, inputs);
    }
    return utteranceFeatures(inputs, warp);
  };
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

/** Labelled spectrograms with labels as indices into `labelNames`; ids are the files' corpus-relative ids (`CorpusItem.id`), else their paths. */
export function toLabeledSpecs(items: readonly FeatureItem[], labelNames: readonly string[]): LabeledSpecs {
  const index = new Map(labelNames.map((l, i) => [l, i]));
  return {
    specs: items.map((i) => i.spec),
    labels: items.map((i) => {
      const k = index.get(i.label);
      if (k === undefined) throw new Error(`${i.path}: label '${i.label}' is not one of ${labelNames.join(', ')}`);
      return k;
    }),
    ids: items.map((i) => i.id ?? i.path),
  };
}
