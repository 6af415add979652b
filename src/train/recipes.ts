/**
 * Training recipes as data (SpeechBrain style): a recipe is a plain declared object — the
 * architecture and its options, feature parameters, input mode, batch size, learning rate,
 * epochs, optimizer, augmentation (offline copies and/or on-the-fly ops with probabilities),
 * mixup, normalisation and early stopping. The training loop (`loop.ts`) is generic and only
 * reads these fields; a new experiment is a new object, not new code.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { CHANNEL_OPS } from '../data/augment.js';
import { DEFAULT_FEATURE_PARAMS, featureParams, type FeatureParams } from '../features/params.js';
import { isWarpList, validateFeatureParams } from '../features/pipeline.js';
import { checkArch } from '../model/architectures.js';
import { SerError } from '../util/errors.js';

/** How spectrograms enter the network. */
export type InputMode =
  /** Each utterance at its own length; batches are length-bucketed and masked by the model. */
  | 'variable'
  /** Fixed nMels × frames (the study's 128×256): zero-pad on the right, or linearly interpolate along time when longer. */
  | 'resized';

/**
 * Per-utterance normalisation, applied after augmentation and before resizing:
 * 'utterance' = (S − mean(S)) / std(S) over the whole spectrogram (the study);
 * 'utterance-band' = the same per mel band (cepstral-mean-variance style, removes channel tilt);
 * 'none' = the dB values as they are.
 */
export type { Normalization } from '../features/normalize.js';
import type { Normalization } from '../features/normalize.js';

export type { OfflineAugment, OnlineAugment } from '../data/augment.js';
import type { OfflineAugment, OnlineAugment } from '../data/augment.js';

/** Adam-family optimizer settings (the trainer implements the update). */
export interface OptimizerSettings {
  name: 'adam' | 'adamw';
  weightDecay: number;
  /** Learning-rate schedule over epochs. */
  schedule: 'constant' | 'cosine';
  /** Linear warm-up epochs (0 = none). */
  warmupEpochs: number;
}

/** Early stopping on VALIDATION data (never the test set). */
export interface EarlyStopping {
  /** Stop after this many epochs without improvement; null = never stop early (still keeps the best-validation weights). */
  patience: number | null;
  /** What "better" means: higher accuracy / UAR, or lower loss. */
  monitor: 'accuracy' | 'uar' | 'loss';
}

/** A complete training recipe. Every field is data. */
export interface Recipe {
  name: string;
  description: string;
  /** Model architecture name (src/model): cnn3, cnn4, cnn3-resized, cnn4-resized, ser-cnn. */
  arch: string;
  /** Architecture options passed through to the model (dropout, batch norm, pooling, widths, ...). */
  archOptions: Record<string, unknown>;
  /** Feature parameters that differ from the seed's defaults. */
  features: Partial<FeatureParams>;
  input: { mode: InputMode; frames: number };
  normalization: Normalization;
  batchSize: number;
  lr: number;
  epochs: number;
  optimizer: OptimizerSettings;
  offlineAugment: OfflineAugment | null;
  onlineAugment: OnlineAugment | null;
  /** Mixup of pairs within a batch: lambda ~ Beta(alpha, alpha), applied to a batch with probability p. */
  mixup: { alpha: number; p: number } | null;
  /** Label smoothing epsilon for the soft targets (0 = one-hot). */
  labelSmoothing: number;
  earlyStopping: EarlyStopping;
  /** Fraction of the training data carved out (stratified) for validation when none is given. */
  valFraction: number;
  /**
   * Members of an ensemble (default 1): `ser train` trains this many models (seeds seed … seed+K−1,
   * one shared set of augmented copies) and saves them as one `ser-mlp` model that averages their
   * probabilities; the leave-one-speaker-out evaluation averages the same number of seeds.
   */
  ensemble?: number;
  /**
   * Offline augmented copies of an ensemble's members (see `memberSeeds`): 'shared' (default) — one set
   * drawn for all members, so they differ only in initial weights, dropout and batch order and the copies'
   * features are computed once; 'member' — each member draws its own copies (K× the copies' feature
   * time, members that have seen different channels and warps).
   */
  ensembleCopies?: EnsembleCopies;
  /**
   * Test-time warps (utterance-stats features only): a prediction is the mean of the model's
   * probabilities at each of these mel-axis / F0 warp factors of the input's statistics — the same
   * voice heard as several vocal-tract lengths, as training's `melWarp` draws them. Must include 1 (the
   * plain features, whose noise floor the calibration reads). Absent: the plain features alone. Applied
   * wherever a saved model predicts (`ser predict` / `evaluate`, the server, the browser) and by the
   * leave-one-speaker-out robustness run; `ser experiments` scores each epoch on the plain features, as it
   * scores one ensemble member.
   */
  testWarps?: number[];
}

