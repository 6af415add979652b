/**
 * `ser experiments --data DIR --out DIR [--quick] [--jobs N]`: the study's whole comparison under
 * its own protocol (random 80/20, reported OPTIMISTIC and honest) and leave-one-speaker-out,
 * jobs in parallel child processes, REPORT.md + report.html in --out. Re-running with the same
 * --out skips finished runs; Ctrl-C (SIGINT) or SIGTERM stops the running children, and a re-run continues.
 * `--budget study` trains every recipe as the study did (its epochs, batch 1, its lr, 10× copies) and
 * prints the plan with measured costs first; `--plan` prints that plan and stops.
 */
import type { Command } from 'commander';
import type { CorpusFormat } from '../../data/corpus.js';
import { runExperiments } from '../../eval/experiments.js';
import { compiledScript } from '../../util/package.js';
import type { Protocol } from '../../eval/grid.js';
import { EXPERIMENT_RECIPES, GRID_EPOCHS, GRID_MIN_BATCH } from '../../eval/study.js';
import { SerError } from '../../util/errors.js';
import { intFlag, jsonFlag } from './train.js';

interface ExperimentFlags {
  data?: string;
  out?: string;
  quick?: boolean;
  jobs?: number;
  recipes?: string;
  lrs?: string;
  epochs?: number;
  copies?: number;
  batch?: number;
  protocols?: string;
  seed: number;
  format?: string;
  cache?: string;
  features?: Record<string, unknown>;
  archOptions?: Record<string, unknown>;
  backend?: string;
  progress: boolean;
  budget?: string;
  plan?: boolean;
}

/** How a child job starts: `[node, dist/cli/job-entry.js]`; the job file's path is appended. */
export function jobEntryCommand(): string[] {
  return [process.execPath, compiledScript(import.meta.url, 'dist/cli/job-entry.js')];
}

function list(s: string | undefined): string[] | undefined {
  return s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined;
}

export function register(program: Command): void {
  program
    .command('experiments')
    .description("run the study's comparison (3/4 layers × batch-1/resized × original/augmented × lr) under its random split and leave-one-speaker-out; writes REPORT.md + report.html")
    .option('--data <dir>', 'corpus folder')
    .option('--out <dir>', 'output folder (runs/, figures/, summary.json, REPORT.md, report.html)')
    .option('--quick', 'reduced grid for CI: seed-cnn3, seed-cnn4-resized, seed-cnn4-aug, ser-best, ser-stats; 2 epochs, one learning rate (minutes, not an hour)')
    .option('--jobs <n>', 'parallel child processes (default: CPU cores)', intFlag('jobs'))
    .option('--recipes <list>', `comma-separated recipes (default: ${EXPERIMENT_RECIPES.join(',')})`)
    .option('--lrs <list>', 'comma-separated learning rates (default: 0.01,0.001,0.0001; --quick: the study\'s)')
    .option('--epochs <n>', `epochs per run (default: the study's recipes ${GRID_EPOCHS}, sized for the whole grid in under an hour; ours their own; --quick: 2)`, intFlag('epochs'))
    .option('--batch <n>', `batch size for every recipe (default: the recipe's, batch-1 recipes as masked batches of ${GRID_MIN_BATCH})`, intFlag('batch'))
    .option('--copies <n>', "the study's offline augmented copies for *-aug recipes (e.g. 10); default: its ops drawn fresh each epoch", intFlag('copies', 0))
    .option('--protocols <list>', 'study,loso (default both)')
    .option('--budget <name>', "grid (default): every recipe on an equal small budget; study: each recipe as the study trained it (its epochs, batch size — batch 1 is one sample per step —, learning rate and 10× offline copies); prints the plan with an ETA first")
    .option('--plan', 'print what each run would cost (sample passes, measured ms per sample, hours) and the total, then stop')
    .option('--seed <n>', 'random seed', intFlag('seed', 0), 42)
    .option('--format <name>', 'corpus format (default: auto-detect)')
    .option('--cache <dir>', 'feature cache folder')
    .option('--features <json>', 'feature parameter overrides as JSON', jsonFlag('features'))
    .option('--arch-options <json>', 'architecture option overrides for every recipe, as JSON', jsonFlag('arch-options'))
    .option('--backend <name>', 'tfjs backend for training: wasm, cpu or tensorflow')
    .option('--no-progress', 'no progress bars')
    .action(async (f: ExperimentFlags) => {
      if (!f.data || !f.out) throw new SerError('cli/missing-option', 'experiments needs --data DIR and --out DIR');
      const lrs = list(f.lrs)?.map((x) => {
        const n = Number(x);
        if (!(n > 0)) throw new SerError('cli/bad-option', `--lrs: "${x}" is not a positive number`);
        return n;
      });
      const protocols = list(f.protocols) as Protocol[] | undefined;
      if (f.budget !== undefined && f.budget !== 'grid' && f.budget !== 'study') throw new SerError('cli/bad-option', `--budget: unknown budget "${f.budget}" (use grid, study)`);
      for (const p of protocols ?? []) if (p !== 'study' && p !== 'loso') throw new SerError('cli/bad-option', `--protocols: unknown protocol "${p}" (use study, loso)`);
      // children die with the parent: a signal aborts the run (killing the running children), then exits
      const abort = new AbortController();
      const onSignal = (): void => {
        abort.abort();
        process.exit(130);
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const s = await runExperiments({
        data: f.data, out: f.out, quick: f.quick, jobs: f.jobs, recipes: list(f.recipes), lrs, epochs: f.epochs,
        offlineCopies: f.copies, batchSize: f.batch, protocols, seed: f.seed, format: f.format as CorpusFormat | undefined, cacheDir: f.cache,
        features: f.features, archOptions: f.archOptions, backend: f.backend, progress: f.progress, signal: abort.signal,
        budget: f.budget as 'grid' | 'study' | undefined, plan: f.plan, childCommand: jobEntryCommand(),
      }).finally(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      });
      if (f.plan) return; // the plan went to stderr and --out/plan.md
      const runs = s.configs.reduce((a, c) => a + c.results.length, 0);
      process.stderr.write(`experiments: ${runs} runs (${s.failed.length} failed) in ${s.totalSeconds.toFixed(0)} s → ${f.out}/REPORT.md, ${f.out}/report.html\n`);
      for (const c of s.configs) {
        process.stderr.write(
          `  ${c.protocol.padEnd(5)} ${c.recipe.padEnd(22)} lr ${String(c.lr).padEnd(7)} honest ${(100 * c.honest.accuracy.mean).toFixed(1)}%  OPTIMISTIC ${(100 * c.optimistic.accuracy.mean).toFixed(1)}%\n`,
        );
      }
      if (s.failed.length) process.exitCode = 1;
    });
}
