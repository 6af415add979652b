/**
 * `ser train --data DIR --recipe NAME|FILE.json --out DIR [--epochs N --lr X --seed N --batch N --resume
 * --val-fraction F --threads N --backend NAME]`: scans the corpus, computes features through the
 * cache, carves a stratified validation set from the data (never used for training), trains the
 * recipe with checkpoints every epoch, and writes the model folder to --out.
 */
import type { Command } from 'commander';
import { scanCorpus, type CorpusFormat } from '../../data/corpus.js';
import { carveValidation } from '../../data/splits.js';
import { featureParams, type FeatureParams } from '../../features/params.js';
import { labelNamesOf, loadFeatures, pitchShiftSource, toLabeledSpecs } from '../../train/dataset.js';
import { train, CHECKPOINT_FILE } from '../../train/loop.js';
import { existsSync, readFileSync } from 'node:fs';
import type { RobustnessReport } from '../../eval/robustness.js';
import { CONDITION_DESCRIPTIONS, type ConditionName } from '../../eval/conditions.js';
import { assembleMlpEnsemble } from '../../model/ensemble.js';
import { saveModelFolder } from '../../model/io.js';
import { parseCalibration, type Calibration } from '../../model/calibration.js';
import type { MetadataInput } from '../../model/metadata.js';
import type { ArchOptions } from '../../model/architectures.js';
import type { ModelTrainer } from '../../train/trainer.js';
import { join } from 'node:path';
import { memberSeeds, parseRecipe, RECIPES, recipeNames, resolveRecipe, sameConfiguration, type Recipe, type RecipeOverrides } from '../../train/recipes.js';
import { SerError } from '../../util/errors.js';

