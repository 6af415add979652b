/**
 * The batch flags shared by `ser predict` and `ser features --out`, and the one-machine batch of
 * predictions: inputs streamed from arguments and a manifest, `--jobs` worker threads, lines in
 * input order to standard output or `--out`, `--resume`, `--shard`.
 */
import type { Command } from 'commander';
import { SerError } from '../../util/errors.js';
import { batchInputs, countInputs, parseShard, type InputSpec } from './inputs.js';
import { createPredictor, parseJobs, type PredictOptions } from './predictor.js';
import { runBatch, type BatchLine, type BatchSummary } from './run.js';

/** The raw values of the batch flags. */
export interface BatchFlags {
  manifest?: string;
  out?: string;
  jobs?: string;
  resume?: boolean;
  shard?: string;
  progress?: boolean;
}

/** Adds --manifest, --jobs, --out, --resume, --shard and --no-progress to `cmd`. */
export function addBatchOptions(cmd: Command, outHelp = 'write JSON lines to this file instead of standard output'): Command {
  return cmd
    .option('--manifest <file>', "inputs listed in a file: .txt (one path a line), .csv (a 'path' column), .jsonl ({\"path\"}); '-' reads paths from standard input")
    .option('--out <file>', outHelp)
    .option('--jobs <n>', 'inputs processed at once, on worker threads (default: the number of cores)')
    .option('--resume', 'continue an interrupted --out: skip inputs already in it (a cut-off last line is repaired)')
    .option('--shard <i/n>', 'take only share I of N of the inputs (stable hash of the path; 0 ≤ I < N), for array jobs')
    .option('--no-progress', 'no progress bar and summary on standard error');
}

/** The raw values of the prediction flags (what each line holds besides the whole-file emotion). */
export interface PredictFlags {
  timeline?: boolean;
  smoothing?: number;
  segments?: number;
  hop?: number;
  minConfidence: number;
}

function seconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new SerError('cli/bad-option', `--${name} must be a positive number of seconds, got "${v}"`);
    return n;
  };
}

function fraction(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new SerError('cli/bad-option', `--smoothing must be a number in [0, 1), got "${v}"`);
  return n;
}

function probability(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new SerError('cli/bad-option', `--min-confidence must be a number between 0 and 1, got "${v}"`);
  return n;
}

/** Adds --timeline, --smoothing, --segments, --hop and --min-confidence (`ser predict`, `ser queue add`). */
export function addPredictOptions(cmd: Command): Command {
  return cmd
    .option('--timeline', 'find the speech (voice activity), classify each piece: a timeline; the answer is its speech-time-weighted summary')
    .option('--smoothing <w>', 'with --timeline: blend each segment with its neighbours, weight in [0, 1) (default 0)', fraction)
    .option('--segments <sec>', 'also predict a timeline of fixed windows of this many seconds', seconds('segments'))
    .option('--hop <sec>', 'hop between timeline windows (default: the window length)', seconds('hop'))
    .option('--min-confidence <p>', 'answer "uncertain" when the top (calibrated) probability is below p (0–1)', probability, 0);
}

/** The flags as `PredictOptions`, checked for combinations that make no sense (SerError `cli/bad-option`). */
export function predictOptionsOf(f: PredictFlags): PredictOptions {
  if (f.hop !== undefined && f.segments === undefined) throw new SerError('cli/bad-option', '--hop needs --segments (the timeline window length)');
  if (f.timeline && f.segments !== undefined) throw new SerError('cli/bad-option', '--timeline and --segments exclude each other');
  if (f.smoothing !== undefined && !f.timeline) throw new SerError('cli/bad-option', '--smoothing needs --timeline');
  return {
    minConfidence: f.minConfidence,
    ...(f.segments !== undefined ? { segments: f.segments, hop: f.hop ?? f.segments } : {}),
    ...(f.timeline ? { timeline: true, ...(f.smoothing !== undefined ? { smoothing: f.smoothing } : {}) } : {}),
  };
}

/** The inputs the flags describe (SerError `cli/no-inputs` when there are none). */
export function inputSpec(args: string[], f: BatchFlags): InputSpec {
  if (args.length === 0 && f.manifest === undefined) throw new SerError('cli/no-inputs', 'give audio files, folders, glob patterns or --manifest FILE');
  return { args, manifest: f.manifest, shard: f.shard !== undefined ? parseShard(f.shard) : undefined };
}

/** `ser predict` over any number of inputs. Returns the summary (failed > 0 → exit code 1). */
export async function runPredictBatch(
  args: string[],
  f: BatchFlags,
  modelDir: string | undefined,
  options: PredictOptions,
  format?: (line: BatchLine) => string,
): Promise<BatchSummary> {
  const spec = inputSpec(args, f);
  const jobs = parseJobs(f.jobs);
  const total = await countInputs(spec);
  const predictor = await createPredictor(modelDir, total !== undefined ? Math.max(1, Math.min(jobs, total)) : jobs, options);
  try {
    return await runBatch({
      inputs: batchInputs(spec),
      total,
      jobs: predictor.jobs,
      run: (file) => predictor.predict(file),
      out: f.out,
      resume: f.resume,
      format,
      progress: f.progress !== false && (total === undefined || total > 1),
      label: 'predict',
    });
  } finally {
    await predictor.close();
  }
}