/** The values of `Recipe.ensembleCopies`. */
const ENSEMBLE_COPIES = ['shared', 'member'] as const;
type EnsembleCopies = (typeof ENSEMBLE_COPIES)[number];

const STUDY_OFFLINE: OfflineAugment = {
  copies: 10,
  p: 0.6,
  noiseStd: 0.01,
  pitchSemitones: 4,
  pitchShift: 'waveform',
  freqMask: [10, 30],
  timeMask: [10, 50],
};

const ADAM: OptimizerSettings = { name: 'adam', weightDecay: 0, schedule: 'constant', warmupEpochs: 0 };

function seed(
  name: string,
  description: string,
  arch: string,
  mode: InputMode,
  batchSize: number,
  lr: number,
  epochs: number,
  offline: boolean,
): Recipe {
  return {
    name,
    description,
    arch,
    // the study's variable-length CNNs are PyTorch's: pools floor odd lengths (see ArchOptions.edges)
    archOptions: mode === 'variable' ? { edges: 'floor' } : {},
    features: {},
    input: { mode, frames: 256 },
    normalization: 'utterance',
    batchSize,
    lr,
    epochs,
    optimizer: { ...ADAM },
    offlineAugment: offline ? { ...STUDY_OFFLINE } : null,
    onlineAugment: null,
    mixup: null,
    labelSmoothing: 0,
    earlyStopping: { patience: null, monitor: 'accuracy' },
    valFraction: 0.1,
  };
}

