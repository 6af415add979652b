/**
 * `ser evaluate --data DIR [--model DIR] [--json]`: classifies every file of a labelled corpus on
 * its own (exactly like `ser predict`) and scores the predictions: accuracy, UAR, macro F1 and the
 * confusion matrix (rows = true labels). Files that cannot be read are reported on stderr and left
 * out of n. Without --model the bundled `models/default/` is used.
 *
 * `--conditions [LIST]` scores the same files re-made as real audio arrives (16/48 kHz, telephone,
 * MP3, noise, babble, reverberation, quiet; eval/conditions.ts): accuracy, UAR and ECE per condition.
 * With `--loso --recipe NAME` the recipe is trained leave-one-speaker-out and the matrix is
 * for the held-out speakers (eval/robustness.ts); `--out DIR` writes report.json, REPORT.md,
 * reliability diagrams and (with --loso) predictions.json, every raw prediction made.
 */
import type { Command } from 'commander';
import { Classifier, defaultModelDir } from '../../infer/classifier.js';
import { scanCorpus, type CorpusFormat } from '../../data/corpus.js';
import { evaluatePredictions, type Evaluation } from '../../eval/metrics.js';
import { describeError, SerError } from '../../util/errors.js';
import { createProgress } from '../../util/progress.js';
import { CONDITIONS, CONDITION_DESCRIPTIONS, EXTRA_CONDITIONS, parseConditions } from '../../eval/conditions.js';
import { CALIBRATION_PROCEDURE_RULES, losoRobustness, losoRobustnessFromPredictions, modelRobustness, robustnessTable, type CalibrationProcedure, type CalibrationProcedureRule, type LosoPredictions, type RobustnessReport } from '../../eval/robustness.js';
import { CALIBRATION_FORMS, CALIBRATION_OBJECTIVES, describeCalibration, type CalibrationForm, type CalibrationObjective } from '../../model/calibration.js';
import { featureParams } from '../../features/params.js';
import { getRecipe, patchRecipe, recipeNames, type Recipe } from '../../train/recipes.js';
import { labelNamesOf } from '../../train/dataset.js';
import { lineChart } from '../../util/plot/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/fs.js';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { intFlag } from './train.js';

/** The JSON object `ser evaluate --json` prints. */
export interface EvaluateReport {
  n: number;
  accuracy: number;
  uar: number;
  macroF1: number;
  labels: string[];
  /** Rows = true labels, columns = predictions, in `labels` order. */
  confusion: number[][];
  skipped: number;
}

