/**
 * A gradient worker thread: one tfjs (wasm) model replica. Receives the current weights and a shard
 * of a batch, returns the shard's loss and gradients (see pool.ts). Runs from dist/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendName } from '../model/backend.js';
import { GradientEngine, JOB_DONE, JOB_FAILED, JOB_POSTED, JOB_RUNNING, filterGradFromBuffer, type FilterGradRequest, type ShardInput, type ShardResult } from './engine.js';
import type { ArchName, ArchOptions } from '../model/architectures.js';

export interface WorkerInit {
  arch: ArchName;
  archOptions: ArchOptions;
  seed: number;
  backend: BackendName;
}

export type WorkerRequest = { type: 'run'; id: number; weights: Float32Array[]; shard: ShardInput } | FilterGradRequest | { type: 'close' };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: ShardResult }
  | { type: 'error'; id: number; message: string; stack?: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('src/train/worker.ts must run as a worker thread');
  const init = workerData as WorkerInit;
  try {
    await initBackend(init.backend);
  } catch (e) {
    port.postMessage({ type: 'error', id: -1, message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
    return;
  }
  const engine = new GradientEngine(init.arch, init.archOptions, init.seed);
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'close') {
      engine.dispose();
      port.close();
      return;
    }
    if (msg.type === 'filterGrad') {
      filterGrad(msg);
      return;
    }
    try {
      engine.writeWeights(msg.weights);
      const result = engine.compute(msg.shard);
      const transfer = [...result.grads, ...result.nonTrainable].map((a) => a.buffer as ArrayBuffer);
      port.postMessage({ type: 'result', id: msg.id, result } satisfies WorkerReply, transfer);
    } catch (e) {
      port.postMessage({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined } satisfies WorkerReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
}

/**
 * An offloaded Conv2DBackpropFilter (offload.ts): claims the job (unless the calling thread took it back
 * already), writes dW into the shared buffer, then sets the job's flag to done.
 */
let jobData: SharedArrayBuffer | null = null;
let jobFlags: Int32Array | null = null;

function filterGrad(req: FilterGradRequest): void {
  if (req.sab) jobData = req.sab;
  if (req.flags) jobFlags = new Int32Array(req.flags);
  const sab = jobData, flags = jobFlags;
  if (!sab || !flags) return;
  const tag = req.ticket << 3;
  if (Atomics.compareExchange(flags, req.index, tag | JOB_POSTED, tag | JOB_RUNNING) !== (tag | JOB_POSTED)) return;
  let state = JOB_FAILED;
  try {
    const v = filterGradFromBuffer(sab, req);
    new Float32Array(sab, 4 * req.outOff, v.length).set(v);
    state = JOB_DONE;
  } finally {
    Atomics.store(flags, req.index, tag | state);
    Atomics.notify(flags, req.index);
  }
}

void main();
