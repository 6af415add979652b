/**
 * The per-input prediction function of a batch: one file → the `ser predict --json` line. With one
 * job it runs in this thread; with more it runs on the server's prediction worker pool
 * (`server/pool.ts`, one model per worker thread) — the same `predictLine` either way, so the lines
 * are identical whichever path made them. `PredictOptions` travels with every input (to the
 * workers and through the job queue), so what a line holds (a timeline, say) is an option here.
 */
import { availableParallelism } from 'node:os';
import { Classifier, defaultModelDir } from '../../infer/classifier.js';
import { readAudioBytes } from '../../audio/load.js';
import { WorkerPool } from '../../server/pool.js';
import { predictLine, type PredictJob, type PredictLineResult } from '../../server/predict-line.js';
import { SerError } from '../../util/errors.js';

/** What each prediction computes besides the whole-file emotion (passed to `predictLine`). */
export type PredictOptions = Omit<PredictJob, 'bytes' | 'name' | 'maxDurationSec' | 'maxWindows'>;

export interface Predictor {
  /** One file → its line (options: the predictor's own unless given); throws a SerError for a bad file. */
  predict(file: string, options?: PredictOptions): Promise<PredictLineResult>;
  /** How many predictions may run at once. */
  readonly jobs: number;
  close(): Promise<void>;
}

/** Parses `--jobs`: a positive integer; default the machine's cores. */
export function parseJobs(v: string | undefined): number {
  if (v === undefined) return availableParallelism();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new SerError('cli/bad-option', `--jobs must be a positive integer, got "${v}"`);
  return n;
}

function job(bytes: Uint8Array, file: string, opts: PredictOptions): PredictJob {
  return { ...opts, bytes, name: file, maxDurationSec: Infinity, maxWindows: Infinity };
}

/**
 * A predictor for `modelDir` with `jobs` workers. `threads: false` with one job keeps everything
 * in this thread (no worker start-up); `ser worker` always uses threads so its event loop stays free
 * to renew the queue's job locks.
 */
export async function createPredictor(modelDir: string | undefined, jobs: number, opts: PredictOptions = {}, threads = jobs > 1): Promise<Predictor> {
  const dir = modelDir ?? defaultModelDir();
  if (!threads && jobs === 1) {
    const clf = await Classifier.load(dir);
    return {
      jobs: 1,
      predict: async (file, o = opts) => predictLine(clf, job(await readAudioBytes(file), file, o)),
      close: async () => clf.dispose(),
    };
  }
  const pool = new WorkerPool(jobs, dir);
  try {
    await pool.ready();
  } catch (e) {
    await pool.close();
    throw e;
  }
  // the pool runs one job per worker and refuses a job when all are busy: hand out at most `jobs`
  let free = jobs;
  const waiting: Array<() => void> = [];
  const acquire = () => (free > 0 ? (free--, Promise.resolve()) : new Promise<void>((r) => waiting.push(r)));
  const release = () => {
    const w = waiting.shift();
    if (w) w();
    else free++;
  };
  return {
    jobs,
    predict: async (file, o = opts) => {
      const bytes = await readAudioBytes(file);
      await acquire();
      try {
        return await pool.run(job(bytes, file, o));
      } finally {
        release();
      }
    },
    close: () => pool.close(),
  };
}