interface EvaluateFlags {
  data?: string;
  model?: string;
  json?: boolean;
  format?: string;
  progress: boolean;
  conditions?: string | true;
  extraConditions?: string | true;
  loso?: boolean;
  recipe?: string;
  seeds?: number;
  seed?: number;
  out?: string;
  cache?: string;
  candidates?: string;
  calibrationObjective?: string;
  calibrationProcedure?: string;
  epochs?: number;
  fromPredictions?: string;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('score a model on a labelled corpus: accuracy, UAR, macro F1, confusion matrix (each file classified on its own)')
    .option('--data <dir>', 'labelled corpus folder (AESDD, folder-per-label, CSV manifest, ...); required unless --from-predictions')
    .option('--model <dir>', 'model folder (default: the bundled models/default/)')
    .option('--json', 'print one JSON object {n, accuracy, uar, macroF1, labels, confusion}')
    .option('--format <name>', 'corpus format (default: auto-detect)')
    .option('--no-progress', 'no progress bar')
    .option('--conditions [list]', `score under test conditions (comma-separated, default all): ${CONDITIONS.join(', ')}`)
    .option('--extra-conditions [list]', `with --conditions: also these (comma-separated, default all), never used for any choice of a --loso run: ${EXTRA_CONDITIONS.join(', ')}`)
    .option('--loso', 'with --conditions: train --recipe leave-one-speaker-out and score the held-out speakers (unseen-speaker figures)')
    .option('--recipe <name>', `recipe for --loso: ${recipeNames().join(', ')}`, 'ser-robust')
    .option('--epochs <n>', 'override the recipe\'s epochs (--loso)', intFlag('epochs'))
    .option('--seeds <n>', 'models per fold whose probabilities are averaged, for every configuration (--loso; default: each configuration\'s ensemble size)', intFlag('seeds'))
    .option('--seed <n>', 'with --loso: training seed (default 42): another draw of the weights and augmented copies, the test conditions unchanged', intFlag('seed', 0))
    .option('--calibration-objective <nll|brier>', 'with --loso: what the calibration is fitted and its form chosen by (default brier: a few confidently wrong outputs of one speaker do not set it)')
    .option('--calibration-procedure <inner|loso>', 'with --loso and --candidates: how each fold\'s calibration procedure is chosen — inner (default): by its inner folds\' calibration error under the conditions; loso: as without candidates, the form by the leave-one-speaker-out score of the other folds\' predictions it is fitted on')
    .option('--candidates <json>', 'with --loso: nested selection among the recipe and these variants of it, a JSON array of patches, e.g. \'[{"name": "wide", "archOptions": {"hidden": 128}}]\' (chosen per held-out speaker by an inner leave-one-speaker-out on the training speakers)')
    .option('--from-predictions <file>', 'with --conditions --loso: re-score a stored run\'s predictions.json (or .json.gz) with the current calibration code, without training (give the run\'s --recipe and --candidates)')
    .option('--out <dir>', 'with --conditions: write report.json, REPORT.md and reliability diagrams here')
    .option('--cache <dir>', 'feature cache folder (default: $SER_CACHE_DIR or .cache/features)')
    .addHelpText('after', `\nConditions:\n${CONDITIONS.map((c) => `  ${c.padEnd(12)} ${CONDITION_DESCRIPTIONS[c]}`).join('\n')}\n\nExtra conditions:\n${EXTRA_CONDITIONS.map((c) => `  ${c.padEnd(12)} ${CONDITION_DESCRIPTIONS[c]}`).join('\n')}\n`)
    .action(async (flags: EvaluateFlags) => {
      if (flags.conditions !== undefined) {
        const r = await runConditions(flags);
        if (flags.json) process.stdout.write(JSON.stringify(r) + '\n');
        else process.stdout.write(robustnessTable(r));
        return;
      }
      if (flags.loso) throw new SerError('cli/bad-option', '--loso needs --conditions');
      if (flags.extraConditions !== undefined) throw new SerError('cli/bad-option', '--extra-conditions needs --conditions');
      if (flags.fromPredictions) throw new SerError('cli/bad-option', '--from-predictions needs --conditions --loso');
      const report = await runEvaluate(flags);
      const { skipped: _skipped, ...json } = report;
      if (flags.json) process.stdout.write(JSON.stringify(json) + '\n');
      else process.stdout.write(formatReport(report));
    });
}

/** The body of `ser evaluate`; problems go to stderr. */
export async function runEvaluate(flags: EvaluateFlags): Promise<EvaluateReport> {
  const data = dataFlag(flags);
  const clf = await Classifier.load(flags.model ?? defaultModelDir());
  const labels = clf.labels;
  const corpus = scanCorpus(data, flags.format ? { format: flags.format as CorpusFormat } : {});
  let skipped = 0;
  for (const p of corpus.problems) {
    process.stderr.write(`skipped ${p.message}\n`);
    skipped++;
  }
  const yTrue: number[] = [];
  const yPred: number[] = [];
  const bar = createProgress({ total: corpus.items.length, label: 'evaluate', unit: 'files', enabled: flags.progress !== false });
  for (const item of corpus.items) {
    const t = labels.indexOf(item.label);
    if (t < 0) {
      process.stderr.write(`skipped ${item.path}: label '${item.label}' is not one the model knows (${labels.join(', ')})\n`);
      skipped++;
      bar.tick();
      continue;
    }
    try {
      const p = await clf.predictFile(item.path);
      const k = labels.indexOf(p.emotion);
      if (k < 0) throw new SerError('eval/bad-prediction', `model predicted '${p.emotion}', which is not in its labels`);
      yTrue.push(t);
      yPred.push(k);
    } catch (e) {
      process.stderr.write(`skipped ${item.path}: ${describeError(e)}\n`);
      skipped++;
    }
    bar.tick();
  }
  bar.finish();
  const e: Evaluation = evaluatePredictions(yTrue, yPred, labels.length);
  return { n: e.n, accuracy: e.accuracy, uar: e.uar, macroF1: e.macroF1, labels: [...labels], confusion: e.confusion, skipped };
}

