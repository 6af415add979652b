/**
 * Robustness evaluation: accuracy, UAR and expected calibration error of a model under every test
 * condition (eval/conditions.ts), either for one trained model on a labelled folder, or inside
 * leave-one-speaker-out (LOSO) so the figures are unseen-speaker figures:
 *
 * - each fold trains the recipe (its `ensemble` of models, probabilities averaged) on the other speakers and
 *   classifies each held-out file on its own, under every condition;
 * - the calibration is fitted on out-of-fold predictions of held-out speakers (original audio plus one
 *   copy through the recipe's training channel augmentation — never a test condition) and its form chosen
 *   (one temperature, or one that depends on the raw prediction's entropy: `chooseCalibration`, by
 *   leave-one-speaker-out score), both fitted and chosen by the Brier score unless told otherwise
 *   (`calibrationObjective`; why, in model/calibration.ts), never with the test speaker's labels, and always on outputs of the same
 *   configuration (another's confidence runs on another scale). Fold k's is fitted on the held-out
 *   predictions of the OTHER outer folds that trained the same configuration — models trained on as many
 *   speakers as fold k's own (those models did train on fold k's speaker, as in any cross-fitted
 *   calibration; its labels never set the temperature). A nested run therefore trains every configuration on
 *   every outer fold, the ones a fold did not choose only to calibrate the folds that did (`alsoTrained`; since
 *   2026-12-08). Only where fewer than two other folds trained it (runs stored before that, with split choices)
 *   is it fitted on the inner out-of-fold predictions of fold k's training speakers — models trained on one
 *   speaker fewer, less like the model they calibrate (`calibrationGroups`);
 * - in nested runs the procedure — the form, fitted on all calibration sets or on original audio alone
 *   (`calibrationProcedures`) — is chosen per fold by its inner folds instead, scored where a calibration has
 *   to hold, under every test condition: each inner held-out speaker calibrated by the procedure fitted on the
 *   other inner speakers, the expected calibration error pooled per condition, averaged over the conditions
 *   (`innerProcedureScores`). The calibration sets hold none of the test conditions, so the leave-one-speaker-out score on them
 *   cannot see a form that serves clean speech and fails in noise;
 * - the figures are a pure function of the predictions (`scoreLoso`), so a stored run (predictions.json) can
 *   be re-scored without training;
 * - the report's one calibration (what a bundled model stores) is of the configuration chosen by most folds
 *   (ties: best mean inner score; one recipe: it), chosen and fitted on the held-out predictions of every
 *   fold that trained it (the inner out-of-fold predictions if fewer than two did);
 * - nothing is selected on the test speaker: the recipe is fixed before the run, or chosen by inner folds.
 */
import { resolve } from 'node:path';
import { readAudioBytes } from '../audio/load.js';
import { decodeAudio } from '../audio/decode.js';
import { resample } from '../audio/resample.js';
import type { AudioData } from '../audio/types.js';
import type { CorpusItem } from '../data/corpus.js';
import { applyChannel } from '../data/augment.js';
import { FeatureCache, cacheKey } from '../features/cache.js';
import { sha256Hex } from '../util/hash.js';
import { extractFeatures, extractWarpViews, featureKey, noiseFloorOf } from '../features/pipeline.js';
import { timeColumn } from '../features/reshape.js';
import { featureParams } from '../features/params.js';
import type { FeatureParams } from '../features/params.js';
import type { Spectrogram } from '../features/types.js';
import { CALIBRATION_FORMS, PROBABILITY_FORMS, calibrate, chooseCalibration, fitCalibration, type Calibration, type CalibrationChoice, type CalibrationForm, type CalibrationObjective } from '../model/calibration.js';
import { prepareInput, train, type PitchShiftSource } from '../train/loop.js';
import type { Trainer } from '../train/trainer.js';
import { memberSeeds, sameConfiguration, type Recipe } from '../train/recipes.js';
import { defaultCacheDir, pitchShiftSource, toLabeledSpecs } from '../train/dataset.js';
import { describeError, SerError } from '../util/errors.js';
import { createProgress } from '../util/progress.js';
import { createRng } from '../util/rng.js';
import { argmax, evaluatePredictions, expectedCalibrationError, expectedCalibrationErrorFloor, meanStd, reliabilityBins, type ReliabilityBin } from './metrics.js';
import { applyCondition, conditionCodeDigest, needsSox, soxVersion, type ConditionName } from './conditions.js';

/** Scores of one condition. */
export interface ConditionScore {
  condition: string;
  n: number;
  /** LOSO: mean over folds (± std); single model: over all files. */
  accuracy: number;
  accuracyStd?: number;
  uar: number;
  uarStd?: number;
  macroF1: number;
  /** Expected calibration error of the calibrated probabilities (pooled over folds), 15 bins. */
  ece: number;
  /** ECE of the raw (uncalibrated) probabilities. */
  eceRaw: number;
  /** What a perfectly calibrated model would show on these predictions from sampling alone (`expectedCalibrationErrorFloor`). */
  eceFloor: number;
  /** Mean top probability (calibrated). */
  meanConfidence: number;
  /** One of `--extra-conditions`: scored, never used for any choice (LOSO: neither the configuration's nor the calibration procedure's). */
  extra?: true;
  perFold?: Array<{ fold: string; n: number; accuracy: number; uar: number }>;
  reliability: ReliabilityBin[];
}

export interface RobustnessReport {
  mode: 'model' | 'loso';
  labels: string[];
  conditions: ConditionScore[];
  /**
   * The calibration applied (single model: the model's own, null if none). LOSO: the one a model trained
   * with this recipe should store: the overall choice's (one recipe: it), fitted on the held-out predictions
   * of every fold that trained it (`calibrationSources.report`; see the file comment).
   */
  calibration: Calibration | null;
  /** LOSO: which form won for `calibration`, what it was fitted by, and each form's leave-one-speaker-out NLL and Brier score (reports before 2026-12-07 09:00: NLL only, fitted by NLL). */
  calibrationChoice?: Omit<CalibrationChoice, 'calibration' | 'objective' | 'brier'> & Partial<Pick<CalibrationChoice, 'objective' | 'brier'>>;
  /**
   * LOSO, nested runs whose inner folds hold predictions under every condition (since 2026-12-07): each fold's
   * calibration form chosen by its inner folds' calibration error under the test conditions (see `scoreLoso`);
   * `calibrationChoice.form` is then `overall` here, and its leave-one-speaker-out scores are for reference.
   */
  calibrationProcedure?: CalibrationProcedure;
  /** LOSO: the calibration each fold's figures use (never fitted with that fold's speaker; see the file comment). */
  foldCalibrations?: Record<string, Calibration>;
  /**
   * LOSO: what each fold's calibration (`folds`) and the report's (`report`) were fitted on: 'outer' = the
   * held-out predictions of other outer folds that trained the same configuration, 'inner' = inner
   * out-of-fold predictions on the fold's training speakers (see the file comment); `alsoTrained`: configuration →
   * the outer folds that trained it without choosing it, for those calibrations (nested runs since 2026-12-08).
   */
  calibrationSources?: { folds: Record<string, CalibrationSource>; report: CalibrationSource; alsoTrained?: Record<string, string[]> };
  recipe?: string;
  /** LOSO: the whole configuration `calibration` belongs to (nested: the overall choice) — what `ser train --robustness` checks a recipe against. */
  configuration?: Recipe;
  /**
   * Nested selection: the configurations tried, the criterion, what each fold chose, the inner scores, and
   * the overall choice (chosen by most folds; ties: the best mean inner score) — the configuration to ship.
   */
  selection?: { candidates: string[]; criterion: string; chosen: Record<string, string>; innerScores: Record<string, Record<string, number>>; overall: string; members?: Record<string, number> };
  /** LOSO: models per fold whose probabilities are averaged (nested: the overall choice's). */
  seeds?: number;
  /** LOSO: the training seed (members' weights from seed, seed + 1, …; augmented copies from seed); absent in runs before 2026-12-07 14:00, which used 42. */
  seed?: number;
  files: number;
  skipped: number;
  /** Wall time of the run (re-scored: of the re-scoring). */
  seconds: number;
  /** Set when the figures were re-scored from a stored run's predictions (`losoRobustnessFromPredictions`): the file. */
  rescoredFrom?: string;
}

