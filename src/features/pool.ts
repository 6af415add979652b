/**
 * `FeaturePool`: feature extraction of many files over worker threads (one per core by
 * default), files handed out one at a time so uneven lengths balance. `extract()` streams (one
 * file, many outstanding; used by `ser features --out`), `extractAll()` is a list on top of it. The workers run the
 * compiled dist/features/worker.js (util/package.ts finds it, as for every pool).
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
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ task: FeatureTask; done: (r: FeatureReply) => void }> = [];
  private readonly pending = new Map<number, (r: FeatureReply) => void>();
  /** The task id each busy worker holds (so a crash can fail it). */
  private readonly holding = new Map<Worker, number>();
  private nextId = 0;
  private crashed: Error | null = null;

  constructor(size = availableParallelism()) {
    if (!Number.isInteger(size) || size < 1) throw new SerError('features/bad-param', `FeaturePool: worker count must be a positive integer, got ${size}`);
    this.size = size;
    for (let i = 0; i < size; i++) {
      const w = spawnWorker();
      w.on('message', (m: FeatureReply) => {
        this.holding.delete(w);
        const done = this.pending.get(m.id);
        this.pending.delete(m.id);
        this.idle.push(w);
        this.dispatch();
        done?.(m);
      });
      w.on('error', (e) => {
        this.crashed = new SerError('features/worker-crashed', `feature worker crashed: ${e.message}`, { cause: e });
        const id = this.holding.get(w);
        if (id !== undefined) this.pending.get(id)?.({ id, ok: false, code: 'features/worker-crashed', message: this.crashed.message });
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const { task, done } = this.queue.shift()!;
      this.pending.set(task.id, done);
      this.holding.set(w, task.id);
      w.postMessage(task);
    }
  }

  /**
   * Features of one file on the next free worker (queued while all are busy). Never rejects for a
   * bad file: the result carries `error`. Many calls may be outstanding; results come as they finish.
   */
  extract(path: string, params: FeatureParams): Promise<PooledResult> {
    if (this.crashed) return Promise.reject(this.crashed);
    const task: FeatureTask = { id: this.nextId++, path, params };
    return new Promise<PooledResult>((resolve, reject) => {
      this.queue.push({
        task,
        done: (m) => {
          if (!m.ok && m.code === 'features/worker-crashed') reject(this.crashed);
          else resolve(m.ok
            ? { path, spec: { data: m.data, nMels: m.nMels, frames: m.frames }, seconds: m.seconds, decodeMs: m.decodeMs, featureMs: m.featureMs }
            : { path, error: { code: m.code, message: m.message }, seconds: 0, decodeMs: 0, featureMs: 0 });
        },
      });
      this.dispatch();
    });
  }

  /** Features of every path (results in input order; a failing file gets `error`, the rest go on). */
  async extractAll(paths: string[], params: FeatureParams, onResult?: (r: PooledResult, done: number) => void): Promise<PooledResult[]> {
    let done = 0;
    return Promise.all(
      paths.map((p) =>
        this.extract(p, params).then((r) => {
          onResult?.(r, ++done);
          return r;
        }),
      ),
    );
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }
}
