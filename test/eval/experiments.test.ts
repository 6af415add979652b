import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiments } from '../../src/eval/experiments.js';
import { jobEntryCommand } from '../../src/cli/commands/experiments.js';
import { experimentGrid, planJobs } from '../../src/eval/grid.js';
import { GRID_EPOCHS } from '../../src/eval/study.js';
import { formatCostPlan, planCost } from '../../src/eval/budget.js';
import type { JobResult } from '../../src/eval/job.js';
import { summarizeResults } from '../../src/eval/summary.js';
import { jobEpochsDone, runJob } from '../../src/eval/job.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { CHECKPOINT_FILE } from '../../src/train/loop.js';
import type { JobSpec } from '../../src/eval/grid.js';
import { writePackedFeatures } from '../../src/eval/packed-features.js';
import type { Trainer, TrainerFactory } from '../../src/train/trainer.js';
import { toyData } from '../train/helpers.js';
import { featureParams } from '../../src/features/params.js';
import { writeToyCorpus } from '../train/helpers.js';

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

  it("the study's budget: each recipe at its own epochs, batch size, lr and offline copies; explicit options still win", () => {
    expect(experimentGrid({ budget: 'study', recipes: ['seed-cnn3', 'seed-cnn4-resized', 'seed-cnn4-aug'] })).toEqual([
      { recipe: 'seed-cnn3', lr: 0.001, epochs: 300 },
      { recipe: 'seed-cnn4-resized', lr: 0.0001, epochs: 50 },
      { recipe: 'seed-cnn4-aug', lr: 0.0001, epochs: 100 },
    ]);
    expect(experimentGrid({ budget: 'study', recipes: ['seed-cnn3'], epochs: 240, lrs: [0.01] })).toEqual([{ recipe: 'seed-cnn3', lr: 0.01, epochs: 240 }]);
  });

  it('the plan counts sample passes (epochs × (1 + copies) × training files) and times them per architecture and batch', async () => {
    const items = ['1', '2'].flatMap((spk) => ['angry', 'sad'].flatMap((label) => [1, 2, 3, 4, 5].map((i) => ({ path: `/x/${label}${i}-${spk}.wav`, label, speaker: spk }))));
    const grid = experimentGrid({ budget: 'study', recipes: ['seed-cnn3', 'seed-cnn3-aug'] });
    const jobs = planJobs(items, grid, { protocols: ['study'], seed: 42, params: featureParams(), archOptions: null, cacheDir: '/c', backend: null, offlineCopies: null, out: '/o', labelNames: ['angry', 'sad'] });
    const timed: string[] = [];
    const plan = await planCost(jobs, { jobs: 2, threadsPerJob: 1, frames: 300, rows: 128, measure: async (o) => { timed.push(`${o.arch}/${o.batch}/${o.frames}`); return 10; } });
    const nTrain = jobs[0]!.train.length;
    expect(plan.rows.map((r) => [r.recipe, r.runs, r.samplePasses])).toEqual([['seed-cnn3', 1, 300 * nTrain], ['seed-cnn3-aug', 1, 100 * 11 * nTrain]]);
    expect(timed).toEqual(['cnn3/1/300']); // one measurement per (architecture, batch, frames)
    expect(plan.wallHours).toBeCloseTo(((300 + 1100) * nTrain * 10) / 3.6e6 / 2, 12);
    expect(formatCostPlan(plan)).toContain('| seed-cnn3-aug | 0.0001 | study | 1 | 100 | 1 |');
    // a run continued from its checkpoint (epoch 200 of 300) costs its last 100 epochs
    const resumed = await planCost(jobs, { jobs: 2, threadsPerJob: 1, frames: 300, rows: 128, measure: async () => 10, epochsDone: new Map([[jobs[0]!.id, 200]]) });
    expect(resumed.rows.map((r) => r.samplePasses)).toEqual([100 * nTrain, 100 * 11 * nTrain]);
  });

  it("an unfinished job's epochs done are its checkpoint's epoch; none or a damaged one count as 0", async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-ckpt-'));
    try {
      const j = { dir: tmp } as unknown as JobSpec;
      expect(await jobEpochsDone(j)).toBe(0);
      await saveCheckpoint(join(tmp, CHECKPOINT_FILE), { version: 1, epoch: 37, trainerState: { w: new Float32Array(3) } });
      expect(await jobEpochsDone(j)).toBe(37);
      writeFileSync(join(tmp, CHECKPOINT_FILE), 'not a checkpoint');
      expect(await jobEpochsDone(j)).toBe(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
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

/**
 * A scripted trainer: in epoch e it classifies the first `correct[e][set]` samples of each predict
 * call right (the toy data's class is its loudest band) and the rest wrong. The loop evaluates the
 * validation set, then the test set, once per epoch.
 */
function scriptedFactory(correct: Array<{ val: number; test: number }>): TrainerFactory {
  return async (o) => {
    const k = o.archOptions.numClasses!;
    let epoch = -1;
    let call = 0;
    const t: Trainer = {
      threads: 1,
      async trainBatch() { return 1; },
      async predict(specs) {
        const n = call++ % 2 === 0 ? correct[epoch]!.val : correct[epoch]!.test;
        return specs.map((s, i) => {
          const band = (m: number) => s.data.subarray(m * s.frames, (m + 1) * s.frames).reduce((a, b) => a + b, 0);
          let c = 0;
          for (let m = 1; m < k; m++) if (band(m) > band(c)) c = m;
          const p = new Float32Array(k).fill(0.1 / (k - 1));
          p[i < n ? c : (c + 1) % k] = 0.9;
          return p;
        });
      },
      async getState() { return { epoch }; },
      async setState() {},
      setLearningRate() { epoch++; call = 0; },
      dispose() {},
    };
    return t;
  };
}

describe('runJob: honest and optimistic epochs', () => {
  it('honest = best validation accuracy (ties: lower validation loss); OPTIMISTIC = best test accuracy', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-job-'));
    try {
      const data = toyData(3, 6, 8, 2); // 18 spectrograms, classes in bands 0..2
      const items = data.specs.map((spec, i) => ({ path: `/toy/${i}.wav`, label: data.labelNames[data.labels[i]!]!, speaker: '1', spec }));
      const featuresFile = join(tmp, 'features.bin');
      await writePackedFeatures(featuresFile, items);
      const strip = (xs: typeof items) => xs.map(({ path, label, speaker }) => ({ path, label, speaker }));
      const job = {
        id: 'j', entry: { recipe: 'seed-cnn3', lr: 0.001, epochs: 4 }, offlineCopies: null, protocol: 'study' as const, fold: 'f', seed: 1,
        featureParams: featureParams(), archOptions: null, cacheDir: join(tmp, 'cache'), backend: null, labelNames: data.labelNames,
        train: strip(items.slice(0, 6)), validation: strip(items.slice(6, 12)), test: strip(items.slice(12)), dir: join(tmp, 'run'), featuresFile,
      };
      // epoch:      1       2       3       4
      // val acc:  2/6     5/6     5/6     3/6     → best 5/6 at epochs 2 and 3 (same loss too)
      // test acc: 6/6     1/6     3/6     2/6     → optimistic epoch 1
      const r = await runJob(job, scriptedFactory([{ val: 2, test: 6 }, { val: 5, test: 1 }, { val: 5, test: 3 }, { val: 3, test: 2 }]));
      expect(r.curves.map((c) => c.valAccuracy)).toEqual([2 / 6, 5 / 6, 5 / 6, 3 / 6]);
      expect(r.honest.epoch).toBe(2); // equal accuracy and loss at 2 and 3: the earlier epoch
      expect(r.honest.accuracy).toBe(1 / 6);
      expect(r.optimistic.epoch).toBe(1);
      expect(r.optimistic.accuracy).toBe(1);
      expect(r.last.epoch).toBe(4);
      expect(JSON.parse(readFileSync(join(tmp, 'run', 'result.json'), 'utf8')).honest.epoch).toBe(2);
      // a tie in validation accuracy goes to the lower validation loss
      const r2 = await runJob({ ...job, dir: join(tmp, 'run2') }, async (o) => {
        const base = await scriptedFactory([{ val: 2, test: 6 }, { val: 4, test: 1 }, { val: 4, test: 3 }, { val: 3, test: 2 }])(o);
        let epoch = 0;
        return {
          ...base,
          setLearningRate(lr: number) { epoch++; base.setLearningRate(lr); },
          // epoch 3 is less sure (0.6 / 0.2 / 0.2 instead of 0.9 / 0.05 / 0.05): its 2 wrong answers cost
          // less than the 4 right ones gain, so its validation loss is lower (5.2 against 6.4)
          async predict(specs: Parameters<Trainer['predict']>[0]) {
            const out = await base.predict(specs);
            return epoch === 3 ? out.map((p) => p.map((v) => (v > 0.5 ? 0.6 : 0.2))) : out;
          },
        };
      });
      expect(r2.honest.epoch).toBe(3);
      expect(r2.honest.accuracy).toBe(3 / 6);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('ser experiments (tiny, parallel child processes)'
, () => {
  it('runs both protocols with --jobs 2 and writes REPORT.md + report.html; a re-run reuses finished runs', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-exp-'));
    try {
      const data = join(tmp, 'corpus');
      mkdirSync(data);
      writeToyCorpus(data, (p, b) => writeFileSync(p, b), [1, 2], 2);
      const opts = {
        data, out: join(tmp, 'out'), quick: true, jobs: 2, recipes: ['seed-cnn3'], epochs: 1, cacheDir: join(tmp, 'cache'),
        backend: 'cpu', progress: false, ...TINY, childCommand: jobEntryCommand(), // children: node dist/cli/job-entry.js
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