/** Which held-out predictions a LOSO calibration was fitted on (see `RobustnessReport.calibrationSources`). */
export type CalibrationSource = 'outer' | 'inner';

/** Held-out predictions: probabilities (rows), labels and, where the features give them, the inputs' noise floors (`noiseFloorOf`). */
export interface PredictionGroup { probs: Float32Array[]; labels: number[]; floors?: number[] }

/**
 * The groups (one per held-out speaker) a calibration of configuration `config` is fitted on: the outer
 * folds' held-out predictions of the folds in `folds` that trained `config` — those that chose it (`chosen`,
 * their predictions in `outer`) and those that trained it without choosing it, to calibrate the others
 * (`alsoTrained`, fold → predictions; nested runs since 2026-12-08) — when there are at least two of them (the
 * calibration's form is chosen by leaving one group out); else `inner`, out-of-fold predictions of inner folds
 * (models trained on one speaker fewer) — or, when there are none (no nested selection), the outer ones there are.
 */
export function calibrationGroups(
  config: string, folds: readonly string[], chosen: Readonly<Record<string, string>>,
  outer: ReadonlyMap<string, PredictionGroup>, inner: () => PredictionGroup[], alsoTrained?: ReadonlyMap<string, PredictionGroup>,
): { groups: PredictionGroup[]; source: CalibrationSource } {
  const same = folds.flatMap((f) => {
    const g = chosen[f] === config ? outer.get(f) : alsoTrained?.get(f);
    return g ? [g] : [];
  });
  if (same.length >= 2) return { groups: same, source: 'outer' };
  const groups = inner();
  return groups.length > 0 ? { groups, source: 'inner' } : { groups: same, source: 'outer' };
}

/**
 * Every prediction a LOSO robustness run made, to analyse without re-training (`ser evaluate --loso --out`
 * writes it as predictions.json): per outer fold its held-out files' raw (uncalibrated) probabilities under
 * each feature set, and per candidate its inner folds' out-of-fold predictions under every set as well
 * (what a nested choice among calibration procedures, scored on the test conditions of inner folds, needs).
 */
export interface LosoPredictions {
  labels: string[];
  /** The run's training seed (absent before 2026-12-07 14:00: 42). */
  seed?: number;
  sets: string[];
  /** `--extra-conditions`: predicted for the outer folds only (their `raw` holds them beside `sets`), never for inner folds. */
  extraSets?: string[];
  calibrationSets: string[];
  outer: Array<{ fold: string; configuration: string; files: string[]; labels: number[]; raw: Record<string, number[][]>; floors?: Record<string, number[]> }>;
  /** candidate → outer fold → inner held-out speaker → its files' labels, raw probabilities and (since 2026-12-07 17:30, utterance statistics only) the inputs' noise floors under each set. */
  inner: Record<string, Record<string, Record<string, { files: string[]; labels: number[]; raw: Record<string, number[][]>; floors?: Record<string, number[]> }>>>;
  /**
   * Nested runs since 2026-12-08: candidate → outer fold that did NOT choose it → its held-out predictions under
   * every set (extra conditions too) by the candidate trained on that fold's training speakers — used only to
   * calibrate the folds that chose the candidate (`calibrationGroups`), never in a fold's figures or a choice.
   */
  alsoTrained?: Record<string, Record<string, { files: string[]; labels: number[]; raw: Record<string, number[][]>; floors?: Record<string, number[]> }>>;
}

/** A float32 in the fewest decimal digits that read back as the same float32 (9 significant digits at most). */
const float32Text = (p: ArrayLike<number>): number[] => Array.from(p, (v) => {
  const f = Math.fround(v);
  for (let digits = 1; digits < 9; digits++) {
    const t = Number(f.toPrecision(digits));
    if (Math.fround(t) === f) return t;
  }
  return Number(f.toPrecision(9));
});
/**
 * Probabilities by feature set, as predictions.json stores them: every float32 exactly, so a re-score sees what the
 * run saw (files before 2026-12-07 15:30 hold 5 decimals).
 */
const rawJson = (raw: ReadonlyMap<string, Float32Array[]>): Record<string, number[][]> => Object.fromEntries([...raw].map(([k, v]) => [k, v.map(float32Text)]));
/** Noise floors by feature set, as predictions.json stores them (doubles: JSON keeps them exactly). */
const floorsJson = (floors: ReadonlyMap<string, number[]> | undefined): { floors?: Record<string, number[]> } => (floors ? { floors: Object.fromEntries(floors) } : {});

/** A labelled file with the features of every condition (null where a condition failed). */
interface Conditioned {
  item: CorpusItem;
  label: number;
  specs: Map<string, Spectrogram>;
  /** With `ConditionFeatureOptions.warps`: the statistics at each of those warps, one column per warp, by set. */
  views?: Map<string, Spectrogram>;
}

const audioMemo = new Map<string, AudioData>();
async function loadMemo(path: string): Promise<AudioData> {
  let a = audioMemo.get(path);
  if (!a) {
    a = await decodeAudio(await readAudioBytes(path), path);
    if (audioMemo.size > 2000) audioMemo.clear();
    audioMemo.set(path, a);
  }
  return a;
}

export interface ConditionFeatureOptions {
  cacheDir?: string | null;
  progress?: boolean;
  /** Extra feature sets: `'train-aug'` = one copy through this channel augmentation (for calibration). */
  calibrationAugment?: Recipe['offlineAugment'];
  onSkip?: (path: string, message: string) => void;
  /** Test-time warps (utterance-stats features; must include 1): also compute every set's statistics at each (`Conditioned.views`). */
  warps?: readonly number[];
}

/**
 * Features of every item under every condition (cached on disk by file content, condition and
 * feature parameters). Babble for an item is made from other speakers' files of the same list.
 */