/** Parses a positive integer flag or throws a SerError naming it. */
export function intFlag(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new SerError('cli/bad-option', `--${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

/** Parses a number flag in [lo, hi] or throws. */
export function numFlag(name: string, lo = -Infinity, hi = Infinity) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new SerError('cli/bad-option', `--${name} must be a number in [${lo}, ${hi}], got "${v}"`);
    return n;
  };
}

/** Parses a JSON object flag or throws. */
export function jsonFlag(name: string) {
  return (v: string): Record<string, unknown> => {
    try {
      const o = JSON.parse(v) as unknown;
      if (o && typeof o === 'object' && !Array.isArray(o)) return o as Record<string, unknown>;
    } catch {
      /* fall through */
    }
    throw new SerError('cli/bad-option', `--${name} must be a JSON object, e.g. '{"nMels": 64}', got "${v}"`);
  };
}

interface TrainFlags {
  data: string;
  recipe: string;
  out: string;
  epochs?: number;
  lr?: number;
  seed: number;
  batch?: number;
  resume?: boolean;
  valFraction?: number;
  valBySpeaker?: boolean;
  patience?: number;
  threads?: number;
  backend?: string;
  format?: string;
  cache?: string;
  features?: Record<string, unknown>;
  archOptions?: Record<string, unknown>;
  robustness?: string;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a model from a labelled corpus folder with a named recipe (checkpoints every epoch; --resume continues)')
    .requiredOption('--data <dir>', 'corpus folder (AESDD, folder-per-label, CSV manifest, ...)')
    .requiredOption('--out <dir>', 'output model folder (checkpoint, log.json, training-curves.svg, model + metadata)')
    .option('--recipe <name|file.json>', 'a built-in recipe (listed below) or a recipe JSON file: a whole recipe, or {"extends": "<built-in>", ...the fields that differ}', 'seed-cnn3')
    .option('--epochs <n>', 'override the recipe\'s epochs', intFlag('epochs'))
    .option('--lr <x>', 'override the recipe\'s learning rate', numFlag('lr', 1e-12, 10))
    .option('--seed <n>', 'random seed (split, batches, augmentation, weights)', intFlag('seed', 0), 42)
    .option('--batch <n>', 'override the recipe\'s batch size', intFlag('batch'))
    .option('--resume', 'continue from --out/checkpoint.ckpt (same seed → same final weights)')
    .option('--val-fraction <f>', 'validation share carved from the data for early stopping (0 = none; default: the recipe\'s)', numFlag('val-fraction', 0, 0.9))
    .option('--val-by-speaker', 'hold out whole speakers for validation instead of a stratified sample of files')
    .option('--patience <n>', 'early-stopping patience in epochs (default: the recipe\'s)', intFlag('patience'))
    .option('--threads <n>', 'trainer replicas (worker threads) per batch (default: the machine\'s cores, at most 4)', intFlag('threads'))
    .option('--backend <name>', 'tfjs backend: wasm, cpu or tensorflow', 'wasm')
    .option('--format <name>', 'corpus format (default: auto-detect)')
    .option('--cache <dir>', 'feature cache folder (default: $SER_CACHE_DIR or .cache/features)')
    .option('--features <json>', 'feature parameter overrides as JSON, e.g. \'{"nMels": 64}\'', jsonFlag('features'))
    .option('--arch-options <json>', 'architecture option overrides as JSON, e.g. \'{"channels": [8, 16, 32]}\'', jsonFlag('arch-options'))
    .option('--robustness <report.json>', 'the same recipe\'s leave-one-speaker-out report (`ser evaluate --conditions --loso --out DIR`): stores its calibration as the model\'s and its matrix as the unseen-speaker estimate')
    .option('--no-progress', 'no progress bars')
    .addHelpText('after', `\nBuilt-in recipes:\n${recipeNames().map((n) => `  ${n.padEnd(22)} ${RECIPES[n]!.description}`).join('\n')}\n`)
    .action(async (flags: TrainFlags) => {
      await runTrain(flags);
    });
}

/** The body of `ser train` (exported for tests and scripts). */
export async function runTrain(flags: TrainFlags): Promise<void> {
  const overrides: RecipeOverrides = {};
  if (flags.epochs !== undefined) overrides.epochs = flags.epochs;
  if (flags.lr !== undefined) overrides.lr = flags.lr;
  if (flags.batch !== undefined) overrides.batchSize = flags.batch;
  if (flags.patience !== undefined) overrides.patience = flags.patience;
  if (flags.valFraction !== undefined) overrides.valFraction = flags.valFraction;
  const recipe = resolveRecipe(flags.recipe, overrides);
  if (flags.archOptions) recipe.archOptions = { ...recipe.archOptions, ...flags.archOptions };
  if (flags.features) recipe.features = { ...recipe.features, ...(flags.features as Partial<FeatureParams>) };
  const params = featureParams(recipe.features);
  const robust = flags.robustness ? robustnessMetadata(flags.robustness, recipe) : {};

  const corpus = scanCorpus(flags.data, flags.format ? { format: flags.format as CorpusFormat } : {});
  for (const p of corpus.problems) process.stderr.write(`skipped ${p.message}\n`);
  const { items, failed } = await loadFeatures(corpus.items, params, { cacheDir: flags.cache, progress: flags.progress, label: 'features' });
  for (const f of failed) process.stderr.write(`skipped ${f.message}\n`);
  if (items.length === 0) throw new SerError('train/no-data', `${flags.data}: no usable audio files`);
  const labelNames = labelNamesOf(items);

  let trainItems = items;
  let valItems: typeof items = [];
  if (recipe.valFraction > 0) {
    const split = carveValidation(items, recipe.valFraction, flags.seed, { bySpeaker: flags.valBySpeaker });
    trainItems = split.train;
    valItems = split.validation;
  }
  const trainData = { ...toLabeledSpecs(trainItems, labelNames), labelNames };
  const valData = valItems.length ? toLabeledSpecs(valItems, labelNames) : null;
  process.stderr.write(
    `train ${recipe.name}: ${trainItems.length} training files, ${valItems.length} validation files, ` +
      `${labelNames.length} labels (${labelNames.join(', ')}), ${recipe.epochs} epochs, lr ${recipe.lr}, batch ${recipe.batchSize}, seed ${flags.seed}\n`,
  );
  if (flags.resume && !existsSync(join(flags.out, CHECKPOINT_FILE))) {
    process.stderr.write(`--resume: no checkpoint in ${flags.out}; starting from epoch 1\n`);
  }
  const members = recipe.ensemble ?? 1;
  const trainOpts = {
    out: flags.out,
    seed: flags.seed,
    resume: flags.resume,
    valData,
    pitchSource: pitchShiftSource(trainItems, params, flags.cache),
    progress: flags.progress,
    threads: flags.threads,
    backend: flags.backend,
    metadata: {
      ...robust,
      featureParams: params,
      // test-time warps: every prediction of the saved model averages over them (ClassifierCore)
      ...(recipe.testWarps ? { testWarps: [...recipe.testWarps] } : {}),
      data: {
        root: corpus.root,
        format: corpus.format,
        train: trainItems.length,
        validation: valItems.length,
        skipped: corpus.problems.length + failed.length,
        speakers: [...new Set(items.map((i) => i.speaker).filter((s) => s !== null))],
      },
    },
  };
  let result: Awaited<ReturnType<typeof train>>;
  if (members === 1) {
    result = await train(recipe, trainData, trainOpts);
  } else {
    // an ensemble: K members (seeds seed … seed+K−1; augmented copies shared or drawn per member, see
    // `memberSeeds`), each with its own checkpoint folder, then one model folder that averages their probabilities
    const results = [];
    for (let k = 0; k < members; k++) {
      process.stderr.write(`ensemble member ${k + 1}/${members}\n`);
      results.push(await train(recipe, trainData, { ...trainOpts, out: join(flags.out, 'members', String(k)), ...memberSeeds(recipe, flags.seed, k) }));
    }
    result = results[0]!;
    const model = assembleMlpEnsemble(results.map((r) => (r.trainer as ModelTrainer).toLayersModel()), result.metadata.archOptions as ArchOptions);
    const archOptions = { ...(result.metadata.archOptions as ArchOptions), members };
    await saveModelFolder(flags.out, model, { ...result.metadata, archOptions, ensemble: { members, seeds: results.map((r) => r.metadata.seed) } } as unknown as MetadataInput);
    model.dispose();
    results.slice(1).forEach((r) => r.trainer.dispose());
  }
  const sel = result.history.find((h) => h.epoch === result.selectedEpoch);
  process.stderr.write(
    `done: ${result.epochsRun} epochs in ${result.seconds.toFixed(1)} s; kept epoch ${result.selectedEpoch}` +
      (sel?.val ? ` (validation accuracy ${(100 * sel.val.accuracy).toFixed(1)}%, UAR ${(100 * sel.val.uar).toFixed(1)}%)` : '') +
      (result.stoppedEarly ? ', stopped early' : '') +
      `\nmodel folder: ${flags.out}\n`,
  );
  result.trainer.dispose();
}

/**
 * Metadata from a leave-one-speaker-out robustness report of the same recipe (the same configuration as
 * the report's `configuration`, names and descriptions aside; older reports: the same name): `calibration`
 * (chosen and fitted on out-of-fold predictions of held-out speakers) and
 * `metrics.unseenSpeakerEstimate` (the matrix: what a speaker the model never heard should expect).
 */
export function robustnessMetadata(path: string, recipe: Recipe): Record<string, unknown> {
  let r: RobustnessReport;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as RobustnessReport;
  } catch (e) {
    throw new SerError('cli/bad-option', `--robustness ${path}: cannot read the report (${(e as Error).message})`);
  }
  let cal: Calibration | null = null;
  try {
    cal = parseCalibration(r.calibration);
  } catch { /* reported below */ }
  if (r.mode !== 'loso' || !Array.isArray(r.conditions) || !cal) {
    throw new SerError('cli/bad-option', `--robustness ${path}: not a leave-one-speaker-out report of \`ser evaluate --conditions --loso\``);
  }
  if (r.configuration) {
    // the same configuration, whatever it is called (a nested run names its candidates; the winner may become a built-in)
    // read as a recipe file is (a run before a field's normal form, e.g. a patch's "wet": null, compares by what it means)
    let read: Recipe = r.configuration;
    try { read = parseRecipe(r.configuration, path); } catch { /* older reports: compared as written */ }
    if (!sameConfiguration(recipe, read)) {
      throw new SerError('cli/bad-option', `--robustness ${path}: the report's calibration is of configuration '${read.name}', which differs from recipe '${recipe.name}'`);
    }
  } else if (r.recipe !== recipe.name) {
    throw new SerError('cli/bad-option', `--robustness ${path}: the report is of recipe '${r.recipe}', not '${recipe.name}'`);
  }
  // reports before calibrationSources: nested ones were fitted on inner predictions, the others on outer ones
  const fromInner = r.calibrationSources ? r.calibrationSources.report === 'inner' : Boolean(r.selection);
  const config = r.selection?.overall ?? r.recipe;
  const proc = r.calibrationProcedure;
  const by = (r.calibrationChoice?.objective === 'brier' ? 'Brier score' : 'likelihood') +
    (proc ? `; procedure chosen by the inner folds' calibration error under the test conditions, ${Object.values(proc.chosen).filter((f) => f === proc.overall).length} of ${Object.keys(proc.chosen).length} folds` : '');
  // what each held-out file contributed: original audio alone, or with its training-style copy (reports before the procedure choice: both)
  const sets = proc?.procedures?.[proc.overall]?.sets ?? ['original', 'train-aug'];
  const each = sets.length === 1 ? 'original audio only' : 'original audio + one training-augmented copy each';
  // the held-out speakers (and files) of the folds that trained the configuration
  const perFold = r.conditions[0]?.perFold ?? [];
  const trained = perFold.filter((f) => !r.selection || r.selection.chosen[f.fold] === config);
  const files = trained.length ? trained.reduce((a, f) => a + f.n, 0) : r.files;
  return {
    calibration: {
      ...cal,
      fittedOn: fromInner
        ? `inner out-of-fold predictions of configuration '${config}' in a nested leave-one-speaker-out over ${r.files} files (each file held out by the inner folds of every outer fold that trained on its speaker; ${each}; fitted by ${by})`
        : `out-of-fold predictions of configuration '${config}' on the held-out speakers of the leave-one-speaker-out folds that trained it (${trained.map((f) => f.fold).join(', ')}: ${files} files; ${each}; fitted by ${by})`,
    },
    metrics: {
      unseenSpeakerEstimate: {
        note: 'Not a score of this model (it was trained on every speaker): the same recipe evaluated leave-one-speaker-out, each file classified on its own; accuracy and UAR are means over the held-out speakers, ECE after calibration.',
        protocol: 'leave-one-speaker-out',
        recipe: r.recipe,
        seeds: r.seeds,
        conditions: Object.fromEntries(r.conditions.map((c) => [c.condition, {
          accuracy: c.accuracy, accuracyStd: c.accuracyStd, uar: c.uar, ece: c.ece, ...(c.extra ? { extra: true } : {}),
          // what the condition is, for readers of the metadata (the web app's table, GET /api/model)
          ...(c.condition in CONDITION_DESCRIPTIONS ? { description: CONDITION_DESCRIPTIONS[c.condition as ConditionName] } : {}),
        }])),
      },
    },
  };
}
