/**
 * The study's headline side by side with PyTorch: cnn3, batch 1 (one sample per optimizer step),
 * Adam lr 1e-3, the study's random stratified 80/20 split.
 *
 * - `exportStudySplit` writes the split's features in the input format of the shared folder's
 *   `reference/torch_seed_curve.py` (`features.f32` + an index JSON per way of training:
 *   `honest.json` with validation carved from the training 80 %, `optimistic.json` training on the
 *   whole 80 % as the study did), so both engines see the same spectrograms and the same split.
 * - `trainCurve` trains our engine on such an export and yields that script's JSON lines
 *   (`{epoch, loss, val, test, s}`), checkpointed every epoch and resumable.
 * - `summarizeCurves` picks the epochs of any such curve file the same way for both engines
 *   (honest: best validation accuracy; OPTIMISTIC: best test accuracy; earliest epoch on ties).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { scanCorpus, type CorpusFormat, type CorpusItem } from '../data/corpus.js';
import { carveValidation, stratifiedSplit } from '../data/splits.js';
import { featureParams } from '../features/params.js';
import type { Spectrogram } from '../features/types.js';
import { defaultCacheDir, labelNamesOf, loadFeatures } from '../train/dataset.js';
import { train, type LabeledSpecs } from '../train/loop.js';
import { getRecipe } from '../train/recipes.js';
import { SerError } from '../util/errors.js';
import { ensureDir, writeJsonAtomic } from '../util/fs.js';

/** The recipe of the headline (its architecture, input mode and per-utterance standardisation). */
export const HEADLINE_RECIPE = 'seed-cnn3';
/** The study's test fraction and split seed (as `ser experiments --protocols study`). */
export const STUDY_TEST_FRACTION = 0.2;
export const STUDY_SPLIT_SEED = 42;
/** Validation carved from the training 80 % for the honest pick (as `ser experiments`). */
export const HEADLINE_VAL_FRACTION = 0.1;

export type Role = 'train' | 'val' | 'test';

/** One entry of an index file (torch_seed_curve.py reads label, role, nMels, frames, offset). */
export interface IndexEntry {
  label: string;
  role: Role;
  nMels: number;
  frames: number;
  /** Index of the spectrogram's first float in the features file. */
  offset: number;
  /** The audio file, relative to the corpus folder (for the record). */
  file: string;
  speaker: string;
}

export interface ExportOptions {
  data: string;
  out: string;
  format?: CorpusFormat;
  cacheDir?: string;
  /** Seed of the validation carve-out (default STUDY_SPLIT_SEED). */
  valSeed?: number;
  progress?: boolean;
}

export interface ExportResult {
  featuresFile: string;
  honestIndex: string;
  optimisticIndex: string;
  counts: { honest: Record<Role, number>; optimistic: Record<Role, number> };
}

function countRoles(entries: readonly IndexEntry[]): Record<Role, number> {
  const c: Record<Role, number> = { train: 0, val: 0, test: 0 };
  for (const e of entries) c[e.role]++;
  return c;
}

/**
 * Writes `out/features.f32` (every spectrogram of the split, float32 little-endian, row-major
 * [nMels][frames], back to back; the study's features, not standardised), `out/honest.json` and
 * `out/optimistic.json`.
 */
export async function exportStudySplit(o: ExportOptions): Promise<ExportResult> {
  const out = resolve(o.out);
  await ensureDir(out);
  const corpus = scanCorpus(o.data, o.format ? { format: o.format } : {});
  if (corpus.items.length === 0) throw new SerError('data/empty', `${o.data}: no labelled audio files`);
  const params = featureParams(getRecipe(HEADLINE_RECIPE).features);
  const { items, failed } = await loadFeatures(corpus.items, params, { cacheDir: o.cacheDir ?? defaultCacheDir(), progress: o.progress, label: 'features' });
  if (failed.length) throw new SerError('data/unreadable', `${failed.length} files have no features, first: ${failed[0]!.path}: ${failed[0]!.message}`);
  const byPath = new Map(items.map((i) => [i.path, i.spec] as const));
  const strip = (xs: readonly CorpusItem[]): CorpusItem[] => xs.map((i) => ({ path: i.path, label: i.label, speaker: i.speaker }));
  const split = stratifiedSplit(strip(items), STUDY_TEST_FRACTION, STUDY_SPLIT_SEED);
  const carved = carveValidation(split.train, HEADLINE_VAL_FRACTION, o.valSeed ?? STUDY_SPLIT_SEED);

  // one features file for both indexes: training 80 % (validation part last), then the test 20 %
  const ordered = [...carved.train, ...carved.validation, ...split.test];
  const specs = ordered.map((i) => byPath.get(i.path)!);
  const total = specs.reduce((a, s) => a + s.data.length, 0);
  const all = new Float32Array(total);
  const offsets = new Map<string, number>();
  let at = 0;
  ordered.forEach((it, k) => {
    all.set(specs[k]!.data, at);
    offsets.set(it.path, at);
    at += specs[k]!.data.length;
  });
  const root = resolve(o.data);
  const entry = (it: CorpusItem, role: Role): IndexEntry => {
    const s = byPath.get(it.path)!;
    return { label: it.label, role, nMels: s.nMels, frames: s.frames, offset: offsets.get(it.path)!, file: relative(root, resolve(it.path)), speaker: it.speaker ?? '' };
  };
  const honest = [...carved.train.map((i) => entry(i, 'train')), ...carved.validation.map((i) => entry(i, 'val')), ...split.test.map((i) => entry(i, 'test'))];
  const optimistic = [...split.train.map((i) => entry(i, 'train')), ...split.test.map((i) => entry(i, 'test'))];
  const featuresFile = join(out, 'features.f32');
  // float32 little-endian: every platform Node runs on is little-endian (checked, not assumed)
  if (new Uint8Array(new Float32Array([1]).buffer)[3] !== 0x3f) throw new SerError('eval/big-endian', 'features.f32 is little-endian; this machine is not');
  await writeFile(featuresFile, new Uint8Array(all.buffer));
  const honestIndex = join(out, 'honest.json');
  const optimisticIndex = join(out, 'optimistic.json');
  await writeJsonAtomic(honestIndex, honest);
  await writeJsonAtomic(optimisticIndex, optimistic);
  return { featuresFile, honestIndex, optimisticIndex, counts: { honest: countRoles(honest), optimistic: countRoles(optimistic) } };
}

