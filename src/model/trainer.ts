/**
 * The training engine: a model replica that computes gradients (`GradientEngine`), Adam in plain JS
 * over Float32Arrays (exact PyTorch Adam / AdamW formulas, deterministic, no per-variable tfjs ops),
 * and `createTrainer`, which trains on the current thread or through a `GradientPool` (worker threads,
 * see src/train/parallel.ts) that returns per-shard gradients summed here in a fixed order.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Spectrogram } from '../features/types.js';
import { SerError } from '../util/errors.js';
import { initBackend, type BackendName } from './backend.js';
import { buildModel, batchArrays, checkArch, resolveArchOptions, type ArchName, type ArchOptions, type BatchArrays } from './architectures.js';
import { SampleDropout } from './layers.js';

export interface TrainerOptions {
  arch: ArchName;
  archOptions: ArchOptions;
  lr: number;
  seed: number;
  /** Worker threads for data-parallel gradients (src/train/parallel.ts); 1 = this thread. */
  threads?: number;
  backend?: BackendName;
  /** Decoupled weight decay (AdamW) on conv/dense kernels; 0 = plain Adam (default). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Everything needed to resume training exactly: weights, Adam moments, step, seed. */
export interface TrainerState {
  arch: ArchName;
  archOptions: ArchOptions;
  seed: number;
  step: number;
  lr: number;
  /** Values of `model.weights` in order (trainable and non-trainable, e.g. batch-norm statistics). */
  weights: Float32Array[];
  /** Adam first and second moments, one per trainable weight (in `model.trainableWeights` order). */
  m: Float32Array[];
  v: Float32Array[];
}