/** A plain-text rendering of an evaluation (metrics + confusion matrix). */
export function formatReport(r: EvaluateReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const w = Math.max(8, ...r.labels.map((l) => l.length)) + 1;
  const head = 'true \\ predicted';
  const w0 = Math.max(w, head.length + 1);
  const lines = [
    `files ${r.n}${r.skipped ? ` (${r.skipped} skipped)` : ''}   accuracy ${pct(r.accuracy)}   UAR ${pct(r.uar)}   macro F1 ${pct(r.macroF1)}`,
    '',
    head.padEnd(w0) + r.labels.map((l) => l.padStart(w)).join(''),
    ...r.confusion.map((row, i) => (r.labels[i] as string).padEnd(w0) + row.map((v) => String(v).padStart(w)).join('')),
  ];
  return lines.join('\n') + '\n';
}

/** The body of `ser evaluate --conditions`: one model's matrix, or (with --loso) the recipe's unseen-speaker matrix. */
export async function runConditions(flags: EvaluateFlags): Promise<RobustnessReport> {
  const conditions = parseConditions(flags.conditions ?? true);
  if (flags.fromPredictions && flags.extraConditions !== undefined) throw new SerError('cli/bad-option', '--extra-conditions cannot be added to a stored run (--from-predictions re-scores the conditions it predicted)');
  const extraConditions = flags.extraConditions === undefined ? [] : parseConditions(flags.extraConditions, EXTRA_CONDITIONS);
  if (!flags.loso && flags.seed !== undefined) throw new SerError('cli/bad-option', '--seed needs --loso (it seeds the models the run trains)');
  if (!flags.loso && flags.calibrationObjective !== undefined) throw new SerError('cli/bad-option', '--calibration-objective needs --loso (one model is scored with the calibration it stores)');
  if (!flags.loso && flags.calibrationProcedure !== undefined) throw new SerError('cli/bad-option', '--calibration-procedure needs --loso');
  if (flags.fromPredictions) return rescoreConditions(flags, flags.fromPredictions);
  const corpus = scanCorpus(dataFlag(flags), flags.format ? { format: flags.format as CorpusFormat } : {});
  for (const p of corpus.problems) process.stderr.write(`skipped ${p.message}\n`);
  const log = (line: string) => process.stderr.write(line + '\n');
  let report: RobustnessReport;
  let predictions: LosoPredictions | null = null;
  if (flags.loso) {
    const recipe = getRecipe(flags.recipe ?? 'ser-robust', flags.epochs ? { epochs: flags.epochs } : {});
    const params = featureParams(recipe.features);
    const labels = labelNamesOf(corpus.items);
    const speakers = new Set(corpus.items.map((i) => i.speaker));
    if (speakers.size < 2 || [...speakers].some((s) => s === undefined || s === null)) {
      throw new SerError('eval/no-speakers', `${dataFlag(flags)}: --loso needs a speaker for every file and at least two speakers`);
    }
    report = await losoRobustness(corpus.items, labels, params, {
      recipe, conditions, extraConditions, ...(flags.candidates ? { candidates: recipeVariants(recipe, flags.candidates) } : {}), ...(flags.seeds ? { seeds: flags.seeds } : {}), ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      progress: flags.progress !== false,
      onPredictions: (p) => { predictions = p; }, calibrationObjective: objectiveFlag(flags.calibrationObjective), calibrationProcedure: procedureRuleFlag(flags.calibrationProcedure),
      ...(flags.cache ? { cacheDir: flags.cache } : {}),
    });
  } else {
    const clf = await Classifier.load(flags.model ?? defaultModelDir());
    report = await modelRobustness(corpus.items, clf.labels, conditions, async (audio) => {
      const spec = clf.features(audio);
      const raw = await clf.rawProbabilitiesOf(spec);
      return { raw, probs: clf.calibrated(raw, spec) };
    }, clf.calibration, { progress: flags.progress !== false, onSkip: (p, m) => log(`skipped ${p}: ${m}`), extraConditions });
  }
  if (flags.out) {
    await writeRobustnessReport(flags.out, report);
    if (predictions) await writeJsonAtomic(join(flags.out, 'predictions.json'), predictions);
  }
  return report;
}