/** An export read back: the sets by role, labels as indices into the sorted label names. */
export interface SplitExport {
  labelNames: string[];
  sets: Record<Role, LabeledSpecs>;
}

/** Reads `features.f32` + an index written by `exportStudySplit` (or by hand in the same format). */
export function readSplitExport(featuresFile: string, indexFile: string): SplitExport {
  if (!existsSync(featuresFile)) throw new SerError('cli/missing-file', `${featuresFile}: no such file`);
  if (!existsSync(indexFile)) throw new SerError('cli/missing-file', `${indexFile}: no such file`);
  const buf = readFileSync(featuresFile);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2);
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as IndexEntry[];
  if (!Array.isArray(index) || index.length === 0) throw new SerError('eval/bad-index', `${indexFile}: not a list of entries`);
  const labelNames = labelNamesOf(index);
  const sets: Record<Role, LabeledSpecs> = { train: { specs: [], labels: [], ids: [] }, val: { specs: [], labels: [], ids: [] }, test: { specs: [], labels: [], ids: [] } };
  for (const [k, e] of index.entries()) {
    const n = e.nMels * e.frames;
    if (!(e.role in sets) || !(n > 0) || e.offset < 0 || e.offset + n > data.length) {
      throw new SerError('eval/bad-index', `${indexFile}: entry ${k} (${e.file ?? e.label}) does not fit ${featuresFile}`);
    }
    const spec: Spectrogram = { data: data.slice(e.offset, e.offset + n), nMels: e.nMels, frames: e.frames };
    sets[e.role].specs.push(spec);
    sets[e.role].labels.push(labelNames.indexOf(e.label));
    sets[e.role].ids!.push(e.file ?? String(k));
  }
  if (sets.train.specs.length === 0) throw new SerError('eval/bad-index', `${indexFile}: no training entries`);
  return { labelNames, sets };
}

/** One epoch of a learning curve, as torch_seed_curve.py prints it (accuracies; s = seconds). */
export interface CurveLine {
  epoch: number;
  loss: number;
  val: number | null;
  test: number | null;
  s: number;
}

export interface CurveOptions {
  features: string;
  index: string;
  epochs: number;
  seed: number;
  lr?: number;
  /** Folder for the checkpoint and `curve.jsonl`; a re-run continues from the last finished epoch. */
  out?: string;
  /** Where the lines are appended (default `out/curve.jsonl`). */
  curveFile?: string;
  threads?: number;
  backend?: string;
  progress?: boolean;
  onLine?: (line: CurveLine) => void;
  /** Test hook: stop after this many epochs of this call (as if killed). */
  stopAfterEpochs?: number;
}

