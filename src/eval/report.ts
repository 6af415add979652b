/**
 * The experiment report: REPORT.md (tables + links to SVG figures) and report.html (the same
 * content, figures inline). Both are rendered from one list of blocks.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { confusionMatrix as confusionSvg, lineChart, escapeXml, barChart } from '../util/plot/index.js';
import { formatDuration } from '../util/progress.js';
import type { ConfigSummary, ExperimentSummary } from './summary.js';
import { STUDY_RESULTS, STUDY_UNSEEN_SPEAKER } from './study.js';

/** What a section says when the experiment's `--protocols` left its protocol out. */
const NOT_REQUESTED = 'Not run in this experiment (`--protocols` left this protocol out).';

type Block =
  | { kind: 'h'; level: 1 | 2 | 3; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'figures'; items: Array<{ file: string; svg: string; caption: string }> };

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–');
const pm = (m: { mean: number; std: number }) => (Number.isFinite(m.mean) ? `${pct(m.mean)} ± ${(100 * m.std).toFixed(1)}` : '–');
const cfgName = (c: ConfigSummary) => `${c.recipe} lr ${c.lr}`;
const slug = (c: ConfigSummary) => `${c.recipe}_lr${c.lr}_${c.protocol}`.replace(/[^A-Za-z0-9_.-]/g, '-');