/** Every built-in recipe, by name. */
export const RECIPES: Readonly<Record<string, Recipe>> = Object.freeze({
  'seed-cnn3': seed('seed-cnn3', "The study's 3-layer CNN, batch 1, utterances at their own length.", 'cnn3', 'variable', 1, 0.001, 300, false),
  'seed-cnn4': seed('seed-cnn4', "The study's 4-layer CNN, batch 1, utterances at their own length.", 'cnn4', 'variable', 1, 0.001, 100, false),
  'seed-cnn3-resized': seed('seed-cnn3-resized', "The study's 3-layer CNN with batch norm on 128×256 resized input, batch 8.", 'cnn3-resized', 'resized', 8, 0.001, 50, false),
  'seed-cnn4-resized': seed('seed-cnn4-resized', "The study's 4-layer CNN with batch norm on 128×256 resized input, batch 8.", 'cnn4-resized', 'resized', 8, 0.0001, 50, false),
  'seed-cnn3-aug': seed('seed-cnn3-aug', 'seed-cnn3 on the study\'s 10× offline augmented training data.', 'cnn3', 'variable', 1, 0.0001, 100, true),
  'seed-cnn4-aug': seed('seed-cnn4-aug', 'seed-cnn4 on the study\'s 10× offline augmented training data (batch 1, lr 1e-4).', 'cnn4', 'variable', 1, 0.0001, 100, true),
  'seed-cnn3-resized-aug': seed('seed-cnn3-resized-aug', 'seed-cnn3-resized on 10× augmented data, batch 16.', 'cnn3-resized', 'resized', 16, 0.001, 30, true),
  'seed-cnn4-resized-aug': seed('seed-cnn4-resized-aug', 'seed-cnn4-resized on 10× augmented data, batch 16 (lr 1e-3).', 'cnn4-resized', 'resized', 16, 0.001, 30, true),
  'ser-best': {
    name: 'ser-best',
    description:
      'Our recipe for unseen speakers: per-band per-utterance normalisation, batch norm + statistics pooling, ' +
      'SpecAugment, spectral tilt / EQ / mel warp augmentation, mixup, AdamW with cosine schedule, early stopping on validation UAR.',
    arch: 'ser-cnn',
    archOptions: { batchNorm: true, pooling: 'stats', dropout: 0.3, channels: [16, 32, 64, 128] },
    features: {},
    input: { mode: 'variable', frames: 256 },
    normalization: 'utterance-band',
    batchSize: 16,
    lr: 0.002,
    epochs: 60,
    optimizer: { name: 'adamw', weightDecay: 1e-4, schedule: 'cosine', warmupEpochs: 2 },
    offlineAugment: null,
    onlineAugment: {
      specAugment: { p: 0.8, freqMasks: 2, maxFreq: 15, timeMasks: 2, maxTimeFraction: 0.1 },
      tilt: { p: 0.5, maxDbPerOctave: 3 },
      eq: { p: 0.3, bands: 6, maxDb: 6 },
      warp: { p: 0.5, semitones: 2 },
      speed: { p: 0.3, range: 0.1 },
    },
    mixup: { alpha: 0.4, p: 0.5 },
    labelSmoothing: 0.05,
    earlyStopping: { patience: 12, monitor: 'uar' },
    valFraction: 0.15,
  },
  'ser-stats': {
    name: 'ser-stats',
    description:
      'Utterance statistics MLP for unseen speakers (research prototype): per-band statistics of the 32-band log-mel over active frames ' +
      'after p95 level normalisation + pitch/energy statistics, z-scored with training statistics stored in the model; MLP 64 with dropout; ' +
      '4 offline copies with mel-axis + F0 warp U(0.88, 1.12); Adam lr 3e-3 (the research final recipe; AdamW wd 1e-2 scores the same), batch 64, 20 epochs, last epoch.',
    arch: 'ser-mlp',
    archOptions: { hidden: 64, inputDropout: 0.2, dropout: 0.5, standardize: true },
    features: { preprocess: 'none', representation: 'utterance-stats', statsBands: 32, statsLevelNorm: 'p95' },
    input: { mode: 'variable', frames: 1 },
    normalization: 'none',
    batchSize: 64,
    lr: 0.003,
    epochs: 20,
    optimizer: { name: 'adam', weightDecay: 0, schedule: 'constant', warmupEpochs: 0 },
    offlineAugment: { copies: 4, p: 1, noiseStd: 0, pitchSemitones: 0, pitchShift: 'waveform', freqMask: [0, 0], timeMask: [0, 0], melWarp: 0.12 },
    onlineAugment: null,
    mixup: null,
    labelSmoothing: 0,
    earlyStopping: { patience: null, monitor: 'uar' },
    valFraction: 0,
  },
  'ser-robust': {
    name: 'ser-robust',
    description:
      'The bundled model\'s recipe: utterance statistics (as ser-stats) of audio resampled to 16 kHz (the same 46 ms window and ' +
      "11.6 ms hop as the study's 2048/512 at 44.1 kHz); 8 offline copies of each file, each through a random channel before its " +
      'features are recomputed — room reverberation, microphone EQ, coloured noise, babble of other training speakers, an ' +
      'overdriven recorder (clipping), telephone line, codec-like band limits, lower recording rates, gain — on top of the ' +
      'mel-axis + F0 warp, then 4 more copies through the warp alone (clean speech in another voice); MLP 128; an ensemble of 3 ' +
      'seeds; the statistics include the band levels\' temporal modulation (statsModulation). The rooms put the talker 0.3–4 m from ' +
      'the microphone (direct-to-reverberant ratio −18 to +12 dB). Each prediction averages the ensemble over five ' +
      'test-time warps of the voice (testWarps 0.92–1.08). Chosen by nested leave-one-speaker-out selection ' +
      '(reports/robust/REPORT.md).',
    arch: 'ser-mlp',
    archOptions: { hidden: 128, inputDropout: 0.2, dropout: 0.5, standardize: true },
    features: {
      sampleRate: 16000, nFft: 1024, winLength: 743, hopLength: 186, fmax: 8000,
      preprocess: 'none', representation: 'utterance-stats', statsBands: 32, statsLevelNorm: 'p95', statsModulation: true,
    },
    input: { mode: 'variable', frames: 1 },
    normalization: 'none',
    batchSize: 64,
    lr: 0.003,
    epochs: 20,
    optimizer: { name: 'adam', weightDecay: 0, schedule: 'constant', warmupEpochs: 0 },
    offlineAugment: {
      copies: 8, p: 1, noiseStd: 0, pitchSemitones: 0, pitchShift: 'waveform', freqMask: [0, 0], timeMask: [0, 0], melWarp: 0.12,
      channel: {
        reverb: { p: 0.3, rt60: [0.2, 1.0], drrDb: [-18, 12] },
        eq: { p: 0.4 },
        noise: { p: 0.3, snrDb: [5, 30], exponent: [0, 2] },
        babble: { p: 0.2, snrDb: [5, 25], talkers: [3, 7] },
        clip: { p: 0.2, headroomDb: [3, 15], soft: 0.5 },
        telephone: { p: 0.15, jitter: 0.1 },
        codec: { p: 0.15, cutoffHz: [3500, 7500] },
        resample: { p: 0.15, rates: [8000, 11025, 12000] },
        gain: { p: 0.3, maxDb: 20 },
      },
      warpOnlyCopies: 4,
    },
    onlineAugment: null,
    mixup: null,
    labelSmoothing: 0,
    earlyStopping: { patience: null, monitor: 'uar' },
    valFraction: 0,
    ensemble: 3,
    testWarps: [0.92, 0.96, 1, 1.04, 1.08],
  },
} satisfies Record<string, Recipe>);