export async function conditionFeatures(
  items: readonly CorpusItem[],
  labels: readonly string[],
  params: FeatureParams,
  conditions: readonly ConditionName[],
  opts: ConditionFeatureOptions = {},
): Promise<{ data: Conditioned[]; skipped: number }> {
  const cacheDir = opts.cacheDir === undefined ? defaultCacheDir() : opts.cacheDir;
  const cache = cacheDir === null ? null : new FeatureCache({ dir: resolve(cacheDir) });
  const extra = opts.calibrationAugment?.channel ? ['train-aug'] : [];
  const warps = opts.warps && opts.warps.length > 0 ? opts.warps : null;
  if (warps && !warps.includes(1)) throw new SerError('eval/bad-candidates', `test-time warps must include 1, got ${JSON.stringify(warps)}`);
  const bar = createProgress({ total: items.length, label: 'conditions', unit: 'files', enabled: opts.progress !== false });
  const out: Conditioned[] = [];
  let skipped = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const label = labels.indexOf(item.label);
    if (label < 0) { skipped++; opts.onSkip?.(item.path, `label '${item.label}' is not one of ${labels.join(', ')}`); bar.tick(); continue; }
    try {
      const bytes = await readAudioBytes(item.path);
      const fileHash = await sha256Hex(bytes);
      const specs = new Map<string, Spectrogram>();
      const views = new Map<string, Spectrogram>();
      let audio: AudioData | null = null;
      for (const cond of [...conditions, ...extra]) {
        // babble is made of other files of this list: which ones is part of the key (a subset of the folder makes other babble)
        const rng = cond === 'train-aug' ? createRng(`${fileHash}/train-aug`) : null;
        const poolPaths = cond === 'train-aug' ? babblePoolPaths(items, i, rng!.int(1e9)) : cond === 'babble-10db' ? babblePoolPaths(items, i, createRng(`${fileHash}/pool`).int(1e9)) : [];
        // the key holds the code that builds the conditions (and sox's version where sox builds them), and the training-style copy's channel
        const version = cond === 'train-aug' ? JSON.stringify(opts.calibrationAugment?.channel) : needsSox(cond) ? soxVersion() : '';
        const pool = poolPaths.length > 0 ? `|${await sha256Hex(poolPaths.map((p) => resolve(p)).join('|'))}` : '';
        const key = await cacheKey(await sha256Hex(`${fileHash}|condition|${cond}|${version}|${await conditionCodeDigest()}${pool}`), params);
        // the warped views under their own key (the plain features are their column at warp 1)
        const viewKey = warps ? await cacheKey(await sha256Hex(`${key}|views|${warps.join(',')}`), params) : null;
        let spec = cache?.get(key);
        let view = viewKey ? cache?.get(viewKey) : undefined;
        if (!spec || (viewKey && !view)) {
          audio ??= await loadMemo(item.path);
          let a: AudioData;
          const poolAudio = await loadPool(poolPaths, audio.sampleRate);
          if (cond === 'train-aug') {
            const sr = params.sampleRate ?? audio.sampleRate;
            const base = sr === audio.sampleRate ? audio.samples : resample(audio.samples, audio.sampleRate, sr);
            const poolAt = sr === audio.sampleRate ? poolAudio : poolAudio.map((p) => resample(p, audio!.sampleRate, sr));
            a = { ...audio, samples: applyChannel(base, sr, opts.calibrationAugment!.channel!, rng!, poolAt), sampleRate: sr };
          } else {
            a = await applyCondition(cond as ConditionName, audio, { seed: fileHash, babblePool: poolAudio });
          }
          if (warps) {
            view = extractWarpViews(a, params, warps);
            spec = timeColumn(view, warps.indexOf(1));
            cache?.put(viewKey!, view);
          } else {
            spec = extractFeatures(a, params);
          }
          cache?.put(key, spec);
        }
        specs.set(cond, spec);
        if (view) views.set(cond, view);
      }
      out.push({ item, label, specs, ...(warps ? { views } : {}) });
    } catch (e) {
      skipped++;
      opts.onSkip?.(item.path, describeError(e));
    }
    bar.tick();
  }
  bar.finish();
  return { data: out, skipped };
}

/** Paths of up to 8 utterances of other speakers (other files when speakers are unknown), drawn with `seed`. */
function babblePoolPaths(items: readonly CorpusItem[], self: number, seed: number): string[] {
  const me = items[self]!;
  const others = items.filter((it, j) => j !== self && (me.speaker == null || it.speaker !== me.speaker));
  const rng = createRng(seed);
  const paths: string[] = [];
  for (let t = 0; t < 8 && others.length > 0; t++) paths.push(others[rng.int(others.length)]!.path);
  return paths;
}

/** The audio of `paths` at `rate` (babble material). */
async function loadPool(paths: readonly string[], rate: number): Promise<Float32Array[]> {
  const pool: Float32Array[] = [];
  for (const p of paths) {
    const a = await loadMemo(p);
    pool.push(a.sampleRate === rate ? a.samples : resample(a.samples, a.sampleRate, rate, 'fast'));
  }
  return pool;
}

/** Scores per condition from probabilities (already calibrated) and the raw ones, grouped by fold. */
function scoreConditions(
  names: readonly string[],
  folds: ReadonlyArray<{ fold: string; labels: number[]; probs: Map<string, Float32Array[]>; raw: Map<string, Float32Array[]> }>,
  numClasses: number,
  extra: readonly string[] = [],
): ConditionScore[] {
  return [...names, ...extra].map((cond) => {
    const perFold = folds.map((f) => {
      const pred = f.probs.get(cond)!.map(argmax);
      const e = evaluatePredictions(f.labels, pred, numClasses);
      return { fold: f.fold, n: e.n, accuracy: e.accuracy, uar: e.uar, macroF1: e.macroF1 };
    });
    const allP = folds.flatMap((f) => f.probs.get(cond)!);
    const allR = folds.flatMap((f) => f.raw.get(cond)!);
    const allL = folds.flatMap((f) => f.labels);
    const acc = meanStd(perFold.map((f) => f.accuracy));
    const uar = meanStd(perFold.map((f) => f.uar));
    return {
      condition: cond,
      n: allL.length,
      accuracy: acc.mean,
      ...(folds.length > 1 ? { accuracyStd: acc.std } : {}),
      uar: uar.mean,
      ...(folds.length > 1 ? { uarStd: uar.std } : {}),
      macroF1: meanStd(perFold.map((f) => f.macroF1)).mean,
      ece: expectedCalibrationError(allP, allL),
      eceRaw: expectedCalibrationError(allR, allL),
      eceFloor: expectedCalibrationErrorFloor(allP),
      meanConfidence: allP.reduce((a, p) => a + Math.max(...p), 0) / Math.max(1, allP.length),
      ...(folds.length > 1 ? { perFold: perFold.map(({ fold, n, accuracy, uar }) => ({ fold, n, accuracy, uar })) } : {}),
      reliability: reliabilityBins(allP, allL),
      ...(extra.includes(cond) ? { extra: true as const } : {}),
    };
  });
}

/**
 * Probabilities of each file by the average of `trainers` over the file's `views` (its plain features, or
 * its statistics at each test-time warp) — each file alone, as `ser predict` does.
 */
async function ensemblePredict(trainers: readonly Trainer[], views: readonly (readonly Spectrogram[])[], recipe: Recipe): Promise<Float32Array[]> {
  const sum = views.map(() => new Float32Array(0));
  const K = views[0]?.length ?? 1;
  for (let v = 0; v < K; v++) {
    const inputs = views.map((vs) => prepareInput(vs[v]!, recipe));
    for (const t of trainers) {
      for (let i = 0; i < inputs.length; i += 32) {
        const out = await t.predict(inputs.slice(i, i + 32));
        out.forEach((p, q) => {
          const k = i + q;
          if (sum[k]!.length === 0) sum[k] = new Float32Array(p.length);
          for (let c = 0; c < p.length; c++) sum[k]![c]! += p[c]! / (trainers.length * K);
        });
      }
    }
  }
  return sum;
}

/** What `recipe` predicts a row from under `set`: its plain features, or their columns at its test-time warps (of `warps`, the run's union). */
function rowViews(d: Row, set: string, recipe: Recipe, warps: readonly number[]): Spectrogram[] {
  if (!recipe.testWarps) return [d.specs.get(set)!];
  const v = d.views?.get(set);
  if (!v) throw new Error(`rowViews: no test-time views of set ${set}`);
  return recipe.testWarps.map((w) => timeColumn(v, warps.indexOf(w)));
}

/** Whether two configurations train the same models (they may differ in name, description and test-time warps). */
export function sameTraining(a: Recipe, b: Recipe): boolean {
  return sameConfiguration(a, b, ['testWarps']);
}

