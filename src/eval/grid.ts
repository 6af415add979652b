/**
 * Planning the experiment grid: which (recipe, learning rate, epochs) cells run, on which folds
 * (the study's random 80/20 split and leave-one-speaker-out, validation always carved from the
 * training part), and the recipe each job trains. Pure and deterministic: no I/O.
 */
import { join } from 'node:path';
import type { CorpusItem } from '../data/corpus.js';
import { carveValidation, leaveOneSpeakerOut, stratifiedSplit } from '../data/splits.js';
import type { FeatureParams } from '../features/params.js';
import type { FeatureItem } from '../train/dataset.js';
import { getRecipe, type Recipe } from '../train/recipes.js';
import { EXPERIMENT_RECIPES, GRID_EPOCHS, GRID_MIN_BATCH, QUICK_RECIPES, STUDY_RESULTS } from './study.js';

/** `study`: the study's random stratified 80/20 split; `loso`: leave-one-speaker-out. */
export type Protocol = 'study' | 'loso';

/** One cell of the grid: a recipe at a learning rate for some epochs. */
export interface GridEntry {
  recipe: string;
  lr: number;
  epochs: number;
  /** Batch size override (batch-1 recipes train on masked batches of GRID_MIN_BATCH). */
  batchSize?: number;
  /**
   * 'online': the study's augmentation ops drawn fresh every epoch (one pass over the originals per
   * epoch) instead of its offline 10× copies (11 passes per epoch). Default for *-aug recipes unless
   * `offlineCopies` is set.
   */
  augment?: 'online';
}

/** A unit of work: one recipe/lr on one fold. Serialised to a JSON file for child processes. */
export interface JobSpec {
  id: string;
  entry: GridEntry;
  offlineCopies: number | null;
  protocol: Protocol;
  fold: string;
  seed: number;
  featureParams: FeatureParams;
  archOptions: Record<string, unknown> | null;
  cacheDir: string;
  backend: string | null;
  labelNames: string[];
  train: CorpusItem[];
  validation: CorpusItem[];
  test: CorpusItem[];
  dir: string;
  /** All spectrograms packed in one file by the parent (path → spectrogram); null: read the feature cache. */
  featuresFile: string | null;
  /** Offline pitch shift: 'waveform' (audio, cached) or 'mel-warp' (fast; --quick). Absent = 'mel-warp'. */
  pitchMode?: 'waveform' | 'mel-warp';
  /** Gradient threads of this job (cores ÷ parallel jobs; absent = the trainer's default). */
  threads?: number;
}

/** What shapes the grid (a subset of `ExperimentOptions`). */
export interface GridOptions {
  /** Reduced grid: few epochs, one lr per recipe. */
  quick?: boolean;
  /** Recipes to run (default EXPERIMENT_RECIPES; quick: QUICK_RECIPES). */
  recipes?: string[];
  /** Learning rates per recipe (default: full 0.01, 0.001, 0.0001; quick: the study's lr). */
  lrs?: number[];
  /** Epochs per run (default: quick 2, else the recipe's, the study's at most GRID_EPOCHS). */
  epochs?: number;
  /** Batch size for every recipe (default: the recipe's, at least GRID_MIN_BATCH). */
  batchSize?: number;
  /** Offline augmented copies for *-aug recipes (the study's 10×); default: its ops on the fly each epoch. */
  offlineCopies?: number;
  /**
   * 'grid' (default): an equal small budget for the whole grid (GRID_EPOCHS, batch-1 recipes as masked
   * batches of GRID_MIN_BATCH, three learning rates, augmentation on the fly). 'study': every recipe as
   * the study trained it — its own epochs, batch size (batch 1 = one sample per optimizer step),
   * learning rate and offline augmented copies; explicit options still override.
   */
  budget?: 'grid' | 'study';
}

/** Grid of configurations for the options. */
export function experimentGrid(opts: GridOptions): GridEntry[] {
  const names = opts.recipes ?? [...(opts.quick ? QUICK_RECIPES : EXPERIMENT_RECIPES)];
  const out: GridEntry[] = [];
  for (const name of names) {
    const r = getRecipe(name);
    const ours = !name.startsWith('seed-');
    const study = opts.budget === 'study';
    // our recipes run at their own learning rate (chosen on validation data in their own studies)
    const lrs = opts.lrs ?? (opts.quick || ours || study ? [STUDY_RESULTS[name]?.lr ?? r.lr] : [0.01, 0.001, 0.0001]);
    const epochs = opts.epochs ?? (opts.quick ? 2 : ours || study ? r.epochs : Math.min(r.epochs, GRID_EPOCHS));
    const batchSize = opts.batchSize ?? (!study && r.batchSize < GRID_MIN_BATCH ? GRID_MIN_BATCH : undefined);
    const online = r.offlineAugment !== null && r.offlineAugment.melWarp === undefined && opts.offlineCopies === undefined && !study;
    for (const lr of lrs) out.push({ recipe: name, lr, epochs, ...(batchSize && batchSize !== r.batchSize ? { batchSize } : {}), ...(online ? { augment: 'online' as const } : {}) });
  }
  return out;
}