/** Names of the built-in recipes. */
export function recipeNames(): string[] {
  return Object.keys(RECIPES);
}

/** Overrides a caller may apply on top of a named recipe (CLI flags, experiment grids). */
export interface RecipeOverrides {
  epochs?: number;
  lr?: number;
  batchSize?: number;
  patience?: number | null;
  valFraction?: number;
}

/** A deep copy of a built-in recipe with overrides applied; throws `recipe/unknown` naming the valid ones. */
export function getRecipe(name: string, overrides: RecipeOverrides = {}): Recipe {
  const base = RECIPES[name];
  if (!base) {
    throw new SerError('recipe/unknown', `unknown recipe '${name}' (known: ${recipeNames().join(', ')})`);
  }
  return applyOverrides(structuredClone(base) as Recipe, overrides);
}

/** Returns `recipe` with overrides applied (a new object) and validated. */
export function applyOverrides(recipe: Recipe, o: RecipeOverrides): Recipe {
  const r: Recipe = structuredClone(recipe);
  if (o.epochs !== undefined) r.epochs = o.epochs;
  if (o.lr !== undefined) r.lr = o.lr;
  if (o.batchSize !== undefined) r.batchSize = o.batchSize;
  if (o.patience !== undefined) r.earlyStopping = { ...r.earlyStopping, patience: o.patience };
  if (o.valFraction !== undefined) r.valFraction = o.valFraction;
  validateRecipe(r);
  return r;
}

