/**
 * One job of the grid (a recipe at a learning rate on one fold), run in this process: trains with
 * the test set evaluated every epoch for reporting only, then picks the epochs both ways — honest
 * (best validation accuracy, ties to the lower validation loss) and the study's OPTIMISTIC way (best
 * test accuracy). Child processes run job files through the CLI's `cli/job-entry.ts`.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CorpusItem } from '../data/corpus.js';
import type { FeatureParams } from '../features/params.js';
import { featuresOf, loadFeatures, pitchShiftSource, toLabeledSpecs, type FeatureItem } from '../train/dataset.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { train, CHECKPOINT_FILE, type EpochRecord } from '../train/loop.js';
import type { TrainerFactory } from '../train/trainer.js';
import { ensureDir, writeJsonAtomic } from '../util/fs.js';
import type { ConfusionMatrix } from './metrics.js';
import { jobRecipe, type JobSpec, type Protocol } from './grid.js';
import { readPackedFeatures } from './packed-features.js';

/** Metrics of the test set at one epoch. */
export interface TestAt {
  epoch: number;
  accuracy: number;
  uar: number;
  macroF1: number;
  confusion: ConfusionMatrix;
}

/** What one job produces. */
export interface JobResult {
  id: string;
  recipe: string;
  lr: number;
  epochs: number;
  protocol: Protocol;
  fold: string;
  nTrain: number;
  nValidation: number;
  nTest: number;
  /** Honest: test metrics at the epoch with the best validation score. */
  honest: TestAt;
  /** OPTIMISTIC (the study's way): the epoch with the best TEST accuracy. */
  optimistic: TestAt;
  last: TestAt;
  seconds: number;
  curves: Array<{ epoch: number; loss: number; valAccuracy: number | null; valLoss: number | null; testAccuracy: number; testLoss: number }>;
}

/** Test metrics of an epoch record (the test set is evaluated as `extra.test`). */
export function testAt(h: EpochRecord): TestAt {
  const t = h.extra.test!;
  return { epoch: h.epoch, accuracy: t.accuracy, uar: t.uar, macroF1: t.macroF1, confusion: t.confusion };
}

/**
 * The two epoch picks of a finished run: honest = best validation accuracy (ties: lower validation
 * loss; the last epoch without validation), optimistic = best test accuracy (the study's way).
 * The earliest epoch wins any remaining tie.
 */
export function pickEpochs(history: readonly EpochRecord[]): { honest: EpochRecord; optimistic: EpochRecord; last: EpochRecord } {
  const last = history[history.length - 1]!;
  const optimistic = history.reduce((a, b) => (b.extra.test!.accuracy > a.extra.test!.accuracy ? b : a));
  const honest = history.every((h) => h.val)
    ? history.reduce((a, b) => (b.val!.accuracy > a.val!.accuracy || (b.val!.accuracy === a.val!.accuracy && b.val!.loss < a.val!.loss) ? b : a))
    : last;
  return { honest, optimistic, last };
}

/** After each epoch a job trains: the epoch just finished (1-based) and the job's planned epochs. */
export type JobEpochListener = (epoch: number, epochs: number) => void;

/** Runs one job in this process and writes `dir/result.json`; `onEpoch` hears of each epoch trained. */
export async function runJob(job: JobSpec, createTrainer?: TrainerFactory, onEpoch?: JobEpochListener): Promise<JobResult> {
  const recipe = jobRecipe(job);
  const packed = job.featuresFile ? await readPackedFeatures(job.featuresFile) : null;
  const load = async (xs: CorpusItem[]): Promise<FeatureItem[]> => {
    const out: FeatureItem[] = [];
    for (const it of xs) out.push({ ...it, spec: packed?.get(it.path) ?? (await featuresOf(it.path, job.featureParams, job.cacheDir)) });
    return out;
  };
  const [tr, va, te] = [await load(job.train), await load(job.validation), await load(job.test)];
  const data = { ...toLabeledSpecs(tr, job.labelNames), labelNames: job.labelNames };
  const valData = va.length ? toLabeledSpecs(va, job.labelNames) : null;
  const testData = toLabeledSpecs(te, job.labelNames);
  await ensureDir(job.dir);
  const r = await train(recipe, data, {
    out: job.dir,
    seed: job.seed,
    resume: true,
    valData,
    reportData: { test: testData },
    pitchSource: recipe.offlineAugment && (recipe.offlineAugment.pitchShift === 'waveform' || recipe.offlineAugment.melWarp !== undefined)
      ? pitchShiftSource(tr, job.featureParams, job.cacheDir)
      : undefined,
    progress: false,
    backend: job.backend ?? undefined,
    ...(job.threads ? { threads: job.threads } : {}),
    createTrainer,
    saveModel: async () => undefined,
    ...(onEpoch ? { onEpoch: (rec: EpochRecord) => onEpoch(rec.epoch, recipe.epochs) } : {}),
  });
  r.trainer.dispose();
  const h = r.history;
  const picks = pickEpochs(h);
  const result: JobResult = {
    id: job.id, recipe: job.entry.recipe, lr: job.entry.lr, epochs: job.entry.epochs, protocol: job.protocol, fold: job.fold,
    nTrain: tr.length, nValidation: va.length, nTest: te.length,
    honest: testAt(picks.honest), optimistic: testAt(picks.optimistic), last: testAt(picks.last),
    seconds: r.seconds,
    curves: h.map((e) => ({
      epoch: e.epoch, loss: e.loss, valAccuracy: e.val?.accuracy ?? null, valLoss: e.val?.loss ?? null,
      testAccuracy: e.extra.test!.accuracy, testLoss: e.extra.test!.loss,
    })),
  };
  await writeJsonAtomic(join(job.dir, 'result.json'), result);
  rmSync(join(job.dir, CHECKPOINT_FILE), { force: true });
  return result;
}

/** Epochs an unfinished job has already trained: the epoch of its checkpoint (0 without one, or when it cannot be read). */
export async function jobEpochsDone(job: JobSpec): Promise<number> {
  try {
    const c = (await loadCheckpoint(join(job.dir, CHECKPOINT_FILE))) as { epoch?: unknown } | null;
    return typeof c?.epoch === 'number' ? c.epoch : 0;
  } catch {
    return 0; // a damaged checkpoint: the run starts over (train() reports it then)
  }
}

/** Reads a finished job's result, or null. */
export function readResult(job: JobSpec): JobResult | null {
  const p = join(job.dir, 'result.json');
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as JobResult;
  } catch {
    return null;
  }
}

/** A job file written by the parent for a child process. */
export type JobFile =
  | { kind: 'features'; items: CorpusItem[]; featureParams: FeatureParams; cacheDir: string }
  | { kind: 'train'; job: JobSpec };

/** Runs a job file: `features` fills the feature cache for its items, `train` runs the job; throws on failure (cli/job-entry.ts sets the exit code). */
export async function runJobFile(file: string, onEpoch?: JobEpochListener): Promise<void> {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as JobFile;
  if (spec.kind === 'features') {
    await loadFeatures(spec.items, spec.featureParams, { cacheDir: spec.cacheDir, progress: false });
    return;
  }
  await runJob(spec.job, undefined, onEpoch);
}