function jobId(e: GridEntry, protocol: Protocol, fold: string): string {
  return `${e.recipe}_lr${e.lr}_e${e.epochs}${e.batchSize ? `_b${e.batchSize}` : ''}${e.augment ? '_online' : ''}_${protocol}_${fold}`.replace(/[^A-Za-z0-9_.-]/g, '-');
}

/** Builds every job of an experiment (splits are computed here, once, deterministically). */
export function planJobs(
  items: readonly FeatureItem[] | readonly CorpusItem[],
  grid: readonly GridEntry[],
  o: { protocols: Protocol[]; seed: number; params: FeatureParams; archOptions: Record<string, unknown> | null; cacheDir: string; backend: string | null; offlineCopies: number | null; out: string; labelNames: string[]; featuresFile?: string | null; pitchMode?: 'waveform' | 'mel-warp';
    /** Recipes with their own feature parameters: their params and packed features file. */
    perEntry?: (e: GridEntry) => { params: FeatureParams; featuresFile: string | null } | null },
): JobSpec[] {
  const strip = (xs: readonly CorpusItem[]): CorpusItem[] => xs.map((i) => ({ path: i.path, label: i.label, speaker: i.speaker }));
  const folds: Array<{ protocol: Protocol; fold: string; train: CorpusItem[]; validation: CorpusItem[]; test: CorpusItem[] }> = [];
  if (o.protocols.includes('study')) {
    const s = stratifiedSplit(strip(items), 0.2, 42);
    const v = carveValidation(s.train, 0.1, o.seed);
    folds.push({ protocol: 'study', fold: 'random-80-20', train: v.train, validation: v.validation, test: s.test });
  }
  if (o.protocols.includes('loso')) {
    for (const f of leaveOneSpeakerOut(strip(items))) {
      const v = carveValidation(f.train, 0.1, o.seed);
      folds.push({ protocol: 'loso', fold: `speaker-${f.speaker}`, train: v.train, validation: v.validation, test: f.test });
    }
  }
  const jobs: JobSpec[] = [];
  for (const entry of grid) {
    const own = o.perEntry?.(entry) ?? null;
    for (const f of folds) {
      const id = jobId(entry, f.protocol, f.fold);
      jobs.push({
        id, entry, offlineCopies: o.offlineCopies, protocol: f.protocol, fold: f.fold, seed: o.seed, featureParams: own?.params ?? o.params,
        archOptions: o.archOptions, cacheDir: o.cacheDir, backend: o.backend, labelNames: o.labelNames,
        train: f.train, validation: f.validation, test: f.test, dir: join(o.out, 'runs', id), featuresFile: own ? own.featuresFile : o.featuresFile ?? null, pitchMode: o.pitchMode ?? 'mel-warp',
      });
    }
  }
  return jobs;
}

/** The recipe a job trains (overrides applied). */
export function jobRecipe(job: JobSpec): Recipe {
  const r = getRecipe(job.entry.recipe, { epochs: job.entry.epochs, lr: job.entry.lr, ...(job.entry.batchSize ? { batchSize: job.entry.batchSize } : {}) });
  // the whole budget runs; selection happens afterwards from the curves (both ways)
  r.earlyStopping = { ...r.earlyStopping, patience: null };
  if (job.archOptions) r.archOptions = { ...r.archOptions, ...job.archOptions };
  if (r.offlineAugment && job.entry.augment === 'online') {
    const { p, noiseStd, pitchSemitones, freqMask, timeMask } = r.offlineAugment;
    r.onlineAugment = { ...(r.onlineAugment ?? {}), study: { p, noiseStd, pitchSemitones, freqMask, timeMask } };
    r.offlineAugment = null;
  }
  if (r.offlineAugment && job.offlineCopies !== null) r.offlineAugment = { ...r.offlineAugment, copies: job.offlineCopies };
  if (r.offlineAugment) r.offlineAugment = { ...r.offlineAugment, pitchShift: job.pitchMode ?? 'mel-warp' };
  return r;
}
