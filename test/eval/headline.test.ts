import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportStudySplit, honestPickVariants, pickCurve, readCurve, readSplitExport, trainCurve, type CurveLine, type IndexEntry } from '../../src/eval/headline.js';
import { engineMeans, lossEpochs, meanTestAccuracy, readHeadlineRuns, settledEpochs, welchDiff, writeHeadlineReport } from '../../src/eval/headline-report.js';
import { writeFidelityData } from '../train/fidelity-data.js';
import { writeToyCorpus } from '../train/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-headline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const line = (epoch: number, loss: number, val: number | null, test: number): CurveLine => ({ epoch, loss, val, test, s: 2 });

describe('headline curves: picks, files, report', () => {
  it('picks honest at the best validation epoch and OPTIMISTIC at the best test epoch, earliest on ties', () => {
    const c = [line(1, 1.6, 0.2, 0.2), line(2, 1.4, 0.5, 0.3), line(3, 1.2, 0.5, 0.6), line(4, 1.0, 0.4, 0.6)];
    const p = pickCurve(c);
    expect(p.honest).toEqual({ epoch: 2, test: 0.3 });
    expect(p.optimistic).toEqual({ epoch: 3, test: 0.6 });
    expect(p.last).toEqual({ epoch: 4, test: 0.6, loss: 1.0 });
    expect(p.seconds).toBe(8);
    expect(pickCurve([line(1, 1.6, null, 0.4)]).honest).toBeNull();
  });

  it('honest picks by other rules: latest tie, mean over ties, centre of the best 5-epoch validation mean', () => {
    const val = [0.2, 0.5, 0.4, 0.5, 0.45, 0.45, 0.45, 0.1];
    const test = [0.1, 0.3, 0.6, 0.5, 0.7, 0.8, 0.2, 0.4];
    const c = val.map((v, i) => line(i + 1, 1, v, test[i]!));
    // ties at epochs 2 and 4; 5-epoch means (centres 3..6): 0.41, 0.46, 0.45, 0.39 → centre 4
    expect(honestPickVariants(c)).toEqual({ earliest: 0.3, latest: 0.5, 'tied-mean': 0.4, 'smoothed-5': 0.5, tied: 2 });
    expect(honestPickVariants(c).earliest).toBe(pickCurve(c).honest!.test);
    expect(() => honestPickVariants([line(1, 1, null, 0.3)])).toThrow(/validation/);
  });

  it('reads a curve file whose last epoch was written twice and cut by a kill', () => {
    const f = join(dir, 'cut.jsonl');
    writeFileSync(f, [line(1, 1.6, 0.2, 0.2), line(2, 1.5, 0.2, 0.2), line(2, 1.4, 0.3, 0.3)].map((l) => JSON.stringify(l)).join('\n') + '\n{"epoch":3,"lo');
    expect(readCurve(f)).toEqual([line(1, 1.6, 0.2, 0.2), line(2, 1.4, 0.3, 0.3)]);
  });

  it('reports per-run picks and per-engine means over runs that reached the planned epochs', async () => {
    const d = join(dir, 'report');
    mkdirSync(d);
    const w = (name: string, c: CurveLine[]) => writeFileSync(join(d, name), c.map((l) => JSON.stringify(l)).join('\n'));
    w('ours-honest-seed1.jsonl', [line(1, 1.6, 0.2, 0.2), line(2, 1.2, 0.6, 0.5)]);
    w('ours-honest-seed2.jsonl', [line(1, 1.6, 0.4, 0.3), line(2, 1.2, 0.3, 0.7)]);
    w('torch-honest-seed1.jsonl', [line(1, 1.6, 0.2, 0.2), line(2, 1.1, 0.6, 0.6)]);
    w('torch-honest-seed2.jsonl', [line(1, 1.6, 0.2, 0.2)]); // unfinished
    w('notes.jsonl', [line(1, 1, 1, 1)]);
    const runs = readHeadlineRuns(d);
    expect(runs.map((r) => r.file)).toEqual(['ours-honest-seed1.jsonl', 'ours-honest-seed2.jsonl', 'torch-honest-seed1.jsonl', 'torch-honest-seed2.jsonl']);
    const ours = engineMeans(runs, 'ours', 2);
    expect(ours.n).toBe(2);
    expect(ours.honest).toBeCloseTo((0.5 + 0.3) / 2, 12);
    expect(ours.optimistic).toBeCloseTo((0.5 + 0.7) / 2, 12);
    expect(engineMeans(runs, 'torch', 2)).toEqual({ n: 1, honest: 0.6, optimistic: 0.6, last: 0.6 });
    const md = await writeHeadlineReport(d, { epochs: 2 });
    expect(md).toContain('| ours | 2 | 40.0 % | 60.0 % | 60.0 % |');
    expect(md).toContain('Difference ours − PyTorch: honest -20.0 points, OPTIMISTIC 0.0 points');
    // epochs 1–2 settle after epoch floor(2 / 4) = 0: ours' curves average 0.35 and 0.5, PyTorch's 0.4
    expect(md).toContain('| ours | 42.5 % | 40.0 % | -2.5 | 1.5 |');
    expect(md).toContain('| torch | 40.0 % | 60.0 % | 20.0 | 2 |');
    // the post-hoc table of other honest-pick rules: its first row is the rule of the figures above
    expect(md).toContain('| earliest epoch of best validation accuracy (the rule above) | 40.0 % | 60.0 % | -20.0 |');
    expect(md).toContain('validation holds 10 files (the fewest its accuracies are all fractions of), so one file moves it by 10.0 points');
    // curve means 35 and 50 against 40; pick gains +15 and −20 against +20 (one PyTorch run: its variance counts 0)
    expect(md).toContain('of the curve means 2.5 points (standard error 7.5, t 0.33); of what the pick adds -22.5 points (standard error 17.5, t -1.29)');
    expect(readFileSync(join(d, 'figures', 'curves-loss.svg'), 'utf8')).toContain('<svg');
  });

  it("Welch's difference: means, standard error from the sample variances, t", () => {
    // a = 1, 2, 3 (mean 2, variance 1); b = 2, 4 (mean 3, variance 2): se = sqrt(1/3 + 2/2)
    const w = welchDiff([1, 2, 3], [2, 4]);
    expect(w.diff).toBe(-1);
    expect(w.se).toBeCloseTo(Math.sqrt(1 / 3 + 1), 14);
    expect(w.t).toBeCloseTo(-1 / Math.sqrt(4 / 3), 14);
    expect(welchDiff([1, 1], [1, 1]).t).toBeNaN();
    expect(lossEpochs(240)).toEqual([10, 40, 80, 160, 240]);
    expect(lossEpochs(50)).toEqual([10, 40, 50]);
    expect(lossEpochs(40)).toEqual([10, 40]);
    expect(settledEpochs(240)).toEqual([61, 240]);
    expect(settledEpochs(2)).toEqual([1, 2]);
    expect(meanTestAccuracy([line(1, 1.6, 0.2, 0.2), line(2, 1.2, 0.6, 0.5), line(3, 1.1, 0.6, 0.8)], 2, 3)).toBeCloseTo(0.65, 12);
  });

  it("with a reference folder: ours from the folder, PyTorch's curves from the reference only", async () => {
    const d = join(dir, 'report-ours');
    mkdirSync(d);
    writeFileSync(join(d, 'ours-honest-seed5.jsonl'), [line(1, 1.6, 0.2, 0.2), line(2, 1.2, 0.6, 0.4)].map((l) => JSON.stringify(l)).join('\n'));
    writeFileSync(join(d, 'torch-honest-seed9.jsonl'), JSON.stringify(line(1, 1.6, 0.2, 0.2))); // ignored: PyTorch comes from the reference
    const md = await writeHeadlineReport(d, { epochs: 2, reference: join(dir, 'report') });
    expect(md).toContain('| ours | 1 | 40.0 % | 40.0 % | 40.0 % |');
    expect(md).toContain('| torch | 1 | 60.0 % | 60.0 % | 60.0 % |');
    expect(md).not.toContain('seed9');
  });
});