export interface LosoRobustnessOptions {
  recipe: Recipe;
  /**
   * Other configurations to choose from (nested selection): for each held-out speaker, every
   * candidate (and `recipe`) is scored by an inner leave-one-speaker-out over the TRAINING speakers
   * only — criterion: mean UAR over the conditions, each inner fit the same ensemble as the outer one
   * (so ensemble options such as `ensemble` and `ensembleCopies` count) — and the winner is trained on all of them.
   * The held-out speaker never takes part in the choice. A candidate may have other feature parameters
   * than `recipe` (each set's condition features are built once, from the same conditioned audio).
   */
  candidates?: Recipe[];
  conditions: readonly ConditionName[];
  /** Further conditions scored on the held-out speakers only, after every choice: no inner fold predicts them (see `EXTRA_CONDITIONS`). */
  extraConditions?: readonly ConditionName[];
  /** Models per fold for every configuration; default: each configuration's own `ensemble` (1 if absent). */
  seeds?: number;
  /** Training seed (default 42): member k of an ensemble trains with seed + k, augmented copies are drawn from seed; the test conditions do not depend on it. */
  seed?: number;
  /** What calibrations are fitted and their form chosen by (default 'brier'). */
  calibrationObjective?: CalibrationObjective;
  /** How a nested run chooses each fold's calibration procedure (default 'inner'; see `CalibrationProcedureRule`). */
  calibrationProcedure?: CalibrationProcedureRule;
  /** Receives every prediction made (see `LosoPredictions`). */
  onPredictions?: (p: LosoPredictions) => void;
  cacheDir?: string | null;
  progress?: boolean;
  /** Lines of progress (skipped files, each fold's choice and score); default: stderr, above the progress bar. */
  onLog?: (line: string) => void;
  threads?: number;
}

type Row = Conditioned;

/**
 * Trains `recipes[0]` (`seeds` members; augmented copies per `memberSeeds`) on `train` and returns, for each of
 * `recipes` (configurations that train the same models, `sameTraining`: they differ in test-time warps only), the
 * averaged probabilities of every row of `test` under each of `sets`. Augmented copies come from `source`, built
 * over `pool` (rows whose audio may be used — as the items themselves and as babble). `warps`: the union of
 * the run's test-time warps (the columns of `Conditioned.views`).
 */
async function fitPredict(
  recipes: readonly Recipe[], params: FeatureParams, labels: readonly string[], train_: readonly Row[], test: readonly Row[], sets: readonly string[],
  pool: readonly Row[], seeds: number, seed: number, cacheDir: string | null | undefined, threads: number | undefined, onTrained: () => void,
  warps: readonly number[],
): Promise<Array<{ raw: Map<string, Float32Array[]>; floors?: Map<string, number[]> }>> {
  const recipe = recipes[0]!;
  if (!recipes.every((r) => sameTraining(r, recipe))) throw new Error('fitPredict: configurations that train different models');
  const poolItems = pool.map((d) => d.item);
  const index = new Map(poolItems.map((it, i) => [it.path, i]));
  const outer = pitchShiftSource(poolItems, params, cacheDir);
  const map = train_.map((d) => index.get(d.item.path)!);
  const source: PitchShiftSource = (i, st, ch) => outer(map[i]!, st, ch);
  const trainData = { ...toLabeledSpecs(train_.map((d) => ({ ...d.item, spec: d.specs.get('original')! })), labels), labelNames: [...labels] };
  const trainers: Trainer[] = [];
  for (let s = 0; s < seeds; s++) {
    const r = await train(recipe, trainData, { ...memberSeeds(recipe, seed, s), progress: false, threads, pitchSource: source });
    trainers.push(r.trainer);
    onTrained();
  }
  const floors = testFloors(test, sets, params);
  const results = [];
  for (const r of recipes) {
    const out = new Map<string, Float32Array[]>();
    for (const set of sets) out.set(set, await ensemblePredict(trainers, test.map((d) => rowViews(d, set, r, warps)), r));
    results.push({ raw: out, ...floors });
  }
  trainers.forEach((t) => t.dispose());
  return results;
}

/** The noise floor of every row of `test` under each of `sets` (`noiseFloorOf`), when the features give one. */
function testFloors(test: readonly Row[], sets: readonly string[], params: FeatureParams): { floors?: Map<string, number[]> } {
  const floors = new Map<string, number[]>();
  for (const set of sets) {
    const xs = test.map((d) => noiseFloorOf(d.specs.get(set)!, params));
    if (xs.some((x) => x === null)) return {};
    floors.set(set, xs as number[]);
  }
  return { floors };
}

const speakerOf = (d: Row): string => d.item.speaker ?? '?';
const sortSpeakers = (xs: Iterable<string>): string[] => [...new Set(xs)].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));

/** The configuration chosen by most folds; ties go to the best inner score averaged over the folds. */
export function overallChoice(chosen: Readonly<Record<string, string>>, innerScores: Readonly<Record<string, Readonly<Record<string, number>>>>): string {
  const votes = new Map<string, number>();
  for (const c of Object.values(chosen)) votes.set(c, (votes.get(c) ?? 0) + 1);
  const meanScore = (c: string): number => {
    const xs = Object.values(innerScores).map((s) => s[c] ?? Number.NEGATIVE_INFINITY);
    return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  };
  return [...votes.keys()].reduce((best, c) => {
    const d = votes.get(c)! - votes.get(best)!;
    return d > 0 || (d === 0 && meanScore(c) > meanScore(best)) ? c : best;
  });
}

/** The nested selection's criterion, in words (reports print it). */
export const SELECTION_CRITERION = 'mean UAR over the conditions, inner leave-one-speaker-out on the training speakers';

/** One held-out speaker's predictions: labels, raw (uncalibrated) probabilities and, where known, the inputs' noise floors under each feature set. */
export interface HeldOut { labels: number[]; raw: Map<string, Float32Array[]>; floors?: Map<string, number[]> }

/** A configuration's inner score (`SELECTION_CRITERION`): the mean UAR over its inner held-out speakers × the conditions they were scored under. */
export function selectionScore(heldOut: Iterable<HeldOut>, conditions: readonly string[], numClasses: number): number {
  const uars: number[] = [];
  for (const h of heldOut) for (const c of conditions) if (h.raw.has(c)) uars.push(evaluatePredictions(h.labels, h.raw.get(c)!.map(argmax), numClasses).uar);
  return uars.reduce((a, b) => a + b, 0) / Math.max(1, uars.length);
}

/** What a LOSO run predicted, as `scoreLoso` turns it into figures (in memory; predictions.json holds the same values). */
export interface LosoOutcome {
  labels: string[];
  conditions: string[];
  /** Conditions scored on the outer folds only, after every choice (`--extra-conditions`). */
  extraConditions?: string[];
  /** The sets calibrations are fitted on (original audio, and one training-style copy when the recipe has channel augmentation). */
  calibrationSets: string[];
  outer: Array<HeldOut & { fold: string }>;
  /** configuration → outer fold → inner held-out speaker → its predictions (nested runs; empty otherwise). */
  inner: Map<string, Map<string, Map<string, HeldOut>>>;
  /** Each outer fold's configuration. */
  chosen: Record<string, string>;
  /** Nested: outer fold → configuration → inner score (`SELECTION_CRITERION`). */
  innerScores: Record<string, Record<string, number>>;
  /** configuration → outer fold that did not choose it → its held-out predictions there (see `LosoPredictions.alsoTrained`). */
  alsoTrained?: Map<string, Map<string, HeldOut>>;
}

/** One way of calibrating: a form, fitted on these of the calibration sets. */
export interface CalibrationProcedureSpec { form: CalibrationForm; sets: string[] }

/**
 * The calibration procedures a fold chooses among: each form fitted on all the calibration sets (named by the
 * form) or, when there is a training-style copy among them, on original audio alone (named "<form> on original").
 */
