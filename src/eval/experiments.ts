/**
 * The study's whole comparison, run honestly: {3, 4 layers} × {batch 1 / variable length,
 * resized 128×256} × {original, 10× augmented} × learning rates (plus our `ser-best`), under
 * two protocols:
 *
 * - `study`: the study's random stratified 80/20 split (seed 42). A validation set is carved
 *   from the training 80% (never the test set). Reported both ways from the same run: the
 *   study's OPTIMISTIC figure (best test accuracy over epochs — the epoch is chosen on the test
 *   set) and the honest one (test accuracy at the epoch chosen on validation).
 * - `loso`: leave-one-speaker-out (the headline): each speaker is the test set once, validation
 *   comes from the training speakers only.
 *
 * Independent jobs (configs × folds) run in parallel child processes (`jobs`), each job writes
 * its result JSON, and finished jobs are skipped on a re-run (so an interrupted run continues).
 * The report (REPORT.md + report.html) puts our numbers beside the study's.
 *
 * This file runs the whole thing; the parts live beside it: `study.ts` (the study's figures and
 * budgets), `grid.ts` (planning), `job.ts` (one job, in this process or a child started by the caller's command),
 * `children.ts` (child processes), `packed-features.ts`, `summary.ts`, `report.ts`.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { scanCorpus, type CorpusFormat, type CorpusItem } from '../data/corpus.js';
import { speakersOf } from '../data/splits.js';
import { featureParams, type FeatureParams } from '../features/params.js';
import { featureKey } from '../features/pipeline.js';
import { defaultCacheDir, labelNamesOf, loadFeatures } from '../train/dataset.js';
import { getRecipe } from '../train/recipes.js';
import type { TrainerFactory } from '../train/trainer.js';
import { describeError, SerError } from '../util/errors.js';
import { ensureDir, writeJsonAtomic } from '../util/fs.js';
import { runChild, runLimited } from './children.js';
import { experimentGrid, planJobs, type GridEntry, type GridOptions, type JobSpec, type Protocol } from './grid.js';
import { jobEpochsDone, readResult, runJob, type JobFile, type JobResult } from './job.js';
import { formatCostPlan, planCost, type measureMsPerSample } from './budget.js';
import { writePackedFeatures } from './packed-features.js';
import { writeReport } from './report.js';
import { parseEpochLine, RunProgress } from './run-progress.js';
import { summarizeResults, type ExperimentSummary } from './summary.js';

export interface ExperimentOptions extends GridOptions {
  data: string;
  out: string;
  /** Parallel child processes (default: CPU cores with `childCommand`, else 1); 1 runs everything in this process. */
  jobs?: number;
  protocols?: Protocol[];
  seed?: number;
  format?: CorpusFormat;
  cacheDir?: string;
  /** Overrides for every recipe (tests: tiny models and features). */
  features?: Partial<FeatureParams>;
  archOptions?: Record<string, unknown>;
  backend?: string;
  progress?: boolean;
  /**
   * How a child job is started: [command, ...args] to which the job file is appended (the CLI passes
   * `node dist/cli/job-entry.js`). Needed when `jobs` > 1; without it every job runs in this process.
   */
  childCommand?: string[];
  /** Aborting kills the running children and rejects with `eval/aborted` (finished runs are kept). */
  signal?: AbortSignal;
  /** Test hook for in-process jobs. */
  createTrainer?: TrainerFactory;
  /**
   * Print (and write to `out/plan.md`) what every planned run costs — sample passes and measured time
   * per sample — and return without training. The study's budget prints the plan before running too.
   */
  plan?: boolean;
  /** Test hook: how the plan times a training step (default `measureMsPerSample`). */
  measure?: typeof measureMsPerSample;
}

/** Job id → epochs its checkpoint holds, for the jobs given. */
async function epochsDoneOf(jobs: readonly JobSpec[]): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const j of jobs) m.set(j.id, await jobEpochsDone(j));
  return m;
}