/** Builds the report blocks from a summary. */
export function reportBlocks(s: ExperimentSummary): Block[] {
  const b: Block[] = [];
  const loso = s.configs.filter((c) => c.protocol === 'loso');
  const study = s.configs.filter((c) => c.protocol === 'study');
  b.push({ kind: 'h', level: 1, text: 'Speech emotion recognition: the study\'s comparison, re-run honestly' });
  b.push({
    kind: 'p',
    text:
      `Data: ${s.data} — ${s.files} files, ${s.speakers.length} speakers (${s.speakers.join(', ')}), labels ${s.labelNames.join(', ')}. ` +
      `${s.quick ? 'QUICK run (reduced grid: 5 recipes, 2 epochs, one learning rate, 1 augmented copy with mel-axis pitch warp instead of waveform pitch shift, batch-1 recipes trained with batch 8) — figures are indicative only, far from converged. ' : ''}` +
      `Seed ${s.seed}; ${s.jobs} parallel jobs; total time ${formatDuration(s.totalSeconds)}; started ${s.startedAt}. ` +
      `Features${s.recipeFeatureKeys && Object.keys(s.recipeFeatureKeys).length ? ' (every recipe not listed next)' : ''}: ${s.featureKey}.` +
      Object.entries(s.recipeFeatureKeys ?? {}).map(([r, k]) => ` Features of ${r}: ${k}.`).join(''),
  });
  if (s.failed.length) b.push({ kind: 'p', text: `FAILED runs (${s.failed.length}): ${s.failed.map((f) => `${f.id}: ${f.message}`).join('; ')}` });
  if (s.skippedFiles.length) b.push({ kind: 'p', text: `Skipped files (${s.skippedFiles.length}): ${s.skippedFiles.map((f) => f.message).join('; ')}` });

  b.push({ kind: 'h', level: 2, text: 'Headline: unseen speakers (leave-one-speaker-out)' });
  if (loso.length) {
    b.push({
      kind: 'p',
      text:
        'Each speaker is the test set once; the epoch is chosen on validation data carved from the training speakers only. ' +
        'Accuracy / UAR / macro F1 are mean ± std over speakers. "best-test epoch" picks the epoch on the test speaker (OPTIMISTIC, the study\'s way) and is shown only for comparison. ' +
        `Reference: the study's own pipeline re-run on an unseen speaker scored ${pct(STUDY_UNSEEN_SPEAKER.honest[0]!)}–${pct(STUDY_UNSEEN_SPEAKER.honest[1]!)} honestly (${pct(STUDY_UNSEEN_SPEAKER.optimistic[0]!)}–${pct(STUDY_UNSEEN_SPEAKER.optimistic[1]!)} at the best test epoch).`,
    });
    b.push({
      kind: 'table',
      head: ['recipe', 'lr', 'epochs', 'accuracy (val-chosen epoch)', 'UAR', 'macro F1', 'pooled accuracy', 'OPTIMISTIC best-test epoch', 'last epoch', 'train time'],
      rows: loso.map((c) => [c.recipe, String(c.lr), String(c.epochs), pm(c.honest.accuracy), pm(c.honest.uar), pm(c.honest.macroF1), pct(c.honest.pooledAccuracy ?? NaN), pm(c.optimistic.accuracy), pm(c.last.accuracy), formatDuration(c.seconds)]),
    });
    const folds = [...new Set(loso.flatMap((c) => Object.keys(c.honest.perFold)))];
    b.push({ kind: 'h', level: 3, text: 'Per-speaker accuracy (val-chosen epoch)' });
    b.push({ kind: 'table', head: ['recipe', 'lr', ...folds], rows: loso.map((c) => [c.recipe, String(c.lr), ...folds.map((f) => pct(c.honest.perFold[f]?.accuracy ?? NaN))]) });
  } else {
    b.push({ kind: 'p', text: s.losoSkipped ? `Not run: ${s.losoSkipped}.` : NOT_REQUESTED });
  }

  b.push({ kind: 'h', level: 2, text: 'The study\'s protocol: random stratified 80/20 split (seed 42)' });
  if (study.length) {
    b.push({
      kind: 'p',
      text:
        'Same actors in training and test. OPTIMISTIC = best test accuracy over all epochs (the epoch chosen on the test set, as the study did). ' +
        'Honest = test accuracy at the epoch with the best accuracy on a validation set carved from the training 80%. The study\'s figures used 604 files (six actors).',
    });
    b.push({
      kind: 'table',
      head: ['recipe', 'lr', 'epochs', 'study reported (epoch)', 'ours OPTIMISTIC (epoch)', 'ours honest (epoch)', 'honest UAR', 'honest macro F1', 'last epoch', 'train time'],
      rows: study.map((c) => {
        const r = c.results[0]!;
        const ref = STUDY_RESULTS[c.recipe];
        return [
          c.recipe, String(c.lr), String(c.epochs),
          ref ? `${pct(ref.accuracy)} (${ref.epoch}) at lr ${ref.lr}` : '–',
          `${pct(r.optimistic.accuracy)} (${r.optimistic.epoch})`, `${pct(r.honest.accuracy)} (${r.honest.epoch})`,
          pct(r.honest.uar), pct(r.honest.macroF1), pct(r.last.accuracy), formatDuration(c.seconds),
        ];
      }),
    });
  } else {
    b.push({ kind: 'p', text: NOT_REQUESTED });
  }

  b.push({ kind: 'h', level: 2, text: 'Training time per model' });
  b.push({
    kind: 'table',
    head: ['run', 'train files', 'test files', 'epochs', 'seconds', 's / epoch'],
    rows: s.configs.flatMap((c) => c.results.map((r) => [r.id, String(r.nTrain), String(r.nTest), String(r.curves.length), r.seconds.toFixed(1), (r.seconds / Math.max(1, r.curves.length)).toFixed(2)])),
  });

  b.push({ kind: 'h', level: 2, text: 'Figures' });
  const figs: Array<{ file: string; svg: string; caption: string }> = [];
  if (loso.length) {
    figs.push({
      file: 'loso-accuracy.svg',
      svg: barChart(loso.map(cfgName), loso.map((c) => c.honest.accuracy.mean), { title: 'Unseen-speaker accuracy (val-chosen epoch, mean over speakers)', width: 760 }),
      caption: 'Leave-one-speaker-out accuracy per recipe.',
    });
  }
  for (const c of s.configs) {
    const pooled = c.honest.pooledConfusion;
    if (pooled) {
      figs.push({
        file: `${slug(c)}-confusion.svg`,
        svg: confusionSvg(s.labelNames, pooled, { title: `${cfgName(c)} — ${c.protocol} (val-chosen epoch${c.protocol === 'loso' ? ', pooled over speakers' : ''})`, cell: 48 }),
        caption: `Confusion matrix, ${cfgName(c)}, ${c.protocol}.`,
      });
    }
    const series = c.protocol === 'study'
      ? (() => {
          const r = c.results[0]!;
          const x = r.curves.map((p) => p.epoch);
          return [
            { name: 'train loss', x, y: r.curves.map((p) => p.loss) },
            { name: 'val accuracy', x, y: r.curves.map((p) => p.valAccuracy ?? NaN) },
            { name: 'test accuracy', x, y: r.curves.map((p) => p.testAccuracy) },
          ];
        })()
      : c.results.map((r) => ({ name: r.fold, x: r.curves.map((p) => p.epoch), y: r.curves.map((p) => p.testAccuracy) }));
    figs.push({
      file: `${slug(c)}-curves.svg`,
      svg: lineChart(series, { title: c.protocol === 'study' ? `${cfgName(c)}: loss and accuracy per epoch` : `${cfgName(c)}: test-speaker accuracy per epoch`, xLabel: 'epoch', width: 560, height: 300, markers: (c.results[0]?.curves.length ?? 0) <= 30 }),
      caption: `Curves, ${cfgName(c)}, ${c.protocol}.`,
    });
    if (c.protocol === 'loso') {
      const x = c.results[0]?.curves.map((p) => p.epoch) ?? [];
      const mean = x.map((_, i) => c.results.reduce((a, r) => a + (r.curves[i]?.loss ?? NaN), 0) / c.results.length);
      figs.push({
        file: `${slug(c)}-loss.svg`,
        svg: lineChart([{ name: 'train loss (mean over folds)', x, y: mean }], { title: `${cfgName(c)}: training loss`, xLabel: 'epoch', width: 560, height: 260 }),
        caption: `Training loss, ${cfgName(c)}, leave-one-speaker-out.`,
      });
    }
  }
  b.push({ kind: 'figures', items: figs });
  return b;
}

