/**
 * The gradient engine: a model replica that computes loss and gradients of a shard of a batch
 * (`GradientEngine`, used on the calling thread and in the workers of `pool.ts`), Adam in plain JS
 * over Float32Arrays (exact PyTorch Adam / AdamW formulas, deterministic, no per-variable tfjs ops),
 * and the shard arithmetic. `trainer.ts` puts these together into the one `createTrainer`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { SerError } from '../util/errors.js';
import { buildModel, type ArchName, type ArchOptions, type BatchArrays } from '../model/architectures.js';
import { SampleDropout } from '../model/layers.js';

/** What a worker (or the local engine) returns for one shard. */
export interface ShardResult {
  /** Σ over the shard's samples of the per-sample loss. */
  lossSum: number;
  /** Gradients of (Σ shard loss) / (full batch size), one per trainable weight. */
  grads: Float32Array[];
  /** Non-trainable weights after the step (batch-norm moving statistics), in order. */
  nonTrainable: Float32Array[];
}

/** A shard of a batch, ready to send to a replica. */
export interface ShardInput {
  batch: BatchArrays;
  targets: Float32Array;
  sampleSeeds: Uint32Array;
  /** Size of the whole batch (the loss is divided by it). */
  total: number;
}

/**
 * Data-parallel gradient computation on replicas (worker threads, pool.ts). The trainer
 * splits a batch into `size + 1` shards: the calling thread computes the first, the pool the rest.
 */
export interface GradientPool {
  /** Number of worker replicas (the calling thread is one more). */
  readonly size: number;
  /** Starts the workers (once) and resolves when all are ready to take shards. */
  ready(): Promise<void>;
  /**
   * Computes the shards in parallel with the given weights (all of `model.weights`, in order). The
   * shards are posted to the workers before `run` returns (call `ready()` first), so the calling
   * thread can compute its own shard meanwhile.
   */
  run(weights: Float32Array[], shards: ShardInput[]): Promise<ShardResult[]>;
  /** Posts an offloaded filter gradient to the first worker (offload.ts; call `ready()` first). */
  offload(req: FilterGradRequest): void;
  dispose(): void;
}

/** An offloaded filter gradient as the worker receives it (offload.ts → worker.ts). Offsets are in floats into `sab`. */
export interface FilterGradRequest {
  type: 'filterGrad';
  /** The data buffer and the flags, sent only when they change (the worker keeps the last ones it got; one port delivers in order). */
  sab?: SharedArrayBuffer;
  flags?: SharedArrayBuffer;
  /** Index of this job's flag in `flags` (Int32): (ticket << 3) | state, see offload.ts. */
  index: number;
  ticket: number;
  xOff: number;
  xShape: number[];
  dyOff: number;
  dyShape: number[];
  outOff: number;
  attrs: Record<string, unknown>;
}

/** Flag states (the low 3 bits of a job's flag). */
export const JOB_POSTED = 0, JOB_DONE = 1, JOB_FAILED = 2, JOB_RUNNING = 3, JOB_TAKEN_BACK = 4;

/**
 * dW of an offloaded filter-gradient job from its x and dy in the shared buffer: the same kernel on the same
 * inputs wherever it runs (the worker, or the calling thread taking a job back), so the same bits.
 */
export function filterGradFromBuffer(sab: SharedArrayBuffer, job: Pick<FilterGradRequest, 'xOff' | 'xShape' | 'dyOff' | 'dyShape' | 'attrs'>): Float32Array {
  const dw = tf.tidy(() => {
    const x = tf.tensor(new Float32Array(sab, 4 * job.xOff, tf.util.sizeFromShape(job.xShape)), job.xShape, 'float32');
    const dy = tf.tensor(new Float32Array(sab, 4 * job.dyOff, tf.util.sizeFromShape(job.dyShape)), job.dyShape, 'float32');
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, job.attrs as never) as tf.Tensor;
  });
  const v = dw.dataSync() as Float32Array;
  dw.dispose();
  return v;
}