/** The lines of a curve file (the last line of an epoch wins: a killed run may have written it twice). */
export function readCurve(file: string): CurveLine[] {
  const byEpoch = new Map<number, CurveLine>();
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    let v: CurveLine;
    try {
      v = JSON.parse(l) as CurveLine;
    } catch {
      continue; // a line cut by a kill
    }
    if (Number.isInteger(v.epoch)) byEpoch.set(v.epoch, v);
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/**
 * Trains the headline recipe (seed-cnn3 at batch 1, Adam) on an export and returns its curve; with
 * `out`, each epoch is appended to `out/curve.jsonl` and checkpointed, and a re-run resumes.
 */
export async function trainCurve(o: CurveOptions): Promise<CurveLine[]> {
  const { labelNames, sets } = readSplitExport(o.features, o.index);
  // the study's recipes never stop early: every epoch is trained and reported
  const recipe = getRecipe(HEADLINE_RECIPE, { epochs: o.epochs, batchSize: 1, ...(o.lr ? { lr: o.lr } : {}) });
  const curveFile = o.curveFile ?? (o.out ? join(o.out, 'curve.jsonl') : null);
  if (o.out) await ensureDir(o.out);
  const lines: CurveLine[] = [];
  const r = await train(recipe, { ...sets.train, labelNames }, {
    out: o.out,
    seed: o.seed,
    resume: o.out !== undefined,
    valData: sets.val.specs.length ? sets.val : null,
    reportData: sets.test.specs.length ? { test: sets.test } : {},
    progress: o.progress ?? false,
    ...(o.threads ? { threads: o.threads } : {}),
    ...(o.backend ? { backend: o.backend } : {}),
    ...(o.stopAfterEpochs ? { stopAfterEpochs: o.stopAfterEpochs } : {}),
    saveModel: async () => undefined,
    onEpoch: (rec) => {
      const line: CurveLine = {
        epoch: rec.epoch, loss: Math.round(rec.loss * 1e4) / 1e4, val: rec.val?.accuracy ?? null,
        test: rec.extra.test?.accuracy ?? null, s: Math.round(rec.seconds * 10) / 10,
      };
      if (curveFile) appendFileSync(curveFile, `${JSON.stringify(line)}\n`);
      lines.push(line);
      o.onLine?.(line);
    },
  });
  r.trainer.dispose();
  return curveFile ? readCurve(curveFile) : lines;
}

/** The epoch picks of one curve, made the same way for both engines. */
export interface CurvePicks {
  epochs: number;
  /** Test accuracy at the best validation accuracy (earliest on ties); null without validation. */
  honest: { epoch: number; test: number } | null;
  /** Best test accuracy (the study's way; earliest on ties). */
  optimistic: { epoch: number; test: number };
  last: { epoch: number; test: number; loss: number };
  seconds: number;
}

export function pickCurve(c: readonly CurveLine[]): CurvePicks {
  if (c.length === 0 || c.some((l) => l.test === null)) throw new SerError('eval/bad-curve', 'a curve needs test accuracies at every epoch');
  const best = (key: 'val' | 'test'): CurveLine => c.reduce((a, b) => ((b[key] as number) > (a[key] as number) ? b : a));
  const last = c[c.length - 1]!;
  const hasVal = c.every((l) => l.val !== null);
  const h = hasVal ? best('val') : null;
  const opt = best('test');
  return {
    epochs: c.length,
    honest: h ? { epoch: h.epoch, test: h.test! } : null,
    optimistic: { epoch: opt.epoch, test: opt.test! },
    last: { epoch: last.epoch, test: last.test!, loss: last.loss },
    seconds: c.reduce((a, l) => a + l.s, 0),
  };
}

/** Rules for the honest pick besides `pickCurve`'s (earliest best validation epoch), to see how much the figure depends on the rule. */
export const HONEST_PICK_RULES = ['earliest', 'latest', 'tied-mean', 'smoothed-5'] as const;
export type HonestPickRule = (typeof HONEST_PICK_RULES)[number];

/**
 * Test accuracy by each honest-pick rule: at the earliest ('earliest': `pickCurve`'s) or the latest epoch of best
 * validation accuracy, averaged over all epochs that tie for it ('tied-mean'), or at the centre of the best
 * 5-epoch running mean of validation accuracy ('smoothed-5'; earliest on ties); also how many epochs tie.
 */
export function honestPickVariants(c: readonly CurveLine[]): Record<HonestPickRule, number> & { tied: number } {
  if (c.length === 0 || c.some((l) => l.val === null || l.test === null)) throw new SerError('eval/bad-curve', 'honest picks need validation and test accuracies at every epoch');
  const val = c.map((l) => l.val as number);
  const test = c.map((l) => l.test as number);
  const top = Math.max(...val);
  const tied = val.flatMap((v, i) => (v === top ? [i] : []));
  let best = -1;
  let centre = 0;
  for (let i = 0; i < c.length; i++) {
    const w = val.slice(Math.max(0, i - 2), Math.min(c.length, i + 3));
    const m = w.reduce((a, b) => a + b, 0) / w.length;
    if (w.length === Math.min(5, c.length) && m > best) { best = m; centre = i; }
  }
  return {
    earliest: test[tied[0]!]!,
    latest: test[tied[tied.length - 1]!]!,
    'tied-mean': tied.reduce((a, i) => a + test[i]!, 0) / tied.length,
    'smoothed-5': test[centre]!,
    tied: tied.length,
  };
}