function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.kind === 'h') out.push(`${'#'.repeat(b.level)} ${b.text}`, '');
    else if (b.kind === 'p') out.push(b.text, '');
    else if (b.kind === 'table') {
      const esc = (x: string) => x.replace(/\|/g, '\\|');
      out.push(`| ${b.head.map(esc).join(' | ')} |`, `|${b.head.map(() => '---').join('|')}|`, ...b.rows.map((r) => `| ${r.map(esc).join(' | ')} |`), '');
    } else {
      for (const f of b.items) out.push(`![${f.caption}](figures/${f.file})`, '');
    }
  }
  return out.join('\n');
}

function toHtml(blocks: Block[]): string {
  const body: string[] = [];
  for (const b of blocks) {
    if (b.kind === 'h') body.push(`<h${b.level}>${escapeXml(b.text)}</h${b.level}>`);
    else if (b.kind === 'p') body.push(`<p>${escapeXml(b.text)}</p>`);
    else if (b.kind === 'table') {
      body.push(
        `<table><thead><tr>${b.head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
          b.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('') +
          '</tbody></table>',
      );
    } else {
      body.push('<div class="figs">' + b.items.map((f) => `<figure>${f.svg}<figcaption>${escapeXml(f.caption)}</figcaption></figure>`).join('') + '</div>');
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiments report</title>
<style>
body{font-family:Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.figs{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0}figcaption{font-size:12px;color:#555}
</style></head><body>
${body.join('\n')}
</body></html>
`;
}

/** Writes REPORT.md, report.html and figures/*.svg into `out`. */
export async function writeReport(out: string, summary: ExperimentSummary): Promise<void> {
  const blocks = reportBlocks(summary);
  for (const b of blocks) if (b.kind === 'figures') for (const f of b.items) await writeFileAtomic(join(out, 'figures', f.file), f.svg);
  await writeFileAtomic(join(out, 'REPORT.md'), toMarkdown(blocks));
  await writeFileAtomic(join(out, 'report.html'), toHtml(blocks));
}
