/**
 * The batch engine of one machine: streams inputs, runs up to `jobs` of them at a time through a
 * per-input function (a prediction, a timeline, a feature extraction: the engine does not care),
 * and writes one JSON line per input in input order — to standard output or to a result file that
 * `--resume` continues. Memory stays bounded: at most `window` inputs are between "read" and
 * "written" (results finished early wait for the ones before them), nothing else is kept.
 */
import { createProgress } from '../../util/progress.js';
import { describeError, SerError } from '../../util/errors.js';
import type { BatchInput } from './inputs.js';
import { doneInputs, JsonlWriter, repairJsonl } from './jsonl.js';

/** A result line: always `file`; `error` when the input failed. */
export interface BatchLine {
  file: string;
  error?: string;
}

export interface BatchOptions<L extends BatchLine> {
  inputs: AsyncIterable<BatchInput>;
  /** Number of inputs, when known (for the progress bar's ETA). */
  total?: number;
  /** Inputs processed at the same time. */
  jobs: number;
  /** The per-input work; a throw becomes an error line naming the input. */
  run: (file: string) => Promise<L>;
  /** Result file (JSON lines); default: lines to standard output. */
  out?: string;
  /** Skip inputs whose lines are already in `out` (repairing a cut-off last line first). */
  resume?: boolean;
  /** How a line looks on standard output (default JSON). */
  format?: (line: L | BatchLine) => string;
  /** Progress bar and summary on standard error. */
  progress?: boolean;
  label?: string;
  /** Most inputs in flight between reading and writing (default 8 × jobs). */
  window?: number;
  stderr?: NodeJS.WritableStream;
}

export interface BatchSummary {
  inputs: number;
  failed: number;
  skipped: number;
  seconds: number;
  filesPerSec: number;
  peakRssMB: number;
  /** CPU time (all threads of this process) per written line, ms: steadier than wall time on a shared machine. */
  cpuMsPerFile: number;
}

/** Peak resident memory of this process (all threads) in MB. */
export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export async function runBatch<L extends BatchLine>(o: BatchOptions<L>): Promise<BatchSummary> {
  if (!Number.isInteger(o.jobs) || o.jobs < 1) throw new SerError('cli/bad-option', `--jobs must be a positive integer, got ${o.jobs}`);
  if (o.resume && !o.out) throw new SerError('cli/bad-option', '--resume needs --out FILE (the result file to continue)');
  const stderr = o.stderr ?? process.stderr;
  let done = new Set<string>();
  if (o.resume && o.out) {
    const cut = repairJsonl(o.out);
    if (cut > 0) stderr.write(`${o.label ?? 'batch'}: ${o.out}: dropped a cut-off last line (${cut} bytes); its input runs again\n`);
    done = await doneInputs(o.out, (n) => stderr.write(`${o.label ?? 'batch'}: ${o.out}:${n}: unreadable line ignored\n`));
  }
  const writer = o.out ? new JsonlWriter(o.out, Boolean(o.resume)) : null;
  const format = o.format ?? ((l) => JSON.stringify(l));
  const total = o.total !== undefined ? Math.max(0, o.total - (o.resume ? done.size : 0)) : 0;
  const bar = createProgress({ total, label: o.label ?? 'batch', unit: 'files', enabled: o.progress ?? false, stream: stderr });
  const t0 = performance.now();
  const cpu0 = process.resourceUsage();
  let written = 0, failed = 0, skipped = 0;
  const emit = (line: L | BatchLine) => {
    if (writer) writer.write(line);
    else process.stdout.write(format(line) + '\n');
    written++;
    if (line.error) failed++;
    bar.tick(1, { errors: failed });
  };

  const window = o.window ?? 8 * o.jobs;
  const it = o.inputs[Symbol.asyncIterator]();
  const ready = new Map<number, L | BatchLine>();
  let seq = 0, next = 0, inflight = 0, exhausted = false, pulling = false;
  const flush = () => {
    for (let l = ready.get(next); l !== undefined; l = ready.get(next)) {
      ready.delete(next++);
      emit(l);
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const pump = async () => {
        if (pulling) return;
        pulling = true;
        try {
          while (!exhausted && inflight < o.jobs && seq - next < window) {
            const r = await it.next();
            if (r.done) {
              exhausted = true;
              break;
            }
            const input = r.value;
            if (done.has(input.file)) {
              skipped++;
              continue;
            }
            const i = seq++;
            if (input.error !== undefined) {
              ready.set(i, { file: input.file, error: input.error });
              flush();
              continue;
            }
            inflight++;
            o.run(input.file)
              .catch((e: unknown): BatchLine => ({ file: input.file, error: describeError(e) }))
              .then((line) => {
                inflight--;
                ready.set(i, line);
                flush();
                void pump();
              })
              .catch(reject);
          }
          if (exhausted && inflight === 0) resolve();
        } catch (e) {
          reject(e);
        } finally {
          pulling = false;
        }
      };
      void pump();
    });
  } finally {
    writer?.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = process.resourceUsage();
  const cpuMs = (cpu1.userCPUTime - cpu0.userCPUTime + cpu1.systemCPUTime - cpu0.systemCPUTime) / 1000;
  bar.finish();
  const summary: BatchSummary = { inputs: written, failed, skipped, seconds, filesPerSec: written / Math.max(seconds, 1e-9), peakRssMB: peakRssMB(), cpuMsPerFile: cpuMs / Math.max(written, 1) };
  if (o.progress) {
    stderr.write(
      `${o.label ?? 'batch'}: ${written} inputs (${failed} errors${o.resume ? `, ${skipped} already done` : ''}) in ${seconds.toFixed(1)} s, ` +
        `${summary.filesPerSec.toFixed(1)} files/s with ${o.jobs} job${o.jobs > 1 ? 's' : ''}; peak RSS ${summary.peakRssMB.toFixed(0)} MB; CPU ${summary.cpuMsPerFile.toFixed(1)} ms/file\n`,
    );
  }
  return summary;
}
