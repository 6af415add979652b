/**
 * A gradient worker thread: one tfjs (wasm) model replica. Receives the current weights and a shard
 * of a batch, returns the shard's loss and gradients (see pool.ts). Runs from dist/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../model/backend.js';
import { GradientEngine, type ShardInput, type ShardResult } from './engine.js';
import type { ArchName, ArchOptions } from '../model/architectures.js';
import type { FilterGradRequest } from './offload.js';

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

/** An offloaded Conv2DBackpropFilter (offload.ts): dW into the shared buffer, then the job's flag set. */
function filterGrad(req: FilterGradRequest): void {
  const flags = new Int32Array(req.flags);
  let state = 2;
  try {
    const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
    const dw = tf.tidy(() => {
      const x = tf.tensor(new Float32Array(req.sab, 4 * req.xOff, size(req.xShape)), req.xShape, 'float32');
      const dy = tf.tensor(new Float32Array(req.sab, 4 * req.dyOff, size(req.dyShape)), req.dyShape, 'float32');
      return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, req.attrs as never) as tf.Tensor;
    });
    const v = dw.dataSync() as Float32Array;
    new Float32Array(req.sab, 4 * req.outOff, v.length).set(v);
    dw.dispose();
    state = 1;
  } finally {
    Atomics.store(flags, req.index, state);
    Atomics.notify(flags, req.index);
  }
}

void main();
