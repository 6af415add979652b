/**
 * `FeaturePool`: feature extraction of many files over worker threads (one per core by
 * default), files handed out one at a time so uneven lengths balance. Works from the built
 * dist/ (worker.js) and under tsx/vitest (worker.ts, loaded with tsx).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SerError } from '../util/errors.js';
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

/**
 * The built worker.js beside this file, or (running from sources under tsx/vitest) a small
 * bootstrap that registers tsx in the worker thread and imports worker.ts.
 */
function spawnWorker(): Worker {
  const js = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  const ts = new URL('./worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { eval: true });
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