/** Seed of the dropout mask of batch sample `i` at `step` (independent of how batches are split). */
export function sampleSeed(seed: number, step: number, i: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

/** A model replica that computes loss and gradients for shards. Used on the main thread and in workers. */
export class GradientEngine {
  readonly model: tfl.LayersModel;
  readonly trainable: tfl.LayerVariable[];
  readonly nonTrainable: tfl.LayerVariable[];
  private readonly dropouts: SampleDropout[];

  constructor(readonly arch: ArchName, archOptions: ArchOptions, seed: number) {
    this.model = buildModel(arch, archOptions, seed);
    this.trainable = this.model.trainableWeights;
    this.nonTrainable = this.model.nonTrainableWeights;
    this.dropouts = this.model.layers.filter((l): l is SampleDropout => l instanceof SampleDropout);
  }

  /** Values of all `model.weights`, in order. */
  readWeights(): Float32Array[] {
    return this.model.weights.map((w) => w.read().dataSync() as Float32Array).map((a) => new Float32Array(a));
  }

  /** Replaces all `model.weights` (new tensors, so cached XNNPACK operators repack them). */
  writeWeights(values: Float32Array[]): void {
    const ws = this.model.weights;
    if (values.length !== ws.length) throw new SerError('model/incompatible', `expected ${ws.length} weight arrays, got ${values.length}`);
    ws.forEach((w, i) => {
      const t = tf.tensor(values[i], w.shape as number[]);
      w.write(t);
      t.dispose();
    });
  }

  writeNonTrainable(values: Float32Array[]): void {
    this.nonTrainable.forEach((w, i) => {
      const t = tf.tensor(values[i], w.shape as number[]);
      w.write(t);
      t.dispose();
    });
  }

  /**
   * Loss and gradients of one shard (training mode). `beforeRead` runs after the backward pass and before
   * the gradients are read (offload.ts fills in the filter gradients computed by a worker there).
   */
  compute(shard: ShardInput, beforeRead?: () => void): ShardResult {
    const { batch, targets, sampleSeeds, total } = shard;
    // each dropout layer gets its own stream per sample (layer k > 0: the seeds re-hashed with k)
    this.dropouts.forEach((d, k) => {
      d.sampleSeeds = k === 0 ? sampleSeeds : sampleSeeds.map((s) => sampleSeed(s, 0x5eed, k));
    });
    const vars = this.trainable.map((w) => w.read() as tf.Variable);
    let lossSum = 0;
    const grads = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.batch, batch.rows, batch.frames, 1]);
      const mask = tf.tensor2d(batch.mask, [batch.batch, batch.frames]);
      const t = tf.tensor2d(targets, [batch.batch, targets.length / batch.batch]);
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.model.apply([x, mask], { training: true }) as tf.Tensor2D;
        const perSample = tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(logits)), 1));
        return tf.div(tf.sum(perSample), total) as tf.Scalar;
      }, vars);
      lossSum = (value.dataSync()[0] as number) * total;
      return vars.map((v) => grads[v.name]);
    });
    for (const d of this.dropouts) d.sampleSeeds = null;
    try {
      beforeRead?.();
    } catch (e) {
      tf.dispose(grads);
      throw e;
    }
    const out = grads.map((g) => new Float32Array(g.dataSync() as Float32Array));
    tf.dispose(grads);
    const nonTrainable = this.nonTrainable.map((w) => new Float32Array(w.read().dataSync() as Float32Array));
    return { lossSum, grads: out, nonTrainable };
  }

  /** Softmax probabilities of a batch (inference mode). */
  predict(batch: BatchArrays): Float32Array[] {
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.batch, batch.rows, batch.frames, 1]);
      const mask = tf.tensor2d(batch.mask, [batch.batch, batch.frames]);
      return tf.softmax(this.model.apply([x, mask], { training: false }) as tf.Tensor2D);
    });
    const v = probs.dataSync() as Float32Array;
    const k = probs.shape[1] as number;
    probs.dispose();
    const out: Float32Array[] = [];
    for (let i = 0; i < batch.batch; i++) out.push(v.slice(i * k, (i + 1) * k));
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Adam (PyTorch's formulas) in place: w −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε), with decoupled
 * weight decay w −= lr·wd·w first when `decay` (AdamW).
 */
export function adamUpdate(
  w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number,
  lr: number, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, decay = 0,
): void {
  const bc1 = 1 - beta1 ** t;
  const bc2 = Math.sqrt(1 - beta2 ** t);
  const stepSize = lr / bc1;
  const shrink = 1 - lr * decay;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + (1 - beta1) * gi;
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * shrink - (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
  }
}

/** Splits `n` samples into at most `k` contiguous shards of near-equal size. */
export function shardRanges(n: number, k: number): Array<[number, number]> {
  const parts = Math.max(1, Math.min(k, n));
  const out: Array<[number, number]> = [];
  for (let j = 0; j < parts; j++) out.push([Math.floor((j * n) / parts), Math.floor(((j + 1) * n) / parts)]);
  return out;
}
