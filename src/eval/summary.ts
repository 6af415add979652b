/** Summaries of an experiment: job results grouped per (recipe, lr, epochs, protocol), folds summarised. */
import type { CostPlan } from './budget.js';
import { summarizeFolds, type FoldSummary } from './metrics.js';
import type { Protocol } from './grid.js';
import type { JobResult, TestAt } from './job.js';

/** Summary of one grid entry under one protocol. */
export interface ConfigSummary {
  recipe: string;
  lr: number;
  epochs: number;
  protocol: Protocol;
  honest: FoldSummary;
  optimistic: FoldSummary;
  last: FoldSummary;
  seconds: number;
  results: JobResult[];
}

/** The whole experiment's outcome. */
export interface ExperimentSummary {
  data: string;
  files: number;
  speakers: string[];
  labelNames: string[];
  quick: boolean;
  jobs: number;
  seed: number;
  featureKey: string;
  /** Recipes that declare their own feature parameters, with those parameters' key. */
  recipeFeatureKeys?: Record<string, string>;
  configs: ConfigSummary[];
  failed: Array<{ id: string; message: string }>;
  skippedFiles: Array<{ path: string; message: string }>;
  /** Why leave-one-speaker-out was asked for but could not run on this corpus (absent when it ran or was not asked for). */
  losoSkipped?: string;
  totalSeconds: number;
  startedAt: string;
  /** `--plan`: what the runs would cost (nothing was trained). */
  plan?: CostPlan;
}

/** Groups job results per (recipe, lr, protocol) and summarises folds. */
export function summarizeResults(results: readonly JobResult[]): ConfigSummary[] {
  const groups = new Map<string, JobResult[]>();
  for (const r of results) {
    const k = `${r.recipe}|${r.lr}|${r.epochs}|${r.protocol}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  const fold = (rs: JobResult[], pick: (r: JobResult) => TestAt) =>
    summarizeFolds(rs.map((r) => ({ fold: r.fold, n: r.nTest, ...pick(r) })));
  return [...groups.values()].map((rs) => ({
    recipe: rs[0]!.recipe, lr: rs[0]!.lr, epochs: rs[0]!.epochs, protocol: rs[0]!.protocol,
    honest: fold(rs, (r) => r.honest), optimistic: fold(rs, (r) => r.optimistic), last: fold(rs, (r) => r.last),
    seconds: rs.reduce((a, r) => a + r.seconds, 0),
    results: rs,
  }));
}