/** Runs the experiment (features, jobs, report); returns the summary. */
export async function runExperiments(opts: ExperimentOptions): Promise<ExperimentSummary> {
  const t0 = Date.now();
  const startedAt = new Date().toISOString();
  const out = resolve(opts.out);
  await ensureDir(out);
  const seed = opts.seed ?? 42;
  const childCmd = opts.childCommand ?? [];
  // parallel jobs are child processes, which only the caller knows how to start; without a command, one in this process
  const jobsN = Math.max(1, opts.jobs ?? (childCmd.length ? availableParallelism() : 1));
  if (jobsN > 1 && childCmd.length === 0) throw new SerError('eval/bad-option', `${jobsN} parallel jobs need childCommand (how a child process runs a job file); jobs: 1 runs them in this process`);
  const params = featureParams(opts.features ?? {});
  const cacheDir = resolve(opts.cacheDir ?? defaultCacheDir());
  const corpus = scanCorpus(opts.data, opts.format ? { format: opts.format } : {});
  const skippedFiles = corpus.problems.map((p) => ({ path: p.path, message: p.message }));
  for (const p of corpus.problems) process.stderr.write(`skipped ${p.message}\n`);

  // 1. features into the cache, in parallel shards (each file once)
  const signal = opts.signal;
  const computeShards = async (list: readonly CorpusItem[], p: FeatureParams, tag: string): Promise<void> => {
    if (jobsN <= 1 || list.length === 0) return;
    const shards: CorpusItem[][] = Array.from({ length: jobsN }, () => []);
    list.forEach((it, i) => shards[i % jobsN]!.push({ path: it.path, label: it.label, speaker: it.speaker }));
    await runLimited(
      shards.filter((x) => x.length).map((x, i) => async () => {
        const file = join(out, 'runs', `features-${tag}-${i}.json`);
        await writeJsonAtomic(file, { kind: 'features', items: x, featureParams: p, cacheDir } satisfies JobFile);
        const r = await runChild(childCmd, [file], signal);
        if (r.code !== 0) process.stderr.write(`feature shard ${i} failed (exit ${r.code}): ${r.stderr.slice(-2000)}\n`);
        rmSync(file, { force: true });
      }),
      jobsN,
      signal,
    );
  };
  await computeShards(corpus.items, params, 'base');
  const loaded = await loadFeatures(corpus.items, params, { cacheDir, progress: opts.progress, label: 'features' });
  for (const f of loaded.failed) {
    process.stderr.write(`skipped ${f.message}\n`);
    skippedFiles.push(f);
  }
  const items = loaded.items;
  if (items.length === 0) throw new SerError('eval/no-data', `${opts.data}: no usable audio files`);
  const labelNames = labelNamesOf(items);
  const speakers = speakersOf(items);
  let protocols = opts.protocols ?? ['study', 'loso'];
  let losoSkipped: string | undefined;
  if (protocols.includes('loso') && (speakers.length < 2 || items.some((i) => i.speaker === null))) {
    losoSkipped = `it needs a speaker for every file and at least 2 speakers (found ${speakers.length})`;
    process.stderr.write(`leave-one-speaker-out skipped: ${losoSkipped}\n`);
    protocols = protocols.filter((p) => p !== 'loso');
  }

  // 2. jobs (children read all spectrograms from one packed file)
  const featuresFile = join(out, 'runs', 'features.bin');
  await writePackedFeatures(featuresFile, items);
  const grid = experimentGrid(opts);
  // recipes that declare their own feature parameters get their own packed features
  const own = new Map<string, { params: FeatureParams; featuresFile: string | null }>();
  for (const e of grid) {
    const p = featureParams({ ...getRecipe(e.recipe).features, ...(opts.features ?? {}) });
    const key = featureKey(p);
    if (key === featureKey(params) || own.has(key)) continue;
    await computeShards(items, p, createHash('sha1').update(key).digest('hex').slice(0, 8));
    const l = await loadFeatures(items, p, { cacheDir, progress: opts.progress, label: `features (${e.recipe})` });
    for (const f of l.failed) process.stderr.write(`${e.recipe}: ${f.message}\n`);
    const file = join(out, 'runs', `features-${createHash('sha1').update(key).digest('hex').slice(0, 12)}.bin`);
    await writePackedFeatures(file, l.items);
    own.set(key, { params: p, featuresFile: file });
  }
  const perEntry = (e: GridEntry) => own.get(featureKey(featureParams({ ...getRecipe(e.recipe).features, ...(opts.features ?? {}) }))) ?? null;
  const jobs = planJobs(items, grid, {
    perEntry,
    protocols, seed, params, archOptions: opts.archOptions ?? null, cacheDir, backend: opts.backend ?? null,
    offlineCopies: opts.offlineCopies ?? null, out, labelNames, featuresFile,
    pitchMode: opts.quick ? 'mel-warp' : 'waveform',
  });
  // parallel jobs share the cores: each trains on cores ÷ jobs threads (processes scale better than
  // gradient workers inside one run, and batch-1 recipes cannot split at all)
  const threadsPerJob = Math.max(1, Math.floor(availableParallelism() / jobsN));
  for (const j of jobs) j.threads = threadsPerJob;
  // what earlier invocations left: finished runs' results, and the epochs unfinished ones hold in their checkpoints
  const finished = new Map<string, JobResult>();
  for (const j of jobs) {
    const r = readResult(j);
    if (r) finished.set(j.id, r);
  }
  const todo = jobs.filter((j) => !finished.has(j.id));
  const epochsDone = await epochsDoneOf(todo);
  if (opts.plan || opts.budget === 'study') {
    const frames = items.map((i) => i.spec.frames).sort((a, b) => a - b)[items.length >> 1]!;
    const cost = await planCost(todo, { jobs: jobsN, threadsPerJob, frames, rows: items[0]!.spec.nMels, backend: opts.backend ?? null, measure: opts.measure, epochsDone });
    const continuing = [...epochsDone.values()].filter((e) => e > 0).length;
    const md = `# Plan: ${todo.length} of ${jobs.length} runs still to train${continuing ? ` (${continuing} continue from their checkpoint)` : ''}\n\nCorpus median input ${frames} frames.\n\n${formatCostPlan(cost)}\n`;
    await writeFile(join(out, 'plan.md'), md);
    process.stderr.write(`${md}\n`);
    if (opts.plan) {
      return {
        data: corpus.root, files: items.length, speakers, labelNames, quick: !!opts.quick, jobs: jobsN, seed, featureKey: featureKey(params), recipeFeatureKeys: {},
        configs: [], failed: [], skippedFiles, losoSkipped, totalSeconds: (Date.now() - t0) / 1000, startedAt, plan: cost,
      };
    }
  }
  const failed: ExperimentSummary['failed'] = [];
  const progress = new RunProgress(todo, jobs.length, { enabled: opts.progress !== false, epochsDone });
  const results = await runLimited(
    jobs.map((job) => async (): Promise<JobResult | null> => {
      const before = finished.get(job.id);
      if (before) return before;
      let r: JobResult | null = null;
      try {
        if (jobsN <= 1) {
          r = await runJob(job, opts.createTrainer, (epoch) => progress.epoch(job.id, epoch));
        } else {
          await ensureDir(job.dir);
          const file = join(job.dir, 'job.json');
          await writeJsonAtomic(file, { kind: 'train', job } satisfies JobFile);
          // the child writes one JSON line per epoch on stdout (cli/job-entry.ts)
          const onLine = (line: string): void => {
            const epoch = parseEpochLine(line);
            if (epoch !== null) progress.epoch(job.id, epoch);
          };
          const c = await runChild(childCmd, [file], signal, onLine);
          if (signal?.aborted) return null;
          r = readResult(job);
          if (!r) throw new SerError('eval/job-failed', `exit ${c.code}: ${c.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        }
      } catch (e) {
        failed.push({ id: job.id, message: describeError(e) });
        process.stderr.write(`run ${job.id} failed: ${describeError(e)}\n`);
      }
      progress.end(job.id, r !== null);
      return r;
    }),
    jobsN,
    signal,
  );
  progress.finish();
  const summary: ExperimentSummary = {
    data: corpus.root, files: items.length, speakers, labelNames, quick: !!opts.quick, jobs: jobsN, seed,
    featureKey: featureKey(params),
    recipeFeatureKeys: Object.fromEntries(
      [...new Set(grid.map((e) => e.recipe))].flatMap((r) => {
        const key = featureKey(featureParams({ ...getRecipe(r).features, ...(opts.features ?? {}) }));
        return own.has(key) ? [[r, key]] : [];
      }),
    ),
    configs: summarizeResults(results.filter((r): r is JobResult => r !== null)),
    failed, skippedFiles, losoSkipped, totalSeconds: (Date.now() - t0) / 1000, startedAt,
  };
  await writeJsonAtomic(join(out, 'summary.json'), summary);
  await writeReport(out, summary);
  return summary;
}