/** --data, which every mode but --from-predictions needs. */
function dataFlag(flags: EvaluateFlags): string {
  if (!flags.data) throw new SerError('cli/bad-option', 'evaluate needs --data <dir> (a labelled corpus folder)');
  return flags.data;
}

/** `--conditions --loso --from-predictions FILE`: a stored run re-scored (see `losoRobustnessFromPredictions`); --out gets the report, not the predictions again. */
async function rescoreConditions(flags: EvaluateFlags, file: string): Promise<RobustnessReport> {
  if (!flags.loso) throw new SerError('cli/bad-option', '--from-predictions needs --loso (it re-scores a leave-one-speaker-out run)');
  if (flags.data) throw new SerError('cli/bad-option', '--from-predictions trains nothing and reads no corpus: drop --data');
  let stored: LosoPredictions;
  try {
    // a committed run may be gzipped (a nested run's predictions under every condition are several MB of JSON); the conditions are the run's (--conditions names none here)
    const bytes = await readFile(file);
    stored = JSON.parse((file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as LosoPredictions;
  } catch (e) {
    throw new SerError('cli/bad-option', `--from-predictions ${file}: ${describeError(e)}`);
  }
  if (!stored || !Array.isArray(stored.outer) || !Array.isArray(stored.sets) || !Array.isArray(stored.calibrationSets) || typeof stored.inner !== 'object') {
    throw new SerError('cli/bad-option', `--from-predictions ${file}: not a predictions.json of \`ser evaluate --loso --out\``);
  }
  const recipe = getRecipe(flags.recipe ?? 'ser-robust', flags.epochs ? { epochs: flags.epochs } : {});
  const report = losoRobustnessFromPredictions(stored, {
    recipe, ...(flags.candidates ? { candidates: recipeVariants(recipe, flags.candidates) } : {}), ...(flags.seeds ? { seeds: flags.seeds } : {}),
    calibrationObjective: objectiveFlag(flags.calibrationObjective), calibrationProcedure: procedureRuleFlag(flags.calibrationProcedure), source: file,
  });
  if (flags.out) await writeRobustnessReport(flags.out, report);
  return report;
}

/** --calibration-procedure: 'inner' (default) or 'loso'. */
function procedureRuleFlag(v: string | undefined): CalibrationProcedureRule {
  if (v === undefined) return 'inner';
  if (!(CALIBRATION_PROCEDURE_RULES as readonly string[]).includes(v)) throw new SerError('cli/bad-option', `--calibration-procedure must be one of ${CALIBRATION_PROCEDURE_RULES.join(', ')}, got '${v}'`);
  return v as CalibrationProcedureRule;
}

/** --calibration-objective: 'nll' or 'brier' (default). */
function objectiveFlag(v: string | undefined): CalibrationObjective {
  if (v === undefined) return 'brier';
  if (!(CALIBRATION_OBJECTIVES as readonly string[]).includes(v)) throw new SerError('cli/bad-option', `--calibration-objective must be one of ${CALIBRATION_OBJECTIVES.join(', ')}, got '${v}'`);
  return v as CalibrationObjective;
}

/** What the folds' calibrations were fitted on, in words. */
function calibrationSourceText(r: RobustnessReport): string {
  const folds = r.calibrationSources?.folds ?? {};
  const inner = Object.keys(folds).filter((f) => folds[f] === 'inner');
  const outerText = `the held-out predictions of the other folds that trained the configuration it uses (never its own speaker)${r.calibrationSources?.alsoTrained ? '; every configuration was trained on every outer fold, those a fold did not choose only for these calibrations' : ''}`;
  if (inner.length === 0) return outerText;
  const innerText = 'the inner out-of-fold predictions of the configuration it chose (its training speakers only)';
  if (inner.length === Object.keys(folds).length) return innerText;
  return `${outerText}; held out ${inner.join(', ')} (fewer than two other folds chose the same): ${innerText}`;
}

/** report.json, REPORT.md (the table) and one reliability diagram per condition (SVG). */
export async function writeRobustnessReport(dir: string, r: RobustnessReport): Promise<void> {
  await writeJsonAtomic(join(dir, 'report.json'), r);
  const figs: string[] = [];
  for (const c of r.conditions) {
    const used = c.reliability.filter((b) => b.count > 0);
    const svg = lineChart(
      [
        { name: 'perfect', x: [0, 1], y: [0, 1], dashed: true },
        { name: 'accuracy', x: used.map((b) => b.confidence), y: used.map((b) => b.accuracy) },
      ],
      { title: `Reliability: ${c.condition} (ECE ${c.ece.toFixed(3)})`, xLabel: 'confidence (top probability)', yLabel: 'accuracy', yRange: [0, 1], markers: true },
    );
    const f = `figures/reliability-${c.condition}.svg`;
    await writeFileAtomic(join(dir, f), svg);
    figs.push(`![${c.condition}](${f})`);
  }
  const choice = r.calibrationChoice;
  const objective = choice?.objective ?? 'nll';
  const scores = choice ? (objective === 'brier' ? choice.brier! : choice.nll) : null;
  const by = objective === 'brier' ? 'Brier score' : 'NLL';
  const proc = r.calibrationProcedure;
  const how = proc ? `fitted by ${by}; calibration procedure per fold by its inner folds' calibration error under the conditions (overall: ${procedureName(proc, proc.overall)}); leave-one-speaker-out ${by} for reference` : `fitted and chosen by ${by}; leave-one-speaker-out ${by}`;
  const formScores = scores ? CALIBRATION_FORMS.filter((f) => scores[f] !== undefined).map((f) => `${formName(f)} ${scores[f]!.toFixed(4)}`).join(', ') : '';
  const nll = choice && scores ? ` (${how}: ${formScores})` : '';
  const sel = r.selection;
  const head = r.mode === 'loso'
    ? `Leave-one-speaker-out, recipe \`${r.recipe}\`, ${r.seeds} model(s) per fold${sel ? ' (the overall choice\'s)' : ''}${r.seed !== undefined ? `, training seed ${r.seed}` : ''}; accuracy and UAR are means over the held-out speakers (± std); ECE pooled (15 bins), ` +
      `each fold calibrated on ${calibrationSourceText(r)}; ${sel ? `the overall choice \`${sel.overall}\`'s` : 'the recipe\'s'} calibration, fitted on ` +
      (r.calibrationSources?.report === 'inner' ? 'all of its inner out-of-fold predictions' : 'the held-out predictions of every fold that trained it') +
      `: ${describeCalibration(r.calibration)}${nll}.`
    : `One model, calibration: ${describeCalibration(r.calibration)}.`;
  await writeFileAtomic(join(dir, 'REPORT.md'), `# Robustness\n\n${head} ${r.files} files, ${r.rescoredFrom ? `re-scored from the run's stored predictions (${r.rescoredFrom}) in ${r.seconds.toFixed(0)} s` : `${r.seconds.toFixed(0)} s`}.\n\n${robustnessTable(r)}\n${sel ? selectionTable(sel) + '\n' : ''}${proc ? procedureTable(proc) + '\n' : ''}${figs.join('\n')}\n`);
}

const formName = (f: CalibrationForm): string => (f === 'temperature' ? 'one temperature' : f === 'entropy-temperature' ? 'entropy-dependent' : 'entropy- and noise-floor-dependent');
/** A calibration procedure in words: "one temperature" (on every calibration set), "entropy-dependent, on original audio only". */
const procedureName = (proc: CalibrationProcedure, name: string): string => {
  const spec = proc.procedures?.[name];
  if (!spec) return formName(name as CalibrationForm);
  const all = Object.values(proc.procedures).reduce((m, p) => Math.max(m, p.sets.length), 0);
  return spec.sets.length === all ? formName(spec.form) : `${formName(spec.form)}, on ${spec.sets.join(' + ')} audio only`;
};

/** Each fold's inner score of each calibration procedure, its choice in bold. */
export function procedureTable(proc: CalibrationProcedure): string {
  const folds = Object.keys(proc.chosen);
  const names = Object.keys(proc.scores[folds[0]!] ?? {});
  return [
    `Calibration procedure per fold (criterion: ${proc.criterion}; lower is better), each fold's choice in bold:`,
    '',
    `| procedure | ${folds.map((f) => `held out ${f}`).join(' | ')} | folds choosing it |`,
    `|---|${folds.map(() => '---|').join('')}---|`,
    ...names.map((k) => `| ${procedureName(proc, k)} | ${folds.map((f) => (proc.chosen[f] === k ? `**${proc.scores[f]![k]!.toFixed(4)}**` : proc.scores[f]![k]!.toFixed(4))).join(' | ')} | ${folds.filter((f) => proc.chosen[f] === k).length} |`),
    '',
    `The report's calibration (what a model trained with this recipe stores): ${procedureName(proc, proc.overall)} (most folds; ties: best mean score).`,
  ].join('\n') + '\n';
}

/** The nested selection as a table: each held-out speaker's inner scores, its choice, and the overall choice. */
export function selectionTable(sel: NonNullable<RobustnessReport['selection']>): string {
  const folds = Object.keys(sel.chosen);
  const lines = [
    `Nested selection among ${sel.candidates.length} configurations (criterion: ${sel.criterion}); inner scores in %, each fold's choice in bold:`,
    '',
    `| configuration | ${folds.map((f) => `held out ${f}`).join(' | ')} | folds choosing it |`,
    `|---|${folds.map(() => '---|').join('')}---|`,
    ...sel.candidates.map((c) => {
      const cells = folds.map((f) => {
        const v = sel.innerScores[f]?.[c];
        const t = v === undefined ? '—' : (100 * v).toFixed(1);
        return sel.chosen[f] === c ? `**${t}**` : t;
      });
      return `| ${c} | ${cells.join(' | ')} | ${folds.filter((f) => sel.chosen[f] === c).length} |`;
    }),
    '',
    `Overall choice (most folds; ties: best mean inner score): \`${sel.overall}\`.`,
  ];
  return lines.join('\n') + '\n';
}

/**
 * Variants of `base` from a JSON array of patches: each patch names the variant (`name`) and applies
 * like a recipe file's fields to the recipe it extends (`patchRecipe`): objects merge field by field at
 * every depth (`{"offlineAugment": {"channel": {"clip": {...}}}}` adds one channel op and keeps the
 * others), arrays, values and null replace (`{"offlineAugment": {"channel": null}}`: no channel ops).
 */
export function recipeVariants(base: Recipe, json: string): Recipe[] {
  let patches: unknown;
  try {
    patches = JSON.parse(json);
  } catch (e) {
    throw new SerError('cli/bad-option', `--candidates must be a JSON array of recipe patches (${(e as Error).message})`);
  }
  if (!Array.isArray(patches) || patches.some((p) => !p || typeof p !== 'object' || typeof (p as { name?: unknown }).name !== 'string')) {
    throw new SerError('cli/bad-option', '--candidates must be a JSON array of objects, each with a "name"');
  }
  return (patches as Array<Record<string, unknown>>).map((patch, i) => patchRecipe(base, patch, `--candidates[${i}] (${String(patch.name)})`));
}
