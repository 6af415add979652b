/**
 * The experiments' progress bar, counted in sample passes (the plan's unit, `jobSamplePasses`), so its
 * rate and ETA weigh a 300-epoch batch-1 run above a 50-epoch resized one instead of counting runs
 * (one run of the study's budget can take most of an hour). Jobs report each epoch they train (in this
 * process, or on a child's stdout); runs finished before this invocation do not count, and a resumed
 * run counts only the epochs it still trains: its first report says where it resumed.
 */
import { createProgress, type Progress, type ProgressOptions } from '../util/progress.js';
import { jobSamplePasses } from './budget.js';
import type { JobSpec } from './grid.js';
import { jobRecipe } from './grid.js';

/** The line a child job writes on stdout after each epoch (cli/job-entry.ts), read back by `parseEpochLine`. */
export function epochLine(epoch: number, epochs: number): string {
  return `${JSON.stringify({ epoch, epochs })}\n`;
}

/** The epoch of a line written by `epochLine`, or null for any other line. */
export function parseEpochLine(line: string): number | null {
  const m = /^\{"epoch":(\d+),"epochs":\d+\}$/.exec(line.trim());
  return m ? Number(m[1]) : null;
}

export class RunProgress {
  readonly bar: Progress;
  private readonly perEpoch = new Map<string, { passes: number; epochs: number }>();
  /** Epochs counted so far per job (absent: no report yet in this invocation). */
  private readonly counted = new Map<string, number>();
  private runsDone = 0;

  /**
   * `todo`: the jobs this invocation trains (finished ones left out); `runs`: all jobs, for the runs field;
   * `epochsDone`: job id → epochs its checkpoint holds (left out of the total; without it, a resumed run's first report says).
   */
  constructor(todo: readonly JobSpec[], private readonly runs: number, o: Pick<ProgressOptions, 'enabled' | 'stream' | 'tty' | 'now'> & { epochsDone?: ReadonlyMap<string, number> } = {}) {
    let total = 0;
    for (const j of todo) {
      const r = jobRecipe(j);
      const passes = jobSamplePasses(j, r) / r.epochs;
      const done = Math.min(r.epochs, o.epochsDone?.get(j.id) ?? 0);
      this.perEpoch.set(j.id, { passes, epochs: r.epochs });
      if (done > 0) this.counted.set(j.id, done);
      total += passes * (r.epochs - done);
    }
    this.runsDone = runs - todo.length;
    const { epochsDone: _done, ...bar } = o;
    this.bar = createProgress({ ...bar, total, label: 'experiments', unit: 'samples', everyPercent: 2 });
  }

  /** Job `id` finished `epoch` (1-based). */
  epoch(id: string, epoch: number): void {
    const p = this.perEpoch.get(id);
    if (!p) return;
    const first = !this.counted.has(id);
    const before = first ? epoch - 1 : this.counted.get(id)!;
    // a run's last epoch is counted when the run ends, so the line that reaches 100 % shows every run done
    const upto = Math.max(before, epoch < p.epochs ? epoch : epoch - 1);
    this.counted.set(id, upto);
    this.bar.tick((upto - before) * p.passes, { runs: `${this.runsDone}/${this.runs}`, now: `${id.slice(0, 48)} ${epoch}/${p.epochs}` });
    if (first && before > 0) this.bar.setTotal(this.bar.total - before * p.passes); // resumed: trained before this invocation
  }

  /** Job `id` ended: its epochs not yet counted are counted as done (its last, or all after an early stop) or, when it failed, taken off the total. */
  end(id: string, ok: boolean): void {
    const p = this.perEpoch.get(id);
    if (!p) return;
    const rest = (p.epochs - (this.counted.get(id) ?? 0)) * p.passes;
    this.counted.set(id, p.epochs);
    if (ok) {
      this.runsDone++;
      this.bar.tick(rest, { runs: `${this.runsDone}/${this.runs}` });
    } else {
      this.bar.setTotal(this.bar.total - rest);
    }
  }

  finish(): void {
    this.bar.finish();
  }
}
