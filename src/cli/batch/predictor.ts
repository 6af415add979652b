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
import { encodeWav } from '../../audio/wav.js';
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

/** One second of a gliding harmonic tone with a little noise: enough signal for a full prediction. */
function warmUpClip(): Float32Array {
  const y = new Float32Array(16000);
  let phase = 0;
  for (let i = 0; i < y.length; i++) {
    phase += (2 * Math.PI * (150 + 30 * Math.sin(i / 4000))) / 16000;
    y[i] = 0.3 * (Math.sin(phase) + 0.5 * Math.sin(2 * phase)) + 0.01 * Math.sin(i * 12.9898);
  }
  return y;
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
    await predictLine(clf, job(encodeWav(warmUpClip(), 16000, { encoding: 'pcm16' }), 'warm-up.wav', opts)).catch(() => undefined);
    return {
      jobs: 1,
      predict: async (file, o = opts) => predictLine(clf, job(await readAudioBytes(file), file, o)),
      close: async () => clf.dispose(),
    };
  }
  const pool = new WorkerPool(jobs, dir);
  try {
    await pool.ready();
    // one throw-away prediction per worker, all at once (each lands on its own idle worker), so the
    // first real inputs do not pay for the backend's first-call set-up and throughput is steady from the
    // start (the in-process path above does the same)
    const warm = encodeWav(warmUpClip(), 16000, { encoding: 'pcm16' });
    await Promise.all(Array.from({ length: jobs }, () => pool.run(job(warm, 'warm-up.wav', opts)).catch(() => undefined)));
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
