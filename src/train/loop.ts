/**
 * The generic training loop. Everything it does is read from a `Recipe`:
 *
 *   const result = await train(getRecipe('seed-cnn3'), data, { out: 'runs/a', valData, seed: 42 });
 *
 * Per epoch: on-the-fly augmentation → normalisation → (resize) → length-bucketed batches in a
 * seeded order → `trainer.trainBatch` → validation metrics → checkpoint (atomic) → early
 * stopping on validation. Every random draw of epoch e comes from a generator derived from
 * (seed, e), so the run is a pure function of (recipe, data, seed): `resume` reloads the last
 * checkpoint (trainer state + epoch + history + best-validation state) and finishes with the
 * same weights as an uninterrupted run.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Spectrogram } from '../features/types.js';
import { featureParams } from '../features/params.js';
import { melRange } from '../features/mel.js';
import { SerError } from '../util/errors.js';
import { ensureDir, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { createProgress, type Progress } from '../util/progress.js';
import { createRng, type Rng } from '../util/rng.js';
import { lineChart } from '../util/plot/index.js';
import { argmax, evaluatePredictions, type ConfusionMatrix } from '../eval/metrics.js';
import type { Recipe } from './recipes.js';
import type { ChannelAugment } from '../data/augment.js';
import { lengthBucketedBatches } from './batches.js';
import { featureStandardization } from '../model/standardize.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { createTrainer, saveTrainedModel, type Trainer, type TrainerFactory } from './trainer.js';
import { normalize, resizeFrames, softTargets } from './input.js';
import { augmentOffline, augmentOnline, mixSpectrograms, sampleBeta } from '../data/augment.js';

/** Spectrograms (dB, un-normalised, as the feature cache gives them) with integer labels. */
export interface LabeledSpecs {
  specs: Spectrogram[];
  labels: number[];
  /** Optional ids (file paths) for reports. */
  ids?: string[];
}

/** Training data: labelled spectrograms plus the label names (index order). */
export interface TrainData extends LabeledSpecs {
  labelNames: string[];
}

/** Metrics of one evaluation set at one epoch. */
export interface SetMetrics {
  loss: number;
  accuracy: number;
  uar: number;
  macroF1: number;
  confusion: ConfusionMatrix;
}

/** One line of the training log. */
export interface EpochRecord {
  epoch: number;
  lr: number;
  loss: number;
  val: SetMetrics | null;
  /** Extra sets evaluated for reporting only (never used for selection), e.g. `test`. */
  extra: Record<string, SetMetrics>;
  seconds: number;
}

export interface TrainOptions {
  /** Output folder (checkpoint, log.json, training-curves.svg, model folder). None: nothing written. */
  out?: string;
  /** Overrides recipe.epochs / recipe.lr. */
  epochs?: number;
  lr?: number;
  seed?: number;
  /** Continue from `out/checkpoint.ckpt` if it exists. */
  resume?: boolean;
  /** Validation set: drives early stopping and best-weights selection. */
  valData?: LabeledSpecs | null;
  /** Sets evaluated after every epoch for reporting only (e.g. the test set for the study's optimistic figure). */
  reportData?: Record<string, LabeledSpecs>;
  onEpoch?: (rec: EpochRecord) => void | Promise<void>;
  /** Progress bar on stderr (default true). */
  progress?: boolean | NodeJS.WritableStream;
  /** How to build the trainer; default: `createTrainer` (trainer.ts). */
  createTrainer?: TrainerFactory;
  /** Save the model folder (+ metadata.json) into `out` at the end (default true when `out` is set). */
  saveModel?: (dir: string, trainer: Trainer, metadata: Record<string, unknown>) => Promise<void>;
  /** Extra metadata fields (feature params, data summary, ...). */
  metadata?: Record<string, unknown>;
  /** Trainer replicas (default: the machine's cores, see `createTrainer`). */
  threads?: number;
  backend?: string;
  /** Audio-based pitch shift for offline augmentation (see `expandOffline`); without it the mel axis is warped. */
  pitchSource?: PitchShiftSource;
  /** Test hook: stop (as if killed) after this many epochs of this call. */
  stopAfterEpochs?: number;
  /**
   * Seed of the offline augmented copies (default: `seed`); an ensemble's members get theirs from
   * `memberSeeds` (recipes.ts).
   */
  augmentSeed?: number;
}

