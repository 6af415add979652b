/**
 * What a grid costs before it runs: each job's training work in sample passes (epochs × (1 + offline
 * augmented copies) × training files), times a per-sample training time measured here, now, for each
 * (architecture, batch size) at the threads each job will get. `ser experiments --plan` prints it; the
 * study's budget (`--budget study`) prints it before running, so a reader knows whether it fits.
 */
import { createTrainer } from '../train/trainer.js';
import type { Spectrogram } from '../features/types.js';
import { createRng } from '../util/rng.js';
import type { Recipe } from '../train/recipes.js';
import { jobRecipe, type JobSpec } from './grid.js';

/** Training work of one job, in samples pushed through forward + backward. */
export function jobSamplePasses(job: JobSpec, recipe: Recipe = jobRecipe(job)): number {
  return recipe.epochs * (1 + (recipe.offlineAugment?.copies ?? 0)) * job.train.length;
}

export interface CostRow {
  recipe: string;
  lr: number;
  protocol: string;
  runs: number;
  epochs: number;
  batch: number;
  samplePasses: number;
  /** Measured training time per sample (ms) on this machine; null where it could not be measured. */
  msPerSample: number | null;
  /** Core-hours of the rows' runs one after another (samplePasses × msPerSample). */
  hours: number | null;
}

export interface CostPlan {
  rows: CostRow[];
  /** Wall-clock hours with `jobs` runs in parallel (sum of the timed rows ÷ jobs). */
  wallHours: number;
  /** Recipes that could not be timed (not counted in wallHours). */
  untimed: string[];
  jobs: number;
  threadsPerJob: number;
}

/** Times `steps` training steps of an architecture on random input after one warm-up step; ms per sample. */
export async function measureMsPerSample(o: { arch: string; archOptions: Record<string, unknown>; batch: number; rows: number; frames: number; threads: number; backend?: string | null; steps?: number }): Promise<number> {
  const rng = createRng('budget');
  const specs: Spectrogram[] = Array.from({ length: o.batch }, () => {
    const data = new Float32Array(o.rows * o.frames);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    return { data, nMels: o.rows, frames: o.frames };
  });
  const targets = new Float32Array(o.batch * 5);
  for (let i = 0; i < o.batch; i++) targets[i * 5 + (i % 5)] = 1;
  const trainer = await createTrainer({ arch: o.arch, archOptions: { ...o.archOptions, numClasses: 5, rows: o.rows }, lr: 1e-3, seed: 1, threads: o.threads, ...(o.backend ? { backend: o.backend } : {}) });
  try {
    await trainer.trainBatch(specs, targets);
    const steps = o.steps ?? 3;
    const t = performance.now();
    for (let i = 0; i < steps; i++) await trainer.trainBatch(specs, targets);
    return (performance.now() - t) / steps / o.batch;
  } finally {
    trainer.dispose();
  }
}

/**
 * The cost of every planned job, grouped by (recipe, lr, protocol). `frames` is the input length to
 * time variable-length recipes at (e.g. the corpus median); resized recipes use their own. `epochsDone`
 * (job id → epochs in its checkpoint) leaves out what continued runs have already trained.
 */
export async function planCost(
  jobs: readonly JobSpec[],
  o: { jobs: number; threadsPerJob: number; frames: number; rows: number; backend?: string | null; measure?: typeof measureMsPerSample; epochsDone?: ReadonlyMap<string, number> },
): Promise<CostPlan> {
  const measure = o.measure ?? measureMsPerSample;
  const speed = new Map<string, number | null>();
  const groups = new Map<string, CostRow>();
  for (const job of jobs) {
    const r = jobRecipe(job);
    const frames = r.input.mode === 'resized' ? r.input.frames : o.frames;
    const key = `${r.arch}|${JSON.stringify(r.archOptions)}|${r.batchSize}|${frames}`;
    if (!speed.has(key)) {
      let ms: number | null = null;
      // only the spectrogram CNNs take [rows × frames] input; the statistics MLP is timed as unknown
      if (r.arch.startsWith('cnn') || r.arch === 'ser-cnn') {
        try {
          ms = await measure({ arch: r.arch, archOptions: r.archOptions as Record<string, unknown>, batch: r.batchSize, rows: o.rows, frames, threads: o.threadsPerJob, backend: o.backend });
        } catch {
          ms = null;
        }
      }
      speed.set(key, ms);
    }
    const ms = speed.get(key)!;
    const g = `${r.name}|${job.entry.lr}|${job.protocol}`;
    const row = groups.get(g) ?? { recipe: r.name, lr: job.entry.lr, protocol: job.protocol, runs: 0, epochs: r.epochs, batch: r.batchSize, samplePasses: 0, msPerSample: ms, hours: 0 };
    // a run continued from its checkpoint costs only the epochs it has left
    const passes = Math.round((jobSamplePasses(job, r) / r.epochs) * (r.epochs - Math.min(r.epochs, o.epochsDone?.get(job.id) ?? 0)));
    row.runs++;
    row.samplePasses += passes;
    row.hours = ms === null || row.hours === null ? null : row.hours + (passes * ms) / 3.6e6;
    groups.set(g, row);
  }
  const rows = [...groups.values()];
  const untimed = [...new Set(rows.filter((r) => r.hours === null).map((r) => r.recipe))];
  return { rows, wallHours: rows.reduce((a, r) => a + (r.hours ?? 0), 0) / Math.max(1, o.jobs), untimed, jobs: o.jobs, threadsPerJob: o.threadsPerJob };
}

/** The plan as a markdown table. */
export function formatCostPlan(p: CostPlan): string {
  const h = (x: number | null): string => (x === null ? '?' : x >= 1 ? `${x.toFixed(1)} h` : `${Math.round(x * 60)} min`);
  const L = [
    `| recipe | lr | protocol | runs | epochs | batch | sample passes to go | ms / sample (${p.threadsPerJob} thread${p.threadsPerJob > 1 ? 's' : ''}) | hours, one after another |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...p.rows.map((r) => `| ${r.recipe} | ${r.lr} | ${r.protocol} | ${r.runs} | ${r.epochs} | ${r.batch} | ${r.samplePasses.toLocaleString('en-US')} | ${r.msPerSample === null ? '?' : r.msPerSample.toFixed(1)} | ${h(r.hours)} |`),
    '',
    `Estimated wall-clock time with ${p.jobs} parallel run${p.jobs > 1 ? 's' : ''}: ${h(p.wallHours)}${p.untimed.length ? ` plus ${p.untimed.join(', ')} (not timed)` : ''} (per-sample times measured now, on this machine; a loaded machine is slower).`,
  ];
  return L.join('\n');
}
