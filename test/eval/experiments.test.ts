import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { experimentGrid, GRID_EPOCHS, planJobs, runExperiments, summarizeResults, type JobResult } from '../../src/eval/experiments.js';
import { featureParams } from '../../src/features/params.js';
import { writeToyCorpus } from '../train/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TINY = { features: { preprocess: 'none' as const, nMels: 16, nFft: 256, hopLength: 64, fmax: 4000 }, archOptions: { channels: [2, 4, 4] } };

describe('experiment planning', () => {
  it('quick grid: five recipes, one lr each (the study\'s), 2 epochs, batch ≥ 8; full grid: three lrs', () => {
    expect(experimentGrid({ quick: true, recipes: ['seed-cnn4-resized'] })).toEqual([{ recipe: 'seed-cnn4-resized', lr: 0.0001, epochs: 2 }]);
    expect(experimentGrid({ quick: true }).map((g) => `${g.recipe}:${g.batchSize ?? '-'}`)).toEqual(['seed-cnn3:8', 'seed-cnn4-resized:-', 'seed-cnn4-aug:8', 'ser-best:-', 'ser-stats:-']);
    expect(experimentGrid({ recipes: ['seed-cnn3'] }).map((g) => g.lr)).toEqual([0.01, 0.001, 0.0001]);
    // the full grid: the study's recipes at GRID_EPOCHS, batch-1 as masked batches of 8, augmentation on the
    // fly unless offline copies are asked for; ours at their own learning rate and epochs
    expect(experimentGrid({ recipes: ['seed-cnn4-aug'] })[0]).toEqual({ recipe: 'seed-cnn4-aug', lr: 0.01, epochs: GRID_EPOCHS, batchSize: 8, augment: 'online' });
    expect(experimentGrid({ recipes: ['seed-cnn4-aug'], offlineCopies: 10, batchSize: 1 })[0]).toEqual({ recipe: 'seed-cnn4-aug', lr: 0.01, epochs: GRID_EPOCHS });
    expect(experimentGrid({ recipes: ['seed-cnn3-resized'] }).map((g) => g.batchSize)).toEqual([undefined, undefined, undefined]);
    expect(experimentGrid({ recipes: ['ser-stats'] })).toEqual([{ recipe: 'ser-stats', lr: 0.003, epochs: 20 }]);
  });

  it('LOSO never puts the test speaker in training or validation; study split is 80/20', () => {
    const items = ['1', '2', '3'].flatMap((spk) => ['angry', 'sad'].flatMap((label) => [1, 2, 3, 4, 5].map((i) => ({ path: `/x/${label}${i}-${spk}.wav`, label, speaker: spk }))));
    const jobs = planJobs(items, [{ recipe: 'seed-cnn3', lr: 0.001, epochs: 1 }], {
      protocols: ['study', 'loso'], seed: 42, params: featureParams(), archOptions: null, cacheDir: '/c', backend: null, offlineCopies: null, out: '/o', labelNames: ['angry', 'sad'],
    });
    expect(jobs.map((j) => j.fold)).toEqual(['random-80-20', 'speaker-1', 'speaker-2', 'speaker-3']);
    const study = jobs[0]!;
    expect(study.test).toHaveLength(6);
    expect(study.train.length + study.validation.length).toBe(24);
    for (const j of jobs.slice(1)) {
      const spk = j.fold.replace('speaker-', '');
      expect(j.test.every((i) => i.speaker === spk)).toBe(true);
      expect([...j.train, ...j.validation].some((i) => i.speaker === spk)).toBe(false);
      expect(j.validation.length).toBeGreaterThan(0);
    }
  });

  it('summarises folds: honest vs optimistic selection', () => {
    const mk = (fold: string, honest: number, optimistic: number): JobResult => {
      const at = (accuracy: number, epoch: number) => ({ epoch, accuracy, uar: accuracy, macroF1: accuracy, confusion: [[1, 0], [0, 1]] });
      return { id: fold, recipe: 'r', lr: 1, epochs: 2, protocol: 'loso', fold, nTrain: 1, nValidation: 1, nTest: 2, honest: at(honest, 1), optimistic: at(optimistic, 2), last: at(honest, 2), seconds: 1, curves: [] };
    };
    const [c] = summarizeResults([mk('speaker-1', 0.5, 0.75), mk('speaker-2', 0.25, 0.75)]);
    expect(c!.honest.accuracy.mean).toBe(0.375);
    expect(c!.optimistic.accuracy.mean).toBe(0.75);
    expect(c!.honest.perFold['speaker-2']!.accuracy).toBe(0.25);
  });
});

describe('ser experiments (tiny, parallel child processes)', () => {
  it('runs both protocols with --jobs 2 and writes REPORT.md + report.html; a re-run reuses finished runs', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-exp-'));
    try {
      const data = join(tmp, 'corpus');
      mkdirSync(data);
      writeToyCorpus(data, (p, b) => writeFileSync(p, b), [1, 2], 2);
      const opts = {
        data, out: join(tmp, 'out'), quick: true, jobs: 2, recipes: ['seed-cnn3'], epochs: 1, cacheDir: join(tmp, 'cache'),
        backend: 'cpu', progress: false, selfCommand: [process.execPath, '--import', 'tsx', join(ROOT, 'test/train/ser-entry.ts')], ...TINY,
      };
      const s = await runExperiments(opts);
      expect(s.failed).toEqual([]);
      expect(s.configs.map((c) => `${c.protocol}:${c.results.length}`).sort()).toEqual(['loso:2', 'study:1']);
      const loso = s.configs.find((c) => c.protocol === 'loso')!;
      expect(Object.keys(loso.honest.perFold).sort()).toEqual(['speaker-1', 'speaker-2']);
      expect(loso.results.every((r) => r.nTest === 10)).toBe(true);
      const md = readFileSync(join(tmp, 'out', 'REPORT.md'), 'utf8');
      expect(md).toMatch(/leave-one-speaker-out/);
      expect(md).toMatch(/OPTIMISTIC/);
      expect(md).toMatch(/74\.4% \(236\)/); // the study's figure beside ours
      expect(readFileSync(join(tmp, 'out', 'report.html'), 'utf8')).toMatch(/<svg/);
      expect(existsSync(join(tmp, 'out', 'figures', 'seed-cnn3_lr0.001_loso-confusion.svg'))).toBe(true);
      // re-run: every job already has its result → same numbers, in-process, no training
      const again = await runExperiments({ ...opts, jobs: 1, createTrainer: async () => { throw new Error('must not train'); } });
      expect(again.failed).toEqual([]);
      expect(again.configs.find((c) => c.protocol === 'loso')!.honest.accuracy).toEqual(loso.honest.accuracy);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