export interface TrainResult {
  trainer: Trainer;
  history: EpochRecord[];
  /** Epoch whose weights the trainer holds (best on validation, or the last without validation). */
  selectedEpoch: number;
  stoppedEarly: boolean;
  epochsRun: number;
  seconds: number;
  metadata: Record<string, unknown>;
}

interface CheckpointData {
  version: 1;
  recipe: string;
  seed: number;
  epochs: number;
  /** Epochs completed. */
  epoch: number;
  trainerState: unknown;
  bestState: unknown;
  bestEpoch: number;
  bestScore: number;
  sinceBest: number;
  history: EpochRecord[];
  /** Every epoch draws from createRng(`${seed}/epoch/${e}`): its state is (seed, epoch). */
  rng: { scheme: 'per-epoch'; seed: number; next: number };
  seconds: number;
}

export const CHECKPOINT_FILE = 'checkpoint.ckpt';

/** The generator of epoch `e` (1-based) for `seed`. */
export function epochRng(seed: number, epoch: number): Rng {
  return createRng(`${seed}/epoch/${epoch}`);
}

/** Learning rate of epoch `e` (1-based) under the recipe's schedule. */
export function learningRateAt(recipe: Recipe, lr: number, epoch: number, epochs: number): number {
  const w = recipe.optimizer.warmupEpochs;
  if (w > 0 && epoch <= w) return (lr * epoch) / (w + 1);
  if (recipe.optimizer.schedule === 'cosine') {
    const span = Math.max(1, epochs - w);
    const t = Math.min(1, (epoch - w - 1) / span);
    return lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)));
  }
  return lr;
}

/** Normalises (and resizes, for 'resized' recipes) one spectrogram as the network sees it. */
export function prepareInput(s: Spectrogram, recipe: Recipe): Spectrogram {
  const n = normalize(s, recipe.normalization);
  return recipe.input.mode === 'resized' ? resizeFrames(n, recipe.input.frames) : n;
}

/** A channel augmentation to apply to the audio before features, drawn from the generator seeded with `seed`. */
export interface ChannelDraw {
  aug: ChannelAugment;
  seed: string;
}

/**
 * Features of training item `index` after shifting its audio by `semitones` (waveform pitch shift,
 * or a mel-axis / F0 warp for utterance statistics) and, when given, passing it through `channel`.
 */
export type PitchShiftSource = (index: number, semitones: number, channel?: ChannelDraw) => Promise<Spectrogram>;

/**
 * Expands training data with the recipe's offline augmented copies (originals first).
 * Deterministic in `seed`. With `pitchSource` and `pitchShift: 'waveform'` the pitch-shift op
 * works on the audio; otherwise on the mel axis.
 */
export async function expandOffline(data: LabeledSpecs, recipe: Recipe, seed: number, pitchSource?: PitchShiftSource): Promise<LabeledSpecs> {
  const aug = recipe.offlineAugment;
  if (!aug || aug.copies < 1) return data;
  const useWave = aug.pitchShift === 'waveform' && pitchSource !== undefined;
  const rng = createRng(`${seed}/offline`);
  const warp = aug.melWarp;
  if ((warp !== undefined || aug.channel) && !pitchSource) {
    throw new SerError('train/no-audio', `recipe '${recipe.name}': offlineAugment.melWarp / channel recompute features from the audio and need a pitchSource (train with the corpus files)`);
  }
  const { fmax } = melRange(featureParams(recipe.features));
  const specs = [...data.specs];
  const labels = [...data.labels];
  const ids = data.ids ? [...data.ids] : undefined;
  const warpOnly = aug.channel && warp !== undefined ? aug.warpOnlyCopies ?? 0 : 0;
  for (let c = 0; c < aug.copies + warpOnly; c++) {
    for (let i = 0; i < data.specs.length; i++) {
      if ((warp !== undefined || aug.channel) && pitchSource) {
        // feature-domain warp: factor U(1 − w, 1 + w), passed as semitones; the source recomputes the features,
        // after the channel augmentation (if any) drawn from its own seeded stream
        // with a channel, every copy's draws come from a generator named by the item's id (its file), so the
        // same file gets the same copies in every fold and the source can cache them
        const id = data.ids?.[i] ?? String(i);
        const r = aug.channel ? createRng(`${seed}/offline/${c}/${id}`) : rng;
        const semitones = warp !== undefined ? 12 * Math.log2(r.uniform(1 - warp, 1 + warp)) : 0;
        // copies after `copies` (warpOnlyCopies): the warp alone
        const channel = aug.channel && c < aug.copies ? { aug: aug.channel, seed: `${seed}/channel/${c}/${id}` } : undefined;
        specs.push(await pitchSource(i, semitones, channel));
      } else {
        specs.push(await augmentOffline(data.specs[i] as Spectrogram, aug, rng, fmax, useWave ? (st) => pitchSource(i, st) : undefined));
      }
      labels.push(data.labels[i] as number);
      ids?.push(`${data.ids?.[i] ?? i}#aug${c + 1}`);
    }
  }
  return { specs, labels, ids };
}