export function calibrationProcedures(calibrationSets: readonly string[], withFloors = false): Record<string, CalibrationProcedureSpec> {
  const setChoices = calibrationSets.length > 1 && calibrationSets.includes('original') ? [[...calibrationSets], ['original']] : [[...calibrationSets]];
  const out: Record<string, CalibrationProcedureSpec> = {};
  for (const sets of setChoices) for (const form of withFloors ? CALIBRATION_FORMS : PROBABILITY_FORMS) out[sets.length === calibrationSets.length ? form : `${form} on ${sets.join('+')}`] = { form, sets };
  return out;
}

/** How each fold's calibration procedure was chosen when the inner folds hold predictions under every condition (see `scoreLoso`). */
export interface CalibrationProcedure {
  criterion: string;
  /** The procedures by name. */
  procedures: Record<string, CalibrationProcedureSpec>;
  /** outer fold → procedure → its inner score (lower is better). */
  scores: Record<string, Record<string, number>>;
  chosen: Record<string, string>;
  /** The report's (a bundled model's) procedure: chosen by most folds; ties: best mean score. */
  overall: string;
}

const CALIBRATION_PROCEDURE_CRITERION =
  'mean over the test conditions of the expected calibration error pooled over the inner held-out speakers, each calibrated by the procedure fitted on the other inner speakers';

/** A held-out speaker's predictions under `sets`, as one group to fit on. */
const calibGroupOf = (h: HeldOut, sets: readonly string[]): PredictionGroup => ({
  probs: sets.flatMap((c) => h.raw.get(c)!), labels: sets.flatMap(() => h.labels),
  ...(h.floors ? { floors: sets.flatMap((c) => h.floors!.get(c)!) } : {}),
});

/**
 * The inner score of each calibration procedure for one outer fold (`CALIBRATION_PROCEDURE_CRITERION`), or
 * null when the inner folds lack predictions under some condition (runs without nested selection, older
 * predictions.json files): then the form is chosen as `chooseCalibration` does, by leave-one-speaker-out
 * score on the calibration sets alone, and fitted on all of them.
 */
export function innerProcedureScores(
  byInner: ReadonlyMap<string, HeldOut> | undefined, conditions: readonly string[], procedures: Readonly<Record<string, CalibrationProcedureSpec>>, objective: CalibrationObjective,
): Record<string, number> | null {
  if (!byInner || byInner.size < 2) return null;
  if ([...byInner.values()].some((h) => conditions.some((c) => !h.raw.has(c)))) return null;
  const scores: Record<string, number> = {};
  for (const [name, { form, sets }] of Object.entries(procedures)) {
    const pooled = new Map(conditions.map((c) => [c, { probs: [] as Float32Array[], labels: [] as number[] }]));
    for (const [spk, h] of byInner) {
      const rest = [...byInner].filter(([s]) => s !== spk).map(([, g]) => calibGroupOf(g, sets));
      const cal = fitCalibration(rest.flatMap((g) => g.probs), rest.flatMap((g) => g.labels), form, objective, h.floors ? rest.flatMap((g) => g.floors!) : undefined);
      for (const c of conditions) {
        const acc = pooled.get(c)!;
        h.raw.get(c)!.forEach((p, i) => acc.probs.push(calibrate(p, cal, h.floors?.get(c)![i])));
        acc.labels.push(...h.labels);
      }
    }
    scores[name] = conditions.reduce((a, c) => a + expectedCalibrationError(pooled.get(c)!.probs, pooled.get(c)!.labels), 0) / conditions.length;
  }
  return scores;
}

/** The key of `scores` with the lowest value (first in `names` on ties). */
const lowest = (names: readonly string[], score: (n: string) => number): string => names.reduce((best, k) => (score(k) < score(best) ? k : best), names[0]!);

/**
 * A LOSO run's figures from its predictions (see the file comment): each fold's calibration (fitted by
 * `calibrationGroups`; its procedure chosen by the fold's inner folds under every test condition when they
 * hold them — `innerProcedureScores` — else its form by `chooseCalibration`, on all calibration sets), the
 * matrix, and the report's calibration (the overall configuration's). Pure: `ser evaluate --loso
 * --from-predictions` re-scores a stored run with it.
 */
/**
 * How a nested run's calibration procedure is chosen per fold: 'inner' — by the fold's inner folds' calibration error under every
 * test condition (`innerProcedureScores`; the default); 'loso' — as a run without nested selection does, the form by the
 * leave-one-speaker-out score of the calibration groups themselves (`chooseCalibration`), fitted on every calibration set.
 */
export type CalibrationProcedureRule = 'inner' | 'loso';
export const CALIBRATION_PROCEDURE_RULES: readonly CalibrationProcedureRule[] = ['inner', 'loso'];

