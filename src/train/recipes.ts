/**
 * Training recipes as data (SpeechBrain style): a recipe is a plain declared object — the
 * architecture and its options, feature parameters, input mode, batch size, learning rate,
 * epochs, optimizer, augmentation (offline copies and/or on-the-fly ops with probabilities),
 * mixup, normalisation and early stopping. The training loop (`loop.ts`) is generic and only
 * reads these fields; a new experiment is a new object, not new code.
 */
import type { FeatureParams } from '../features/params.js';
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
}

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
    archOptions: {},
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
      'ser-stats made for audio as it arrives: every input resampled to 16 kHz (the same 46 ms window and 11.6 ms hop as the ' +
      "study's 2048/512 at 44.1 kHz), and each of the 4 offline copies passed through a random channel before its features are " +
      'recomputed — room reverberation, microphone EQ, coloured noise, babble of other training speakers, telephone line, ' +
      'codec-like band limits, lower recording rates, gain — on top of the mel-axis + F0 warp.',
    arch: 'ser-mlp',
    archOptions: { hidden: 64, inputDropout: 0.2, dropout: 0.5, standardize: true },
    features: {
      sampleRate: 16000, nFft: 1024, winLength: 743, hopLength: 186, fmax: 8000,
      preprocess: 'none', representation: 'utterance-stats', statsBands: 32, statsLevelNorm: 'p95',
    },
    input: { mode: 'variable', frames: 1 },
    normalization: 'none',
    batchSize: 64,
    lr: 0.003,
    epochs: 20,
    optimizer: { name: 'adam', weightDecay: 0, schedule: 'constant', warmupEpochs: 0 },
    offlineAugment: {
      copies: 4, p: 1, noiseStd: 0, pitchSemitones: 0, pitchShift: 'waveform', freqMask: [0, 0], timeMask: [0, 0], melWarp: 0.12,
      channel: {
        reverb: { p: 0.3, rt60: [0.2, 1.0], wet: [0.2, 0.6] },
        eq: { p: 0.4 },
        noise: { p: 0.3, snrDb: [5, 30], exponent: [0, 2] },
        babble: { p: 0.2, snrDb: [5, 25], talkers: [3, 7] },
        telephone: { p: 0.15, jitter: 0.1 },
        codec: { p: 0.15, cutoffHz: [3500, 7500] },
        resample: { p: 0.15, rates: [8000, 11025, 12000] },
        gain: { p: 0.3, maxDb: 20 },
      },
    },
    onlineAugment: null,
    mixup: null,
    labelSmoothing: 0,
    earlyStopping: { patience: null, monitor: 'uar' },
    valFraction: 0,
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
}