/** Predicts `set` in chunks and computes loss (cross-entropy) and metrics. */
export async function evaluateSet(
  trainer: Trainer,
  set: LabeledSpecs,
  recipe: Recipe,
  numClasses: number,
  prepared?: Spectrogram[],
): Promise<SetMetrics> {
  const inputs = prepared ?? set.specs.map((s) => prepareInput(s, recipe));
  const preds: number[] = [];
  let loss = 0;
  // similar lengths together keeps padding small
  const order = inputs.map((_, i) => i).sort((a, b) => inputs[a]!.frames - inputs[b]!.frames);
  const chunk = 16;
  const probsByIndex: Float32Array[] = new Array(inputs.length);
  for (let i = 0; i < order.length; i += chunk) {
    const idx = order.slice(i, i + chunk);
    const out = await trainer.predict(idx.map((j) => inputs[j] as Spectrogram));
    idx.forEach((j, q) => (probsByIndex[j] = out[q] as Float32Array));
  }
  for (let i = 0; i < inputs.length; i++) {
    const p = probsByIndex[i] as Float32Array;
    preds.push(argmax(p));
    loss -= Math.log(Math.max(1e-12, p[set.labels[i] as number] as number));
  }
  const e = evaluatePredictions(set.labels, preds, numClasses);
  return { loss: inputs.length ? loss / inputs.length : 0, accuracy: e.accuracy, uar: e.uar, macroF1: e.macroF1, confusion: e.confusion };
}

function score(m: SetMetrics, monitor: Recipe['earlyStopping']['monitor']): number {
  return monitor === 'loss' ? -m.loss : monitor === 'uar' ? m.uar : m.accuracy;
}

function checkData(data: LabeledSpecs, what: string, numClasses: number): void {
  if (data.specs.length !== data.labels.length) {
    throw new SerError('train/bad-data', `${what}: ${data.specs.length} spectrograms but ${data.labels.length} labels`);
  }
  data.labels.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new SerError('train/bad-data', `${what}: label ${l} of item ${data.ids?.[i] ?? i} is not a class index in 0..${numClasses - 1}`);
    }
  });
}