export function scoreLoso(o: LosoOutcome, objective: CalibrationObjective, rule: CalibrationProcedureRule = 'inner'): {
  labels: string[]; conditions: ConditionScore[]; overall: string; calibration: Calibration; calibrationChoice: Omit<CalibrationChoice, 'calibration'>;
  calibrationProcedure?: CalibrationProcedure; foldCalibrations: Record<string, Calibration>; calibrationSources: NonNullable<RobustnessReport['calibrationSources']>;
} {
  const speakers = o.outer.map((f) => f.fold);
  // the noise-floor form only when every prediction has its input's noise floor (runs before 2026-12-07 17:30 do not)
  const withFloors = o.outer.every((f) => f.floors) && [...o.inner.values()].every((m) => [...m.values()].every((b) => [...b.values()].every((h) => h.floors)))
    && [...(o.alsoTrained?.values() ?? [])].every((m) => [...m.values()].every((h) => h.floors));
  const procedures = calibrationProcedures(o.calibrationSets, withFloors);
  const names = Object.keys(procedures);
  const byFittingSet = new Map<string, Map<string, PredictionGroup>>();
  const outerGroups = (sets: readonly string[]): Map<string, PredictionGroup> => {
    const key = sets.join('+');
    if (!byFittingSet.has(key)) byFittingSet.set(key, new Map(o.outer.map((f) => [f.fold, calibGroupOf(f, sets)])));
    return byFittingSet.get(key)!;
  };
  const innerGroups = (config: string, fold: string, sets: readonly string[]): PredictionGroup[] => [...(o.inner.get(config)?.get(fold)?.values() ?? [])].map((h) => calibGroupOf(h, sets));
  // the outer folds that trained a configuration without choosing it, as calibration groups
  const alsoGroups = (config: string, sets: readonly string[]): Map<string, PredictionGroup> =>
    new Map([...(o.alsoTrained?.get(config) ?? [])].map(([fold, h]) => [fold, calibGroupOf(h, sets)]));
  // the calibration procedure per fold, by its inner folds under every condition (when they have them)
  const procScores: Record<string, Record<string, number>> = {};
  if (rule === 'inner') {
    for (const f of o.outer) {
      const s = innerProcedureScores(o.inner.get(o.chosen[f.fold]!)?.get(f.fold), o.conditions, procedures, objective);
      if (s) procScores[f.fold] = s;
    }
  }
  const byProcedure = Object.keys(procScores).length === o.outer.length;
  const procedureOf = (fold: string): CalibrationProcedureSpec | null => (byProcedure ? procedures[lowest(names, (k) => procScores[fold]![k]!)]! : null);
  const foldCalibrations: Record<string, Calibration> = {};
  const sources: Record<string, CalibrationSource> = {};
  const scored = o.outer.map((f) => {
    // never this fold's speaker: the other outer folds of the same configuration, else this fold's inner folds
    const others = speakers.filter((s) => s !== f.fold);
    const proc = procedureOf(f.fold);
    const sets = proc?.sets ?? o.calibrationSets;
    const { groups, source } = calibrationGroups(o.chosen[f.fold]!, others, o.chosen, outerGroups(sets), () => innerGroups(o.chosen[f.fold]!, f.fold, sets), alsoGroups(o.chosen[f.fold]!, sets));
    const cal = chooseCalibration(groups, objective, proc?.form).calibration;
    foldCalibrations[f.fold] = cal;
    sources[f.fold] = source;
    const probs = new Map([...f.raw].map(([k, v]) => [k, v.map((p, i) => calibrate(p, cal, f.floors?.get(k)![i]))]));
    return { fold: f.fold, labels: f.labels, probs, raw: f.raw };
  });
  const nested = o.inner.size > 1;
  const overall = nested ? overallChoice(o.chosen, o.innerScores) : o.chosen[speakers[0]!]!;
  let procedure: CalibrationProcedure | undefined;
  if (byProcedure) {
    const chosen = Object.fromEntries(speakers.map((s) => [s, lowest(names, (k) => procScores[s]![k]!)]));
    // most folds, ties by the best mean score: `overallChoice`'s rule, with the scores negated (lower is better here)
    const best = overallChoice(chosen, Object.fromEntries(speakers.map((s) => [s, Object.fromEntries(names.map((k) => [k, -procScores[s]![k]!]))])));
    procedure = { criterion: CALIBRATION_PROCEDURE_CRITERION, procedures, scores: procScores, chosen, overall: best };
  }
  const reportSets = procedure ? procedures[procedure.overall]!.sets : o.calibrationSets;
  // the report's: every fold that trained the overall choice; else its inner predictions pooled by inner held-out speaker
  const pooledInner = (): PredictionGroup[] => {
    const bySpeaker = new Map<string, PredictionGroup>();
    for (const byInner of o.inner.get(overall)?.values() ?? []) {
      for (const [s, h] of byInner) {
        const g = calibGroupOf(h, reportSets);
        const prev = bySpeaker.get(s) ?? { probs: [], labels: [] };
        bySpeaker.set(s, { probs: [...prev.probs, ...g.probs], labels: [...prev.labels, ...g.labels] });
      }
    }
    return [...bySpeaker.values()];
  };
  const reportCal = calibrationGroups(overall, speakers, o.chosen, outerGroups(reportSets), pooledInner, alsoGroups(overall, reportSets));
  const { calibration, ...choice } = chooseCalibration(reportCal.groups, objective, procedure ? procedures[procedure.overall]!.form : undefined);
  return {
    labels: [...o.labels], conditions: scoreConditions(o.conditions, scored, o.labels.length, o.extraConditions), overall, calibration, calibrationChoice: choice,
    ...(procedure ? { calibrationProcedure: procedure } : {}),
    foldCalibrations, calibrationSources: {
      folds: sources, report: reportCal.source,
      ...(o.alsoTrained?.size ? { alsoTrained: Object.fromEntries([...o.alsoTrained].map(([c, m]) => [c, [...m.keys()]])) } : {}),
    },
  };
}

/**
 * A stored run's predictions.json as `scoreLoso` takes it: each fold's configuration from `outer`, inner
 * scores recomputed from the inner predictions (stored as the run's float32 values, so the re-score equals the run's
 * own figures; files before 2026-12-07 15:30 hold 5 decimals, and a re-score of them can differ in the last digits
 * and, where two choices nearly tie, in a choice). Files from before 2026-12-07 09:55
 * hold the inner folds' calibration sets only, concatenated in `probs`.
 */
export function outcomeFromPredictions(p: LosoPredictions): LosoOutcome {
  const toRaw = (r: Record<string, number[][]>): Map<string, Float32Array[]> => new Map(Object.entries(r).map(([k, v]) => [k, v.map((x) => Float32Array.from(x))]));
  const toFloors = (f: Record<string, number[]> | undefined): { floors?: Map<string, number[]> } => (f ? { floors: new Map(Object.entries(f)) } : {});
  const conditions = p.sets.filter((s) => s === 'original' || !p.calibrationSets.includes(s));
  const inner: LosoOutcome['inner'] = new Map();
  const innerScores: Record<string, Record<string, number>> = {};
  for (const [config, byOuter] of Object.entries(p.inner)) {
    const m = new Map<string, Map<string, HeldOut>>();
    inner.set(config, m);
    for (const [fold, byInner] of Object.entries(byOuter)) {
      const h = new Map<string, HeldOut>();
      m.set(fold, h);
      for (const [spk, g] of Object.entries(byInner) as Array<[string, { labels: number[]; raw?: Record<string, number[][]>; probs?: number[][]; floors?: Record<string, number[]> }]>) {
        let raw: Map<string, Float32Array[]>;
        let labels = g.labels;
        if (g.raw) raw = toRaw(g.raw);
        else {
          // the older format: the calibration sets one after another
          const n = g.labels.length / p.calibrationSets.length;
          labels = g.labels.slice(0, n);
          raw = new Map(p.calibrationSets.map((c, k) => [c, g.probs!.slice(k * n, (k + 1) * n).map((x) => Float32Array.from(x))]));
        }
        h.set(spk, { labels, raw, ...toFloors(g.floors) });
      }
      (innerScores[fold] ??= {})[config] = selectionScore(h.values(), conditions, p.labels.length);
    }
  }
  const alsoTrained = p.alsoTrained
    ? new Map(Object.entries(p.alsoTrained).map(([config, byFold]) => [config, new Map(Object.entries(byFold).map(([fold, g]) => [fold, { labels: g.labels, raw: toRaw(g.raw), ...toFloors(g.floors) }]))]))
    : undefined;
  return {
    labels: [...p.labels], conditions, ...(p.extraSets?.length ? { extraConditions: [...p.extraSets] } : {}), calibrationSets: [...p.calibrationSets],
    outer: p.outer.map((f) => ({ fold: f.fold, labels: f.labels, raw: toRaw(f.raw), ...toFloors(f.floors) })),
    inner, chosen: Object.fromEntries(p.outer.map((f) => [f.fold, f.configuration])), innerScores, ...(alsoTrained ? { alsoTrained } : {}),
  };
}