export interface Trainer {
  /** One Adam step on a batch; `targets` is b × numClasses soft targets. Returns the mean loss. */
  trainBatch(specs: Spectrogram[], targets: Float32Array): Promise<number>;
  /** Softmax probabilities per sample (inference mode: no dropout, batch-norm moving statistics). */
  predict(specs: Spectrogram[]): Promise<Float32Array[]>;
  getState(): Promise<TrainerState>;
  setState(s: TrainerState): Promise<void>;
  setLearningRate(lr: number): void;
  /** The main-thread model (current weights). */
  toLayersModel(): tfl.LayersModel;
  dispose(): void;
  readonly threads: number;
}

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
 * Data-parallel gradient computation on replicas (worker threads, src/train/parallel.ts). The trainer
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
  dispose(): void;
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

  /** Loss and gradients of one shard (training mode). */
  compute(shard: ShardInput): ShardResult {
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

/**
 * Creates a trainer. With a `pool` (worker threads) batches of ≥ 2 samples are split across this
 * thread and the workers; otherwise everything runs on this thread. Same seed + settings → same weights.
 */
export async function createTrainer(opts: TrainerOptions, pool?: GradientPool): Promise<Trainer> {
  const arch = checkArch(opts.arch);
  await initBackend(opts.backend ?? 'wasm');
  const archOptions = { ...opts.archOptions };
  const resolved = resolveArchOptions(arch, archOptions);
  const engine = new GradientEngine(arch, archOptions, opts.seed);
  const beta1 = opts.beta1 ?? 0.9, beta2 = opts.beta2 ?? 0.999, eps = opts.epsilon ?? 1e-8;
  const wd = opts.weightDecay ?? 0;
  let lr = opts.lr;
  let step = 0;
  let seed = opts.seed; // dropout stream; restored by setState
  const allWeights = engine.model.weights;
  const trainIdx = engine.trainable.map((tw) => allWeights.indexOf(tw));
  const nonTrainIdx = engine.nonTrainable.map((nw) => allWeights.indexOf(nw));
  const decays = engine.trainable.map((tw) => (/kernel/.test(tw.name) && !/att_/.test(tw.name) ? wd : 0));
  let weights = engine.readWeights();
  let m = engine.trainable.map((tw) => new Float32Array(tw.read().size));
  let v = m.map((a) => new Float32Array(a.length));
  let disposed = false;

  const trainer: Trainer = {
    threads: pool ? pool.size + 1 : 1,
    async trainBatch(specs, targets) {
      if (disposed) throw new SerError('model/disposed', 'trainer was disposed');
      const b = specs.length;
      if (targets.length !== b * resolved.numClasses) {
        throw new SerError('model/bad-input', `targets has ${targets.length} values, expected ${b} × ${resolved.numClasses}`);
      }
      const seeds = Uint32Array.from({ length: b }, (_, i) => sampleSeed(seed, step, i));
      const usePool = pool && b >= 2;
      const ranges = usePool ? shardRanges(b, pool.size + 1) : [[0, b] as [number, number]];
      const shards: ShardInput[] = ranges.map(([s, e]) => ({
        batch: batchArrays(specs.slice(s, e), arch, archOptions),
        targets: targets.slice(s * resolved.numClasses, e * resolved.numClasses),
        sampleSeeds: seeds.slice(s, e),
        total: b,
      }));
      let results: ShardResult[];
      if (usePool && shards.length > 1) {
        // the workers take shards 1..k; this thread computes shard 0 meanwhile (its replica already
        // holds the current weights). `run` posts synchronously once the pool is ready: posting
        // after an await would queue the messages behind this thread's synchronous compute and
        // serialise the work (measured: 2 threads no faster than 1).
        await pool.ready();
        const remote = pool.run(weights, shards.slice(1));
        let local: ShardResult;
        try {
          local = engine.compute(shards[0]);
        } catch (e) {
          await remote.catch(() => undefined);
          throw e;
        }
        results = [local, ...(await remote)];
      } else {
        results = [engine.compute(shards[0])];
      }
      // sum shard gradients in shard order (fixed → timing-independent)
      const grads = results[0].grads.map((g) => new Float32Array(g));
      for (let r = 1; r < results.length; r++) {
        results[r].grads.forEach((g, i) => {
          const acc = grads[i];
          for (let k = 0; k < acc.length; k++) acc[k] += g[k];
        });
      }
      step++;
      trainIdx.forEach((wi, i) => adamUpdate(weights[wi], grads[i], m[i], v[i], step, lr, beta1, beta2, eps, decays[i]));
      // non-trainable (batch-norm moving statistics): mean over shards
      nonTrainIdx.forEach((wi, i) => {
        const acc = new Float32Array(results[0].nonTrainable[i]);
        for (let r = 1; r < results.length; r++) {
          const src = results[r].nonTrainable[i];
          for (let k = 0; k < acc.length; k++) acc[k] += src[k];
        }
        if (results.length > 1) for (let k = 0; k < acc.length; k++) acc[k] /= results.length;
        weights[wi] = acc;
      });
      engine.writeWeights(weights);
      let loss = 0;
      for (const r of results) loss += r.lossSum;
      return loss / b;
    },
    async predict(specs) {
      const out: Float32Array[] = new Array(specs.length);
      // length-sorted chunks keep padding small; masking makes results independent of grouping
      const order = specs.map((s, i) => i).sort((a, c) => specs[a].frames - specs[c].frames);
      const chunk = 8;
      for (let s = 0; s < order.length; s += chunk) {
        const idx = order.slice(s, s + chunk);
        const probs = engine.predict(batchArrays(idx.map((i) => specs[i]), arch, archOptions));
        idx.forEach((i, k) => (out[i] = probs[k]));
      }
      return out;
    },
    async getState() {
      return {
        arch, archOptions: { ...archOptions }, seed, step, lr,
        weights: weights.map((w) => new Float32Array(w)),
        m: m.map((a) => new Float32Array(a)),
        v: v.map((a) => new Float32Array(a)),
      };
    },
    async setState(s) {
      if (s.arch !== arch || s.weights.length !== weights.length || s.m.length !== m.length) {
        throw new SerError('model/incompatible', `trainer state is for ${s.arch} with ${s.weights.length} weights; this trainer is ${arch} with ${weights.length}`);
      }
      s.weights.forEach((w, i) => {
        if (w.length !== weights[i].length) throw new SerError('model/incompatible', `trainer state weight ${i} has ${w.length} values, expected ${weights[i].length}`);
      });
      weights = s.weights.map((w) => new Float32Array(w));
      m = s.m.map((a) => new Float32Array(a));
      v = s.v.map((a) => new Float32Array(a));
      step = s.step;
      lr = s.lr;
      seed = s.seed;
      engine.writeWeights(weights);
    },
    setLearningRate(next) {
      lr = next;
    },
    toLayersModel() {
      return engine.model;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      pool?.dispose();
      engine.dispose();
    },
  };
  return trainer;
}
