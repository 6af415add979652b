/**
 * `FeaturePool`: feature extraction of many files over worker threads (one per core by
 * default), files handed out one at a time so uneven lengths balance. The workers run the compiled
 * dist/features/worker.js (util/package.ts finds it, as for every pool).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { SerError } from '../util/errors.js';
import { compiledScript } from '../util/package.js';
import type { FeatureParams } from './params.js';
import type { Spectrogram } from './types.js';
import type { FeatureReply, FeatureTask } from './worker.js';

export interface PooledResult {
  path: string;
  spec?: Spectrogram;
  error?: { code: string; message: string };
  /** Audio duration in seconds (0 on error). */
  seconds: number;
  decodeMs: number;
  featureMs: number;
}

/** A feature worker thread running the compiled dist/features/worker.js. */
function spawnWorker(): Worker {
  return new Worker(compiledScript(import.meta.url, 'dist/features/worker.js'));
}

/** A fixed set of feature workers; `close()` when done. */
export class FeaturePool {
  readonly size: number;
  private readonly workers: Worker[] = [];

  constructor(size = availableParallelism()) {
    if (!Number.isInteger(size) || size < 1) throw new SerError('features/bad-param', `FeaturePool: worker count must be a positive integer, got ${size}`);
    this.size = size;
    for (let i = 0; i < size; i++) this.workers.push(spawnWorker());
  }

  /** Features of every path (results in input order; a failing file gets `error`, the rest go on). */
  async extractAll(paths: string[], params: FeatureParams, onResult?: (r: PooledResult, done: number) => void): Promise<PooledResult[]> {
    const results: PooledResult[] = new Array(paths.length);
    let next = 0, done = 0;
    if (paths.length === 0) return results;
    await new Promise<void>((resolveAll, rejectAll) => {
      const feed = (w: Worker) => {
        if (next >= paths.length) return;
        const task: FeatureTask = { id: next, path: paths[next]!, params };
        next++;
        w.postMessage(task);
      };
      for (const w of this.workers) {
        w.removeAllListeners('message');
        w.removeAllListeners('error');
        w.on('message', (m: FeatureReply) => {
          const path = paths[m.id]!;
          const r: PooledResult = m.ok
            ? { path, spec: { data: m.data, nMels: m.nMels, frames: m.frames }, seconds: m.seconds, decodeMs: m.decodeMs, featureMs: m.featureMs }
            : { path, error: { code: m.code, message: m.message }, seconds: 0, decodeMs: 0, featureMs: 0 };
          results[m.id] = r;
          done++;
          onResult?.(r, done);
          if (done === paths.length) resolveAll();
          else feed(w);
        });
        w.on('error', (e) => rejectAll(new SerError('features/worker-crashed', `feature worker crashed: ${e.message}`, { cause: e })));
        feed(w);
      }
    });
    return results;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