/** Leave-one-speaker-out robustness matrix of a recipe (or of a nested choice among candidates); see the file comment. */
export async function losoRobustness(items: readonly CorpusItem[], labels: readonly string[], params: FeatureParams, opts: LosoRobustnessOptions): Promise<RobustnessReport> {
  const t0 = Date.now();
  const { recipe } = opts;
  const conditions = opts.conditions.includes('original') ? opts.conditions : (['original', ...opts.conditions] as ConditionName[]);
  const extra = (opts.extraConditions ?? []).filter((c) => !conditions.includes(c));
  const candidates = [recipe, ...(opts.candidates ?? [])];
  const membersOf = (c: Recipe): number => opts.seeds ?? c.ensemble ?? 1;
  const objective = opts.calibrationObjective ?? 'brier';
  const seed = opts.seed ?? 42;
  const log = opts.onLog ?? ((line: string): void => void process.stderr.write(line + '\n'));
  // the condition features of every distinct feature set among the candidates (the recipe's first)
  const featureSets = new Map<string, { params: FeatureParams; data: Row[]; warps: number[] }>();
  let skipped = 0;
  for (const p of [params, ...candidates.map((c) => featureParams(c.features))]) {
    const key = featureKey(p);
    if (featureSets.has(key)) continue;
    // the test-time warps of the configurations on these features (their union: the columns of each row's views)
    const warps = [...new Set(candidates.filter((c) => featureKey(featureParams(c.features)) === key).flatMap((c) => c.testWarps ?? []))].sort((a, b) => a - b);
    const r = await conditionFeatures(items, labels, p, [...conditions, ...extra], {
      cacheDir: opts.cacheDir, progress: opts.progress, calibrationAugment: recipe.offlineAugment, ...(warps.length > 0 ? { warps } : {}),
      onSkip: featureSets.size === 0 ? (f, m) => log(`skipped ${f}: ${m}`) : undefined,
    });
    if (featureSets.size === 0) skipped = r.skipped;
    else if (r.data.length !== featureSets.get(featureKey(params))!.data.length) {
      throw new SerError('eval/bad-candidates', `candidate features ${key} could not be computed for the same files as '${recipe.name}'s`);
    }
    featureSets.set(key, { params: p, data: r.data, warps });
  }
  const featuresOf = (c: Recipe): { params: FeatureParams; data: Row[]; warps: number[] } => featureSets.get(featureKey(featureParams(c.features)))!;
  // configurations that train the same models as an earlier one (they differ in test-time warps only) share its inner fits
  const leaders = candidates.filter((c, i) => !candidates.slice(0, i).some((o) => sameTraining(o, c)));
  const data = featureSets.get(featureKey(params))!.data;
  const speakers = sortSpeakers(data.map(speakerOf));
  const calibSets = recipe.offlineAugment?.channel ? ['original', 'train-aug'] : ['original'];
  const sets = [...conditions, ...calibSets.filter((c) => !(conditions as readonly string[]).includes(c))];
  const folds: Array<{ fold: string; labels: number[]; raw: Map<string, Float32Array[]>; floors?: Map<string, number[]> }> = [];
  const chosen: Record<string, string> = {};
  const innerScores: Record<string, Record<string, number>> = {};
  const nested = candidates.length > 1;
  // nested: each candidate's inner out-of-fold predictions under every set, by outer fold, then by inner held-out speaker
  const inner: LosoOutcome['inner'] = new Map(candidates.map((c) => [c.name, new Map()]));
  const predictions: LosoPredictions = { labels: [...labels], seed, sets, ...(extra.length > 0 ? { extraSets: [...extra] } : {}), calibrationSets: calibSets, outer: [], inner: {} };
  // configuration → outer fold that did not choose it → its held-out predictions (nested: to calibrate the folds that chose it)
  const alsoTrained: NonNullable<LosoOutcome['alsoTrained']> = new Map();
  // one tick per model trained: per held-out speaker, every candidate on each inner fold (nested), then every
  // candidate on the outer fold (configurations that train the same models counted once)
  const leaderMembers = leaders.reduce((a, c) => a + membersOf(c), 0);
  const modelsPerFold = leaderMembers * (nested ? speakers.length : 1);
  const bar = createProgress({ total: speakers.length * modelsPerFold, label: 'models', unit: 'models', enabled: opts.progress !== false });
  const tick = (): void => bar.tick();
  // fold lines: to onLog when given, else on stderr above the bar
  const say = (line: string): void => (opts.onLog ? opts.onLog(line) : bar.log(line));
  for (const spk of speakers) {
    let pick = recipe;
    if (nested) {
      // nested: an inner leave-one-speaker-out over the training speakers only
      const scores: Record<string, number> = {};
      // inner fits made for a later configuration of the same training (by its leader), by name, then inner speaker
      const shared = new Map<string, Map<string, { raw: Map<string, Float32Array[]>; floors?: Map<string, number[]> }>>();
      for (const cand of candidates) {
        const byInner: Map<string, HeldOut> = new Map();
        inner.get(cand.name)!.set(spk, byInner);
        const f = featuresOf(cand);
        const ctr = f.data.filter((d) => speakerOf(d) !== spk);
        for (const inSpk of sortSpeakers(ctr.map(speakerOf))) {
          const itr = ctr.filter((d) => speakerOf(d) !== inSpk);
          const ite = ctr.filter((d) => speakerOf(d) === inSpk);
          let fit = shared.get(cand.name)?.get(inSpk);
          if (!fit) {
            const group = candidates.slice(candidates.indexOf(cand)).filter((o) => sameTraining(o, cand));
            const fits = await fitPredict(group, f.params, labels, itr, ite, sets, ctr, membersOf(cand), seed, opts.cacheDir, opts.threads, tick, f.warps);
            group.forEach((g, j) => { if (j > 0) (shared.get(g.name) ?? shared.set(g.name, new Map()).get(g.name)!).set(inSpk, fits[j]!); });
            fit = fits[0]!;
          }
          const { raw: probs, floors } = fit;
          const innerLabels = ite.map((d) => d.label);
          ((predictions.inner[cand.name] ??= {})[spk] ??= {})[inSpk] = {
            files: ite.map((d) => d.item.id ?? d.item.path), labels: innerLabels, raw: rawJson(probs), ...floorsJson(floors),
          };
          byInner.set(inSpk, { labels: innerLabels, raw: probs, ...(floors ? { floors } : {}) });
        }
        scores[cand.name] = selectionScore(byInner.values(), conditions, labels.length);
      }
      pick = candidates.reduce((best, c) => (scores[c.name]! > scores[best.name]! ? c : best), candidates[0]!);
      innerScores[spk] = scores;
      say(`speaker ${spk}: inner mean UAR over conditions ${Object.entries(scores).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}`).join(', ')} → ${pick.name}`);
    }
    chosen[spk] = pick.name;
    // the pick's training group first (its leader's place), then (nested) every other candidate's: trained on the same
    // speakers so that the folds that chose it can be calibrated on this fold's held-out predictions of it, as a
    // bundled model's calibration is fitted (the models of four speakers, not the inner folds' of three)
    const groups = [candidates.filter((c) => sameTraining(c, pick)).sort((a, b) => Number(b === pick) - Number(a === pick))];
    if (nested) for (const l of leaders) if (!sameTraining(l, pick)) groups.push(candidates.filter((c) => sameTraining(c, l)));
    let pickHeldOut: HeldOut | null = null;
    for (const group of groups) {
      const g0 = group[0]!;
      const gf = featuresOf(g0);
      const tr = gf.data.filter((d) => speakerOf(d) !== spk);
      const te = gf.data.filter((d) => speakerOf(d) === spk);
      // the extra conditions here only: the held-out speaker, after every choice
      const fits = await fitPredict(group, gf.params, labels, tr, te, [...sets, ...extra], tr, membersOf(g0), seed, opts.cacheDir, opts.threads, tick, gf.warps);
      const files = te.map((d) => d.item.id ?? d.item.path);
      const groupLabels = te.map((d) => d.label);
      group.forEach((c, j) => {
        const { raw, floors } = fits[j]!;
        const held: HeldOut = { labels: groupLabels, raw, ...(floors ? { floors } : {}) };
        const stored = { files, labels: groupLabels, raw: rawJson(raw), ...floorsJson(floors) };
        if (c === pick) {
          pickHeldOut = held;
          folds.push({ fold: spk, ...held });
          predictions.outer.push({ fold: spk, configuration: pick.name, ...stored });
        } else {
          (alsoTrained.get(c.name) ?? alsoTrained.set(c.name, new Map()).get(c.name)!).set(spk, held);
          ((predictions.alsoTrained ??= {})[c.name] ??= {})[spk] = stored;
        }
      });
    }
    const { labels: foldLabels, raw } = pickHeldOut!;
    say(`speaker ${spk}: n ${foldLabels.length}, original accuracy ${(100 * evaluatePredictions(foldLabels, raw.get('original')!.map(argmax), labels.length).accuracy).toFixed(1)} % (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  bar.finish();
  opts.onPredictions?.(predictions);
  const report = losoReport(scoreLoso({
    labels: [...labels], conditions: [...conditions], ...(extra.length > 0 ? { extraConditions: extra } : {}), calibrationSets: calibSets, chosen, innerScores,
    outer: folds, inner, ...(alsoTrained.size > 0 ? { alsoTrained } : {}),
  }, objective, opts.calibrationProcedure), { recipe, candidates, chosen, innerScores, membersOf });
  return { ...report, seed, files: data.length, skipped, seconds: (Date.now() - t0) / 1000 };
}

/** A LOSO report from its scoring and the configurations the run trained (`members`: each one's models per fold). */
function losoReport(
  scoring: ReturnType<typeof scoreLoso>,
  run: { recipe: Recipe; candidates: readonly Recipe[]; chosen: Record<string, string>; innerScores: Record<string, Record<string, number>>; membersOf: (c: Recipe) => number },
): Omit<RobustnessReport, 'files' | 'skipped' | 'seconds'> {
  const overallRecipe = run.candidates.find((c) => c.name === scoring.overall);
  if (!overallRecipe) throw new SerError('eval/bad-candidates', `the run chose '${scoring.overall}', which is not among the configurations given (${run.candidates.map((c) => c.name).join(', ')})`);
  return {
    mode: 'loso',
    labels: scoring.labels,
    conditions: scoring.conditions,
    calibration: scoring.calibration,
    calibrationChoice: scoring.calibrationChoice,
    ...(scoring.calibrationProcedure ? { calibrationProcedure: scoring.calibrationProcedure } : {}),
    foldCalibrations: scoring.foldCalibrations,
    calibrationSources: scoring.calibrationSources,
    recipe: run.recipe.name,
    configuration: structuredClone(overallRecipe),
    ...(run.candidates.length > 1 ? {
      selection: {
        candidates: run.candidates.map((c) => c.name), criterion: SELECTION_CRITERION, chosen: run.chosen, innerScores: run.innerScores, overall: scoring.overall,
        members: Object.fromEntries(run.candidates.map((c) => [c.name, run.membersOf(c)])),
      },
    } : {}),
    seeds: run.membersOf(overallRecipe),
  };
}

/**
 * A stored LOSO run re-scored (`ser evaluate --loso --from-predictions`): the figures and calibrations the
 * current code gives for the predictions it made, without training. `recipe` and `candidates` must be the
 * run's (they name the configuration a model would store); `seeds` as the run was given it.
 */
export function losoRobustnessFromPredictions(
  p: LosoPredictions, opts: { recipe: Recipe; candidates?: Recipe[]; seeds?: number; calibrationObjective?: CalibrationObjective; calibrationProcedure?: CalibrationProcedureRule; source?: string },
): RobustnessReport {
  const t0 = Date.now();
  const o = outcomeFromPredictions(p);
  const candidates = [opts.recipe, ...(opts.candidates ?? [])];
  const names = new Set(candidates.map((c) => c.name));
  const trained = new Set([...Object.values(o.chosen), ...o.inner.keys()]);
  const unknown = [...trained].filter((n) => !names.has(n));
  if (unknown.length > 0 || (o.inner.size > 0 && o.inner.size !== candidates.length)) {
    throw new SerError('eval/bad-candidates', `the stored run trained ${[...trained].join(', ')}; give the same --recipe and --candidates (got ${[...names].join(', ')})`);
  }
  const membersOf = (c: Recipe): number => opts.seeds ?? c.ensemble ?? 1;
  const report = losoReport(scoreLoso(o, opts.calibrationObjective ?? 'brier', opts.calibrationProcedure), { recipe: opts.recipe, candidates, chosen: o.chosen, innerScores: o.innerScores, membersOf });
  return { ...report, ...(p.seed !== undefined ? { seed: p.seed } : {}), files: o.outer.reduce((a, f) => a + f.labels.length, 0), skipped: 0, seconds: (Date.now() - t0) / 1000, rescoredFrom: opts.source ?? 'predictions' };
}

/** A prediction function: calibrated and raw probabilities for one file's audio. */
export type ProbabilitiesOf = (audio: AudioData) => Promise<{ probs: Float32Array; raw: Float32Array }>;

/** The robustness matrix of one trained model (conditions built from `items`). */
export async function modelRobustness(
  items: readonly CorpusItem[],
  labels: readonly string[],
  conditions: readonly ConditionName[],
  probabilitiesOf: ProbabilitiesOf,
  calibration: Calibration | null,
  opts: { progress?: boolean; onSkip?: (path: string, message: string) => void; extraConditions?: readonly ConditionName[] } = {},
): Promise<RobustnessReport> {
  const extra = (opts.extraConditions ?? []).filter((c) => !conditions.includes(c));
  const all = [...conditions, ...extra];
  const t0 = Date.now();
  const probs = new Map<string, Float32Array[]>(all.map((c) => [c, []]));
  const raw = new Map<string, Float32Array[]>(all.map((c) => [c, []]));
  const ys: number[] = [];
  let skipped = 0;
  const bar = createProgress({ total: items.length, label: 'conditions', unit: 'files', enabled: opts.progress !== false });
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const y = labels.indexOf(item.label);
    try {
      if (y < 0) throw new Error(`label '${item.label}' is not one the model knows (${labels.join(', ')})`);
      const bytes = await readAudioBytes(item.path);
      const audio = await decodeAudio(bytes, item.path);
      const seed = await sha256Hex(bytes);
      const got: Array<{ probs: Float32Array; raw: Float32Array }> = [];
      for (const c of all) {
        const pool = c === 'babble-10db' ? await loadPool(babblePoolPaths(items, i, createRng(`${seed}/pool`).int(1e9)), audio.sampleRate) : [];
        got.push(await probabilitiesOf(await applyCondition(c, audio, { seed, babblePool: pool })));
      }
      all.forEach((c, k) => { probs.get(c)!.push(got[k]!.probs); raw.get(c)!.push(got[k]!.raw); });
      ys.push(y);
    } catch (e) {
      skipped++;
      opts.onSkip?.(item.path, describeError(e));
    }
    bar.tick();
  }
  bar.finish();
  return {
    mode: 'model',
    labels: [...labels],
    conditions: scoreConditions(conditions, [{ fold: 'all', labels: ys, probs, raw }], labels.length, extra),
    calibration,
    files: ys.length,
    skipped,
    seconds: (Date.now() - t0) / 1000,
  };
}

/** The matrix as a Markdown table (accuracy, UAR, ECE per condition). */
export function robustnessTable(r: RobustnessReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const pm = (m: number, s?: number) => (s === undefined ? pct(m) : `${pct(m)} ± ${(100 * s).toFixed(1)}`);
  const lines = [
    '| condition | accuracy | UAR | ECE | ECE before calibration | ECE of a perfectly calibrated model (sampling floor) | mean confidence | files |',
    '|---|---|---|---|---|---|---|---|',
    ...r.conditions.map((c) => `| ${c.condition}${c.extra ? ' †' : ''} | ${pm(c.accuracy, c.accuracyStd)} | ${pm(c.uar, c.uarStd)} | ${c.ece.toFixed(3)} | ${c.eceRaw.toFixed(3)} | ${c.eceFloor.toFixed(3)} | ${c.meanConfidence.toFixed(2)} | ${c.n} |`),
  ];
  if (r.conditions.some((c) => c.extra)) {
    lines.push('', `† an extra condition (\`--extra-conditions\`)${r.mode === 'loso' ? ': predicted for the held-out speakers only, after every choice of the run — no configuration or calibration procedure was chosen with it' : ''}.`);
  }
  return lines.join('\n') + '\n';
}
