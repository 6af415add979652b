/**
 * The headline comparison's report: every curve file of a folder named `<engine>-<way>-seed<k>.jsonl`
 * (engine `ours` or `torch`, way `honest` or `optimistic`; written by `ser study curve` and by
 * torch_seed_curve.py) picked the same way (headline.ts), means per engine, the differences, and the
 * learning curves of both engines in one figure.
 */
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from '../util/fs.js';
import { lineChart, type LineSeries } from '../util/plot/line.js';
import { pickCurve, readCurve, type CurveLine, type CurvePicks } from './headline.js';

export interface HeadlineRun {
  engine: string;
  way: 'honest' | 'optimistic';
  seed: number;
  file: string;
  curve: CurveLine[];
  picks: CurvePicks;
}

const NAME = /^(ours|torch)-(honest|optimistic)-seed(\d+)\.jsonl$/;

/** Every curve file of `dir` with at least one epoch; with `engine`, only that engine's. */
export function readHeadlineRuns(dir: string, engine?: 'ours' | 'torch'): HeadlineRun[] {
  const runs: HeadlineRun[] = [];
  for (const f of readdirSync(dir).sort()) {
    const m = NAME.exec(f);
    if (!m || (engine && m[1] !== engine)) continue;
    const curve = readCurve(join(dir, f));
    if (!curve.length) continue;
    runs.push({ engine: m[1]!, way: m[2] as 'honest' | 'optimistic', seed: Number(m[3]), file: f, curve, picks: pickCurve(curve) });
  }
  // engine, way, then seed in numbers (seed 10 after seed 9)
  return runs.sort((a, b) => a.engine.localeCompare(b.engine) || a.way.localeCompare(b.way) || a.seed - b.seed);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)} %`);

/** Means of the honest-way runs of one engine (only runs that reached `epochs`). */
export function engineMeans(runs: readonly HeadlineRun[], engine: string, epochs: number): { n: number; honest: number | null; optimistic: number | null; last: number | null } {
  const rs = runs.filter((r) => r.engine === engine && r.way === 'honest' && r.picks.epochs >= epochs);
  if (!rs.length) return { n: 0, honest: null, optimistic: null, last: null };
  return { n: rs.length, honest: mean(rs.map((r) => r.picks.honest!.test)), optimistic: mean(rs.map((r) => r.picks.optimistic.test)), last: mean(rs.map((r) => r.picks.last.test)) };
}

/** Writes `dir/REPORT.md` and `dir/figures/curves-*.svg`; returns the markdown. */
export async function writeHeadlineReport(dir: string, o: { epochs: number; command?: string; reference?: string }): Promise<string> {
  // with `reference`, PyTorch's curves come from that folder (the same export and split) and only ours from `dir`
  const runs = o.reference ? [...readHeadlineRuns(dir, 'ours'), ...readHeadlineRuns(o.reference, 'torch')] : readHeadlineRuns(dir);
  await ensureDir(join(dir, 'figures'));
  const L: string[] = [];
  L.push("# The study's headline, our engine against PyTorch, seed for seed", '');
  L.push(
    `cnn3, batch 1 (one sample per Adam step, lr 1e-3), the study's random stratified 80/20 split, the same exported features and split for both engines, ${o.epochs} epochs planned. ` +
      '"honest" runs carve a validation set from the training 80 % and take the test accuracy at the best validation epoch; ' +
      '"optimistic" is the best test accuracy over all epochs (the study\'s way; its own run trains on the whole 80 %). Both engines\' curves are picked by the same code (`src/eval/headline.ts`).',
    '',
  );
  if (o.command) L.push('Re-run both sides:', '', '```sh', o.command, '```', '');
  if (o.reference) L.push(`PyTorch's curves are read from \`${o.reference}\` (the same export and split).`, '');
  L.push('## Per run', '', '| engine | way | seed | epochs done | honest (epoch) | OPTIMISTIC (epoch) | last epoch | last loss | time |', '|---|---|---|---|---|---|---|---|---|');
  for (const r of runs) {
    const p = r.picks;
    L.push(`| ${r.engine} | ${r.way} | ${r.seed} | ${p.epochs} | ${p.honest ? `${pct(p.honest.test)} (${p.honest.epoch})` : '—'} | ${pct(p.optimistic.test)} (${p.optimistic.epoch}) | ${pct(p.last.test)} | ${p.last.loss.toFixed(3)} | ${(p.seconds / 60).toFixed(0)} min |`);
  }
  L.push('', '"time" sums the wall seconds of the epochs on a shared machine, with the runs of both engines in parallel at different priorities: it is not a speed comparison (that is `ser bench train --torch`, BENCHMARKS.md).');
  L.push('', `## Means over the finished honest-way seeds (${o.epochs} epochs)`, '', '| engine | seeds | honest | OPTIMISTIC | last epoch |', '|---|---|---|---|---|');
  const ours = engineMeans(runs, 'ours', o.epochs);
  const torch = engineMeans(runs, 'torch', o.epochs);
  for (const [name, m] of [['ours', ours], ['torch', torch]] as const) L.push(`| ${name} | ${m.n} | ${pct(m.honest)} | ${pct(m.optimistic)} | ${pct(m.last)} |`);
  if (ours.n && torch.n) {
    const dh = 100 * (ours.honest! - torch.honest!);
    const dO = 100 * (ours.optimistic! - torch.optimistic!);
    L.push('', `Difference ours − PyTorch: honest ${dh.toFixed(1)} points, OPTIMISTIC ${dO.toFixed(1)} points (target: within 2 points each, over 3 seeds each; here ${ours.n} and ${torch.n}).`);
  } else {
    L.push('', 'Not every engine has a finished run yet: the means above count only runs that reached the planned epochs.');
  }
  for (const [key, title, y] of [['loss', 'training loss', undefined], ['test', 'test accuracy', [0, 1]]] as const) {
    const series: LineSeries[] = runs.map((r) => ({
      name: `${r.engine} ${r.way} s${r.seed}`,
      x: r.curve.map((l) => l.epoch),
      y: r.curve.map((l) => (key === 'loss' ? l.loss : (l.test ?? Number.NaN))),
      dashed: r.engine === 'torch',
    }));
    const svg = lineChart(series, { title: `cnn3 batch 1: ${title} per epoch (solid: ours, dashed: PyTorch)`, xLabel: 'epoch', yLabel: title, ...(y ? { yRange: y as [number, number] } : {}), width: 760 });
    await writeFile(join(dir, 'figures', `curves-${key}.svg`), svg);
    L.push('', `![${title} per epoch, ours solid, PyTorch dashed](figures/curves-${key}.svg)`);
  }
  const md = `${L.join('\n')}\n`;
  await writeFile(join(dir, 'REPORT.md'), md);
  return md;
}