describe('headline: export and our engine on it', () => {
  it("exports the study's split in torch_seed_curve.py's format: the same test set both ways, validation carved from the 80 %", async () => {
    const corpus = join(dir, 'corpus');
    mkdirSync(corpus);
    writeToyCorpus(corpus, (p, b) => writeFileSync(p, b), [1, 2], 5);
    const r = await exportStudySplit({ data: corpus, out: join(dir, 'split'), cacheDir: join(dir, 'cache'), progress: false });
    expect(r.counts.honest.train + r.counts.honest.val).toBe(r.counts.optimistic.train);
    expect(r.counts.honest.test).toBe(r.counts.optimistic.test);
    expect(r.counts.optimistic.test).toBe(10); // 20 % of 50, stratified: 2 per emotion
    expect(r.counts.honest.val).toBeGreaterThan(0);
    const honest = JSON.parse(readFileSync(r.honestIndex, 'utf8')) as IndexEntry[];
    const optimistic = JSON.parse(readFileSync(r.optimisticIndex, 'utf8')) as IndexEntry[];
    const key = (e: IndexEntry) => `${e.file}@${e.offset}`;
    expect(new Set(honest.filter((e) => e.role === 'test').map(key))).toEqual(new Set(optimistic.filter((e) => e.role === 'test').map(key)));
    expect(new Set(honest.filter((e) => e.role !== 'test').map(key))).toEqual(new Set(optimistic.filter((e) => e.role === 'train').map(key)));
    const floats = readFileSync(r.featuresFile).byteLength / 4;
    expect(floats).toBe(honest.reduce((a, e) => a + e.nMels * e.frames, 0));
    const back = readSplitExport(r.featuresFile, r.honestIndex);
    expect(back.labelNames).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad']);
    expect(back.sets.val.specs.length).toBe(r.counts.honest.val);
  }, 60_000);

  it('refuses an index entry that does not fit the features file', () => {
    const f = writeFidelityData(mkdtempSync(join(dir, 'bad-')));
    const idx = JSON.parse(readFileSync(f.index, 'utf8')) as IndexEntry[];
    idx[3]!.offset = 1e9;
    writeFileSync(f.index, JSON.stringify(idx));
    expect(() => readSplitExport(f.features, f.index)).toThrow(/entry 3 .* does not fit/);
  });

  it('a run stopped after 2 epochs and resumed gives the same curve as one straight run', async () => {
    const f = writeFidelityData(mkdtempSync(join(dir, 'fid-')));
    const straight = await trainCurve({ ...f, epochs: 3, seed: 7, threads: 1 });
    const out = join(dir, 'resumed');
    await trainCurve({ ...f, epochs: 3, seed: 7, threads: 1, out, stopAfterEpochs: 2 });
    expect(readCurve(join(out, 'curve.jsonl'))).toHaveLength(2);
    const resumed = await trainCurve({ ...f, epochs: 3, seed: 7, threads: 1, out });
    expect(resumed.map((l) => [l.epoch, l.loss, l.val, l.test])).toEqual(straight.map((l) => [l.epoch, l.loss, l.val, l.test]));
  }, 120_000);
});