/** Runs (or resumes) a training run; see the file comment. */
export async function train(recipe: Recipe, data: TrainData, opts: TrainOptions = {}): Promise<TrainResult> {
  const t0 = Date.now();
  const seed = opts.seed ?? 42;
  const epochs = opts.epochs ?? recipe.epochs;
  const baseLr = opts.lr ?? recipe.lr;
  const numClasses = data.labelNames.length;
  if (data.specs.length === 0) throw new SerError('train/no-data', 'train: the training set is empty');
  checkData(data, 'training data', numClasses);
  if (opts.valData) checkData(opts.valData, 'validation data', numClasses);
  const rows = (data.specs[0] as Spectrogram).nMels;

  const factory = opts.createTrainer ?? createTrainer;
  const trainSet = await expandOffline(data, recipe, opts.augmentSeed ?? seed, opts.pitchSource);
  const archOptions = {
    ...recipe.archOptions, numClasses, rows, ...(recipe.input.mode === 'resized' ? { frames: recipe.input.frames } : {}),
    // archOptions.standardize: the model stores the training set's per-feature mean / std (src/model/standardize.ts)
    ...(recipe.archOptions.standardize === true ? featureStandardization(trainSet.specs.map((s) => prepareInput(s, recipe))) : {}),
  };
  const trainer = await factory({
    arch: recipe.arch,
    archOptions,
    lr: baseLr,
    seed,
    weightDecay: recipe.optimizer.weightDecay,
    threads: opts.threads,
    backend: opts.backend,
  });

  const valInputs = opts.valData ? opts.valData.specs.map((s) => prepareInput(s, recipe)) : null;
  const reportInputs: Record<string, Spectrogram[]> = {};
  for (const [k, v] of Object.entries(opts.reportData ?? {})) {
    checkData(v, `${k} data`, numClasses);
    reportInputs[k] = v.specs.map((s) => prepareInput(s, recipe));
  }
  // without augmentation the inputs are the same every epoch: prepare them once
  const staticInputs = recipe.onlineAugment ? null : trainSet.specs.map((s) => prepareInput(s, recipe));
  // top of the mel axis for the mel-domain augmentations (fmax, or Nyquist when fmax is null)
  const melTop = recipe.onlineAugment ? melRange(featureParams(recipe.features)).fmax : null;

  const ckptPath = opts.out ? join(opts.out, CHECKPOINT_FILE) : null;
  let history: EpochRecord[] = [];
  let startEpoch = 1;
  let bestState: unknown = null;
  let bestEpoch = 0;
  let bestScore = -Infinity;
  let sinceBest = 0;
  let priorSeconds = 0;
  if (opts.out) await ensureDir(opts.out);
  if (opts.resume && ckptPath && existsSync(ckptPath)) {
    const c = (await loadCheckpoint(ckptPath)) as CheckpointData;
    if (c.recipe !== recipe.name || c.seed !== seed) {
      throw new SerError(
        'train/resume-mismatch',
        `${ckptPath}: checkpoint is for recipe '${c.recipe}' seed ${c.seed}, not '${recipe.name}' seed ${seed}`,
      );
    }
    await trainer.setState(c.trainerState);
    history = c.history;
    startEpoch = c.epoch + 1;
    bestState = c.bestState;
    bestEpoch = c.bestEpoch;
    bestScore = c.bestScore;
    sinceBest = c.sinceBest;
    priorSeconds = c.seconds;
  }

  const patience = recipe.earlyStopping.patience;
  let stoppedEarly = patience !== null && sinceBest >= patience && startEpoch > 1;
  const steps = Math.ceil(trainSet.specs.length / recipe.batchSize);
  const progEnabled = opts.progress !== false;
  const progress: Progress = createProgress({
    total: Math.max(0, epochs - startEpoch + 1) * steps,
    label: `train ${recipe.name}`,
    unit: 'batches',
    enabled: progEnabled,
    ...(typeof opts.progress === 'object' ? { stream: opts.progress as NodeJS.WritableStream } : {}),
  });
  let ranThisCall = 0;

  for (let epoch = startEpoch; epoch <= epochs && !stoppedEarly; epoch++) {
    if (opts.stopAfterEpochs !== undefined && ranThisCall >= opts.stopAfterEpochs) break;
    const te = Date.now();
    const rng = epochRng(seed, epoch);
    const lr = learningRateAt(recipe, baseLr, epoch, epochs);
    trainer.setLearningRate(lr);
    const inputs = staticInputs ?? trainSet.specs.map((s) => prepareInput(augmentOnline(s, recipe.onlineAugment!, rng, melTop!), recipe));
    const batches = lengthBucketedBatches(inputs.map((s) => s.frames), recipe.batchSize, rng);
    let lossSum = 0;
    let count = 0;
    for (const b of batches) {
      let specs = b.map((i) => inputs[i] as Spectrogram);
      let targets = softTargets(b.map((i) => trainSet.labels[i] as number), numClasses, recipe.labelSmoothing);
      if (recipe.mixup && b.length > 1 && rng.chance(recipe.mixup.p)) {
        const lam = sampleBeta(recipe.mixup.alpha, rng);
        const perm = rng.shuffle(b.map((_, q) => q));
        const mixed = new Float32Array(targets.length);
        specs = specs.map((s, q) => mixSpectrograms(s, specs[perm[q] as number] as Spectrogram, lam));
        for (let q = 0; q < b.length; q++) {
          for (let k = 0; k < numClasses; k++) {
            mixed[q * numClasses + k] = lam * (targets[q * numClasses + k] as number) + (1 - lam) * (targets[(perm[q] as number) * numClasses + k] as number);
          }
        }
        targets = mixed;
      }
      const loss = await trainer.trainBatch(specs, targets);
      if (!Number.isFinite(loss)) {
        throw new SerError('train/diverged', `training diverged at epoch ${epoch} (loss ${loss}); try a lower --lr`);
      }
      lossSum += loss * b.length;
      count += b.length;
      progress.tick(1, { epoch: `${epoch}/${epochs}`, loss: lossSum / count });
    }
    const val = opts.valData && valInputs ? await evaluateSet(trainer, opts.valData, recipe, numClasses, valInputs) : null;
    const extra: Record<string, SetMetrics> = {};
    for (const [k, v] of Object.entries(opts.reportData ?? {})) extra[k] = await evaluateSet(trainer, v, recipe, numClasses, reportInputs[k]);
    const rec: EpochRecord = { epoch, lr, loss: count ? lossSum / count : 0, val, extra, seconds: (Date.now() - te) / 1000 };
    history.push(rec);
    if (val) {
      const s = score(val, recipe.earlyStopping.monitor);
      if (s > bestScore) {
        bestScore = s;
        bestEpoch = epoch;
        bestState = await trainer.getState();
        sinceBest = 0;
      } else {
        sinceBest++;
      }
      progress.tick(0, { 'val acc': val.accuracy });
      if (patience !== null && sinceBest >= patience) stoppedEarly = true;
    }
    if (ckptPath) {
      const c: CheckpointData = {
        version: 1,
        recipe: recipe.name,
        seed,
        epochs,
        epoch,
        trainerState: await trainer.getState(),
        bestState,
        bestEpoch,
        bestScore,
        sinceBest,
        history,
        rng: { scheme: 'per-epoch', seed, next: epoch + 1 },
        seconds: priorSeconds + (Date.now() - t0) / 1000,
      };
      await saveCheckpoint(ckptPath, c);
    }
    ranThisCall++;
    await opts.onEpoch?.(rec);
  }
  progress.finish();

  const finished = opts.stopAfterEpochs === undefined || ranThisCall < opts.stopAfterEpochs || stoppedEarly || history.length >= epochs;
  let selectedEpoch = history.length ? (history[history.length - 1] as EpochRecord).epoch : 0;
  if (finished && bestState !== null) {
    await trainer.setState(bestState);
    selectedEpoch = bestEpoch;
  }
  const seconds = priorSeconds + (Date.now() - t0) / 1000;
  const sel = history.find((h) => h.epoch === selectedEpoch);
  const metadata: Record<string, unknown> = {
    labels: data.labelNames,
    featureParams: featureParams(recipe.features),
    arch: recipe.arch,
    archOptions,
    recipe,
    input: recipe.input,
    normalization: recipe.normalization,
    seed,
    epochs,
    epochsRun: history.length,
    selectedEpoch,
    selection: bestState !== null ? `best validation ${recipe.earlyStopping.monitor}` : 'last epoch',
    stoppedEarly,
    trainingSeconds: seconds,
    data: { train: data.specs.length, trainWithAugmentation: trainSet.specs.length, validation: opts.valData?.specs.length ?? 0 },
    metrics: sel?.val ? { validation: { accuracy: sel.val.accuracy, uar: sel.val.uar, macroF1: sel.val.macroF1, loss: sel.val.loss } } : {},
    createdAt: new Date().toISOString(),
    ...opts.metadata,
  };
  if (opts.metadata?.data && typeof opts.metadata.data === 'object') {
    metadata.data = { trainWithAugmentation: trainSet.specs.length, ...(opts.metadata.data as Record<string, unknown>) };
  }
  if (opts.out && finished) {
    await writeJsonAtomic(join(opts.out, 'log.json'), { recipe: recipe.name, seed, selectedEpoch, stoppedEarly, seconds, history });
    await writeFileAtomic(join(opts.out, 'training-curves.svg'), trainingCurves(history, recipe.name));
    const save = opts.saveModel ?? saveTrainedModel;
    await save(opts.out, trainer, metadata);
  }
  return { trainer, history, selectedEpoch, stoppedEarly, epochsRun: history.length, seconds, metadata };
}

/** SVG with the training loss, validation loss and validation accuracy per epoch. */
export function trainingCurves(history: readonly EpochRecord[], title = 'training'): string {
  const x = history.map((h) => h.epoch);
  const series = [{ name: 'train loss', x, y: history.map((h) => h.loss) }];
  if (history.some((h) => h.val)) {
    series.push({ name: 'val loss', x, y: history.map((h) => h.val?.loss ?? Number.NaN) });
    series.push({ name: 'val accuracy', x, y: history.map((h) => h.val?.accuracy ?? Number.NaN) });
  }
  for (const k of Object.keys(history[0]?.extra ?? {})) series.push({ name: `${k} accuracy`, x, y: history.map((h) => h.extra[k]?.accuracy ?? Number.NaN) });
  return lineChart(series, { title: `${title}: loss and accuracy per epoch`, xLabel: 'epoch', markers: history.length <= 30 });
}
