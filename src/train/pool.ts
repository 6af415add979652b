/**
 * Data-parallel training over worker threads: each worker is a tfjs-wasm replica (wasm runs one
 * thread per instance in Node, so threads = replicas). A batch of ≥ 2 samples is split into
 * contiguous shards: the calling thread computes the first, one worker each of the others; gradients
 * are summed in shard order, so results never depend on timing. Batches of 1 run on the calling
 * thread, which hands its filter gradients to the first worker (offload.ts). Workers start lazily, on
 * the first batch that needs them.
 *
 * `createTrainer` (trainer.ts) starts a pool when `threads` > 1.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { SerError } from '../util/errors.js';
import { compiledScript } from '../util/package.js';
import type { GradientPool, ShardInput, ShardResult } from './engine.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker.js';

/** The compiled gradient worker (dist/train/worker.js). */
export function resolveWorkerFile(): string {
  return compiledScript(import.meta.url, 'dist/train/worker.js');
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, { resolve: (r: ShardResult) => void; reject: (e: Error) => void }>;
}

/** A pool of `size` gradient workers for one architecture. */
export function createWorkerPool(size: number, init: WorkerInit): GradientPool {
  const file = resolveWorkerFile();
  let slots: Slot[] | null = null;
  let nextId = 1;
  let closed = false;

  const start = (): Slot[] =>
    Array.from({ length: size }, () => {
      const worker = new Worker(file, { workerData: init });
      const pending = new Map<number, { resolve: (r: ShardResult) => void; reject: (e: Error) => void }>();
      let onReady: () => void = () => {};
      let onFail: (e: Error) => void = () => {};
      const ready = new Promise<void>((res, rej) => {
        onReady = res;
        onFail = rej;
      });
      worker.on('message', (msg: WorkerReply) => {
        if (msg.type === 'ready') onReady();
        else if (msg.type === 'result') {
          pending.get(msg.id)?.resolve(msg.result);
          pending.delete(msg.id);
        } else {
          const err = new SerError('train/worker-failed', `gradient worker failed: ${msg.message}`);
          if (msg.id === -1) onFail(err);
          pending.get(msg.id)?.reject(err);
          pending.delete(msg.id);
        }
      });
      worker.on('error', (e) => {
        const err = new SerError('train/worker-failed', `gradient worker crashed: ${e.message}`, { cause: e });
        onFail(err);
        for (const p of pending.values()) p.reject(err);
        pending.clear();
      });
      worker.on('exit', (code) => {
        if (closed) return;
        const err = new SerError('train/worker-failed', `gradient worker exited (code ${code})`);
        onFail(err);
        for (const p of pending.values()) p.reject(err);
        pending.clear();
      });
      return { worker, ready, pending };
    });

  let allReady = false;
  return {
    size,
    async ready() {
      if (closed) throw new SerError('train/pool-closed', 'the worker pool was disposed');
      slots ??= start();
      await Promise.all(slots.map((s) => s.ready));
      allReady = true;
    },
    run(weights, shards) {
      if (closed) return Promise.reject(new SerError('train/pool-closed', 'the worker pool was disposed'));
      if (shards.length > size) return Promise.reject(new SerError('train/bad-call', `${shards.length} shards for ${size} workers`));
      if (!slots || !allReady) return this.ready().then(() => this.run(weights, shards));
      const all = slots;
      // posted synchronously (no await before this point): the caller computes its own shard next
      return Promise.all(
        shards.map((shard: ShardInput, j) => {
          const slot = all[j];
          const id = nextId++;
          return new Promise<ShardResult>((resolvePromise, reject) => {
            slot.pending.set(id, { resolve: resolvePromise, reject });
            const msg: WorkerRequest = { type: 'run', id, weights, shard };
            slot.worker.postMessage(msg, [shard.batch.x.buffer as ArrayBuffer, shard.batch.mask.buffer as ArrayBuffer]);
          });
        }),
      );
    },
    offload(req) {
      if (closed) throw new SerError('train/pool-closed', 'the worker pool was disposed');
      if (!slots || !allReady) throw new SerError('train/bad-call', 'offload before the pool is ready');
      slots[0]!.worker.postMessage(req);
    },
    dispose() {
      if (closed) return;
      closed = true;
      for (const s of slots ?? []) {
        s.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
        void s.worker.terminate();
      }
      slots = null;
    },
  };
}

/** Default replica count: the machine's cores (at most 4). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}