/** Checks the numeric fields of a recipe; throws `recipe/invalid` naming the field. */
export function validateRecipe(r: Recipe): void {
  const bad = (field: string, why: string): never => {
    throw new SerError('recipe/invalid', `recipe '${r.name}': ${field} ${why}`);
  };
  if (!Number.isInteger(r.epochs) || r.epochs < 1) bad('epochs', `must be a positive integer, got ${r.epochs}`);
  if (!(r.lr > 0) || !Number.isFinite(r.lr)) bad('lr', `must be a positive number, got ${r.lr}`);
  if (!Number.isInteger(r.batchSize) || r.batchSize < 1) bad('batchSize', `must be a positive integer, got ${r.batchSize}`);
  if (!(r.valFraction >= 0 && r.valFraction < 1)) bad('valFraction', `must be in [0, 1), got ${r.valFraction}`);
  if (!Number.isInteger(r.input.frames) || r.input.frames < 1) bad('input.frames', `must be a positive integer, got ${r.input.frames}`);
  const p = r.earlyStopping.patience;
  if (p !== null && (!Number.isInteger(p) || p < 1)) bad('earlyStopping.patience', `must be a positive integer or null, got ${p}`);
  if (r.labelSmoothing < 0 || r.labelSmoothing >= 1) bad('labelSmoothing', `must be in [0, 1), got ${r.labelSmoothing}`);
  if (r.ensemble !== undefined && (!Number.isInteger(r.ensemble) || r.ensemble < 1)) bad('ensemble', `must be a positive integer, got ${r.ensemble}`);
  if ((r.ensemble ?? 1) > 1 && r.arch !== 'ser-mlp') bad('ensemble', `is supported for the ser-mlp architecture only, not '${r.arch}'`);
  if (r.ensembleCopies !== undefined && !ENSEMBLE_COPIES.includes(r.ensembleCopies)) {
    bad('ensembleCopies', `must be 'shared' or 'member', got ${JSON.stringify(r.ensembleCopies)}`);
  }
  if (r.testWarps !== undefined) {
    const w = r.testWarps;
    if (!isWarpList(w)) bad('testWarps', `must be a non-empty list of positive warp factors, got ${JSON.stringify(w)}`);
    if (!w.includes(1)) bad('testWarps', `must include 1 (the plain features), got ${JSON.stringify(w)}`);
    if (r.features.representation !== 'utterance-stats') bad('testWarps', `needs utterance-stats features (features.representation), not '${r.features.representation ?? 'logmel'}'`);
  }
}

/**
 * Whether two recipes are the same configuration, whatever they are called (names and descriptions aside,
 * and the fields of `ignore`), compared by what JSON keeps of them (field order and undefined fields aside).
 */
export function sameConfiguration(a: Recipe, b: Recipe, ignore: readonly (keyof Recipe)[] = []): boolean {
  const strip = (r: Recipe): unknown => {
    const o: Partial<Recipe> = { ...r };
    for (const k of ['name', 'description', ...ignore] as const) delete o[k];
    return JSON.parse(JSON.stringify(o));
  };
  return isDeepStrictEqual(strip(a), strip(b));
}

/**
 * Seeds of ensemble member `k` (0-based) of a run seeded `seed`: its weights' seed (`seed + k`) and its
 * offline copies' seed (`seed` for every member when the recipe's `ensembleCopies` is 'shared', the
 * default; `seed + k` when 'member'). Member 0 is the one-model run either way.
 */
export function memberSeeds(recipe: Recipe, seed: number, k: number): { seed: number; augmentSeed: number } {
  return { seed: seed + k, augmentSeed: recipe.ensembleCopies === 'member' ? seed + k : seed };
}

// ---- recipes as files ------------------------------------------------------------------------------

type Shape = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'null' | 'array' | 'absent';
// every field of the augmentation types, checked by the compiler (a new field must be added here)
const OFFLINE_FIELDS: Record<keyof OfflineAugment, true> = {
  copies: true, p: true, noiseStd: true, pitchSemitones: true, pitchShift: true, freqMask: true, timeMask: true, melWarp: true, channel: true, warpOnlyCopies: true,
};
const ONLINE_FIELDS: Record<keyof OnlineAugment, true> = {
  specAugment: true, tilt: true, eq: true, warp: true, speed: true, noise: true, gain: true, study: true,
};
const AUGMENT_KEYS = { offline: Object.keys(OFFLINE_FIELDS), online: Object.keys(ONLINE_FIELDS) };
/** Every top-level field of a recipe and the JSON types it takes. */
const RECIPE_FIELDS: Readonly<Record<keyof Recipe, Shape[]>> = {
  name: ['string'], description: ['string'], arch: ['string'], archOptions: ['object'], features: ['object'],
  input: ['object'], normalization: ['string'], batchSize: ['integer'], lr: ['number'], epochs: ['integer'],
  optimizer: ['object'], offlineAugment: ['object', 'null'], onlineAugment: ['object', 'null'], mixup: ['object', 'null'],
  labelSmoothing: ['number'], earlyStopping: ['object'], valFraction: ['number'], ensemble: ['integer', 'absent'],
  ensembleCopies: ['string', 'absent'], testWarps: ['array', 'absent'],
};

function shapeOf(v: unknown): Shape {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as Shape;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return shapeOf(v) === 'object';
}

