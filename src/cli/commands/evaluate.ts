/**
 * `ser evaluate --data DIR [--model DIR] [--json]`: classifies every file of a labelled corpus on
 * its own (exactly like `ser predict`) and scores the predictions: accuracy, UAR, macro F1 and the
 * confusion matrix (rows = true labels). Files that cannot be read are reported on stderr and left
 * out of n. Without --model the bundled `models/default/` is used.
 */
import type { Command } from 'commander';
import { Classifier, defaultModelDir } from '../../infer/classifier.js';
import { scanCorpus, type CorpusFormat } from '../../data/corpus.js';
import { evaluatePredictions, type Evaluation } from '../../eval/metrics.js';
import { describeError, SerError } from '../../util/errors.js';
import { createProgress } from '../../util/progress.js';

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
  data: string;
  model?: string;
  json?: boolean;
  format?: string;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('score a model on a labelled corpus: accuracy, UAR, macro F1, confusion matrix (each file classified on its own)')
    .requiredOption('--data <dir>', 'labelled corpus folder (AESDD, folder-per-label, CSV manifest, ...)')
    .option('--model <dir>', 'model folder (default: the bundled models/default/)')
    .option('--json', 'print one JSON object {n, accuracy, uar, macroF1, labels, confusion}')
    .option('--format <name>', 'corpus format (default: auto-detect)')
    .option('--no-progress', 'no progress bar')
    .action(async (flags: EvaluateFlags) => {
      const report = await runEvaluate(flags);
      const { skipped: _skipped, ...json } = report;
      if (flags.json) process.stdout.write(JSON.stringify(json) + '\n');
      else process.stdout.write(formatReport(report));
    });
}

/** The body of `ser evaluate`; problems go to stderr. */
export async function runEvaluate(flags: EvaluateFlags): Promise<EvaluateReport> {
  const clf = await Classifier.load(flags.model ?? defaultModelDir());
  const labels = clf.labels;
  const corpus = scanCorpus(flags.data, flags.format ? { format: flags.format as CorpusFormat } : {});
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
