/**
 * A fixed pool of prediction worker threads (`worker.ts`), one job per worker at a time (the HTTP
 * layer's Gate bounds how many run). A job past its deadline is cancelled by terminating its worker,
 * which is replaced at once, so a stuck request cannot hold a core.
 */
import { Worker } from 'node:worker_threads';
import { SerError } from '../util/errors.js';
import { compiledScript } from '../util/package.js';
import type { PredictJob, PredictLineResult } from './predict-line.js';

/** The compiled worker script (dist/server/worker.js). */
export function workerScript(): string {
  return compiledScript(import.meta.url, 'dist/server/worker.js');
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
  pending: { id: number; resolve: (l: PredictLineResult) => void; reject: (e: Error) => void } | null;
}

export class WorkerPool {
  private slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    readonly size: number,
    readonly modelDir: string,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(workerScript(), { workerData: { modelDir: this.modelDir } });
    const slot: Slot = { worker, busy: false, pending: null, ready: Promise.resolve() };
    slot.ready = new Promise<void>((resolve, reject) => {
      const onMsg = (m: { ready?: boolean; fatal?: { message: string } }) => {
        if (m.ready) resolve();
        else if (m.fatal) reject(new SerError('server/worker', `prediction worker failed to start: ${m.fatal.message}`));
      };
      worker.on('message', onMsg);
      worker.once('error', reject);
    });
    slot.ready.catch(() => undefined);
    worker.on('message', (m: { id?: number; line?: PredictLineResult; error?: { code: string; message: string } }) => {
      const p = slot.pending;
      if (!p || m.id !== p.id) return;
      slot.pending = null;
      slot.busy = false;
      if (m.error) p.reject(new SerError(m.error.code, m.error.message));
      else p.resolve(m.line!);
    });
    worker.on('error', (e) => {
      slot.pending?.reject(new SerError('server/worker', `prediction worker crashed: ${e.message}`));
      slot.pending = null;
    });
    worker.on('exit', () => {
      if (slot.pending) slot.pending.reject(new SerError('server/worker', 'prediction worker exited'));
      slot.pending = null;
      const i = this.slots.indexOf(slot);
      if (i >= 0 && !this.closed) this.slots[i] = this.spawn();
    });
    return slot;
  }

  /** Resolves when every worker has loaded the model (rejects if one cannot). */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /**
   * Runs `job` on an idle worker. `signal` aborts it: the worker is terminated (and replaced) and the
   * promise rejects with the abort reason.
   */
  async run(job: PredictJob, signal?: AbortSignal): Promise<PredictLineResult> {
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) throw new SerError('server/busy', 'no idle prediction worker');
    slot.busy = true;
    try {
      await slot.ready;
    } catch (e) {
      slot.busy = false;
      throw e;
    }
    const id = this.nextId++;
    return new Promise<PredictLineResult>((resolve, reject) => {
      slot.pending = { id, resolve, reject };
      const onAbort = () => {
        if (slot.pending?.id !== id) return;
        slot.pending = null;
        reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
        void slot.worker.terminate(); // 'exit' spawns the replacement
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const copy = new Uint8Array(job.bytes); // transferable own buffer
      slot.worker.postMessage({ id, job: { ...job, bytes: copy } }, [copy.buffer]);
    });
  }

  /** Terminates every worker. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