/** `over` merged into `base`: objects field by field, everything else (arrays, null, values) replaced. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v);
  return out;
}

/**
 * `base` with `patch` applied the way a recipe file's fields apply to the recipe it extends (objects
 * merge field by field; arrays, values and null replace), checked like a recipe file: how
 * `ser evaluate --candidates` makes its variants. `source` names the patch in errors.
 */
export function patchRecipe(base: Recipe, patch: Record<string, unknown>, source: string): Recipe {
  return parseRecipe(deepMerge(structuredClone(base), patch), source);
}

/**
 * A recipe from parsed JSON (`source` names it in errors): a whole recipe, or `"extends": "<built-in
 * name>"` plus the fields that differ (objects merge field by field; arrays and values replace). Every
 * field is checked — unknown fields (typos), wrong types, unknown architectures, enums, feature
 * parameters — and the result is a complete `Recipe`. Throws `recipe/invalid` naming the field.
 */
export function parseRecipe(value: unknown, source: string): Recipe {
  const bad = (field: string, why: string): never => {
    throw new SerError('recipe/invalid', `${source}: ${field} ${why}`);
  };
  if (!isPlainObject(value)) return bad('the recipe', 'must be a JSON object');
  const { extends: parent, ...fields } = value;
  // a copy: parsing normalises (a null that removed a parent's field is dropped) and never changes the caller's object
  let merged: Record<string, unknown> = structuredClone(fields);
  if (parent !== undefined) {
    if (typeof parent !== 'string') return bad('extends', `must be the name of a built-in recipe, got ${JSON.stringify(parent)}`);
    if (!RECIPES[parent]) return bad('extends', `'${parent}' is not a built-in recipe (known: ${recipeNames().join(', ')})`);
    merged = deepMerge(structuredClone(RECIPES[parent]), fields) as Record<string, unknown>;
    if (fields.name === undefined) merged.name = `${parent}+${source.replace(/^.*[\\/]/, '').replace(/\.json$/i, '')}`;
  }
  for (const k of Object.keys(merged)) if (!(k in RECIPE_FIELDS)) bad(k, `is not a recipe field (fields: extends, ${Object.keys(RECIPE_FIELDS).join(', ')})`);
  for (const [k, shapes] of Object.entries(RECIPE_FIELDS)) {
    if (!(k in merged)) {
      if (shapes.includes('absent')) continue;
      bad(k, 'is missing (give it, or start from a built-in recipe with "extends")');
    }
    const s = shapeOf(merged[k]);
    if (!shapes.includes(s) && !(s === 'integer' && shapes.includes('number'))) bad(k, `must be ${shapes.join(' or ')}, got ${JSON.stringify(merged[k])}`);
  }
  const r = merged as unknown as Recipe;
  const oneOf = (field: string, v: unknown, allowed: readonly unknown[]): void => {
    if (!allowed.includes(v)) bad(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(v)}`);
  };
  const keysIn = (field: string, o: object, allowed: readonly string[]): void => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`${field}.${k}`, `is not a field of ${field} (fields: ${allowed.join(', ')})`);
  };
  try {
    checkArch(r.arch);
  } catch (e) {
    bad('arch', (e as Error).message);
  }
  keysIn('input', r.input, ['mode', 'frames']);
  oneOf('input.mode', r.input.mode, ['variable', 'resized']);
  oneOf('normalization', r.normalization, ['utterance', 'utterance-band', 'none']);
  if (r.ensembleCopies !== undefined) oneOf('ensembleCopies', r.ensembleCopies, ENSEMBLE_COPIES);
  keysIn('optimizer', r.optimizer, ['name', 'weightDecay', 'schedule', 'warmupEpochs']);
  oneOf('optimizer.name', r.optimizer.name, ['adam', 'adamw']);
  oneOf('optimizer.schedule', r.optimizer.schedule, ['constant', 'cosine']);
  if (!(r.optimizer.weightDecay >= 0)) bad('optimizer.weightDecay', `must be a number >= 0, got ${JSON.stringify(r.optimizer.weightDecay)}`);
  if (!(Number.isInteger(r.optimizer.warmupEpochs) && r.optimizer.warmupEpochs >= 0)) bad('optimizer.warmupEpochs', `must be an integer >= 0, got ${JSON.stringify(r.optimizer.warmupEpochs)}`);
  keysIn('earlyStopping', r.earlyStopping, ['patience', 'monitor']);
  oneOf('earlyStopping.monitor', r.earlyStopping.monitor, ['accuracy', 'uar', 'loss']);
  if (r.offlineAugment) {
    keysIn('offlineAugment', r.offlineAugment, AUGMENT_KEYS.offline);
    const ch = r.offlineAugment.channel;
    if (ch !== undefined && ch !== null && !isPlainObject(ch)) bad('offlineAugment.channel', `must be an object or null, got ${JSON.stringify(ch)}`);
    if (ch) keysIn('offlineAugment.channel', ch, CHANNEL_OPS);
    const rv = ch?.reverb as Record<string, unknown> | undefined;
    if (rv && (rv.wet == null) === (rv.drrDb == null)) {
      bad('offlineAugment.channel.reverb', `needs exactly one of wet and drrDb (the tail's level), got ${JSON.stringify(rv)}; in a patch, "wet": null removes the recipe's wet`);
    }
    // a null only removes the parent's field: the recipe holds the one that is set
    if (rv) for (const k of ['wet', 'drrDb']) if (rv[k] === null) delete rv[k];
    oneOf('offlineAugment.pitchShift', r.offlineAugment.pitchShift, ['waveform', 'mel-warp']);
    for (const k of ['copies', 'p', 'noiseStd', 'pitchSemitones'] as const) if (typeof r.offlineAugment[k] !== 'number') bad(`offlineAugment.${k}`, 'must be a number');
    const w = r.offlineAugment.warpOnlyCopies;
    if (w !== undefined && !(Number.isInteger(w) && w >= 0)) bad('offlineAugment.warpOnlyCopies', `must be an integer >= 0, got ${JSON.stringify(w)}`);
    if (w && r.offlineAugment.melWarp === undefined) bad('offlineAugment.warpOnlyCopies', 'needs melWarp (the copies it adds are the warp without the channel)');
    for (const k of ['freqMask', 'timeMask'] as const) {
      const v = r.offlineAugment[k] as unknown;
      if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number')) bad(`offlineAugment.${k}`, `must be [lo, hi], got ${JSON.stringify(v)}`);
    }
  }
  if (r.onlineAugment) {
    keysIn('onlineAugment', r.onlineAugment, AUGMENT_KEYS.online);
    for (const [k, v] of Object.entries(r.onlineAugment)) if (!isPlainObject(v) || typeof v.p !== 'number') bad(`onlineAugment.${k}`, 'must be an object with a probability p');
  }
  if (r.mixup) {
    keysIn('mixup', r.mixup, ['alpha', 'p']);
    if (!(r.mixup.alpha > 0) || !(r.mixup.p >= 0 && r.mixup.p <= 1)) bad('mixup', `needs alpha > 0 and p in [0, 1], got ${JSON.stringify(r.mixup)}`);
  }
  try {
    validateFeatureParams(featureParams(r.features));
  } catch (e) {
    bad('features', (e as Error).message);
  }
  keysIn('features', r.features, [...Object.keys(DEFAULT_FEATURE_PARAMS), 'representation', 'statsBands', 'statsLevelNorm', 'statsModulation', 'melWarp']);
  try {
    validateRecipe(r);
  } catch (e) {
    bad('the recipe', (e as Error).message);
  }
  return r;
}

/** Reads a recipe JSON file (see `parseRecipe`); throws `recipe/not-found`, `recipe/bad-json` or `recipe/invalid`. */
export function loadRecipeFile(path: string): Recipe {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SerError('recipe/not-found', `${path}: cannot read the recipe file (${(e as Error).message})`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SerError('recipe/bad-json', `${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return parseRecipe(value, path);
}

/** A built-in recipe by name, or a recipe file when `nameOrPath` ends in .json; overrides applied. */
export function resolveRecipe(nameOrPath: string, overrides: RecipeOverrides = {}): Recipe {
  if (/\.json$/i.test(nameOrPath)) return applyOverrides(loadRecipeFile(nameOrPath), overrides);
  return getRecipe(nameOrPath, overrides);
}
