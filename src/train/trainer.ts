/**
 * The trainer: one interface (`Trainer`, what the loop in `loop.ts` drives) and one factory
 * (`createTrainer`): JS Adam over the weights of a `GradientEngine` replica on the calling thread,
 * with batches split over worker replicas (`pool.ts`) when `threads` > 1. Gradients are summed in
 * shard order, so results never depend on timing. `saveTrainedModel` writes the model folder.
 */
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Spectrogram } from '../features/types.js';
import { SerError } from '../util/errors.js';
import { writeJsonAtomic } from '../util/fs.js';
import { initBackend, type BackendName } from '../model/backend.js';
import { batchArrays, checkArch, resolveArchOptions, type ArchName, type ArchOptions } from '../model/architectures.js';
import { saveModelFolder } from '../model/io.js';
import type { MetadataInput } from '../model/metadata.js';
import { GradientEngine, adamUpdate, sampleSeed, shardRanges, type GradientPool, type ShardInput, type ShardResult } from './engine.js';
import { createWorkerPool, defaultThreads } from './pool.js';
import { FilterGradOffloader, OffloadChooser } from './offload.js';

export interface TrainerOptions {
  /** An architecture name (`ARCH_NAMES`); checked by `createTrainer`. */
  arch: ArchName | string;
  /** Architecture options; the loop fills `numClasses` and `rows` from the data. */
  archOptions: ArchOptions;
  lr: number;
  seed: number;
  /** Replicas computing each batch (data-parallel worker threads); default: the machine's cores (`defaultThreads`). */
  threads?: number;
  backend?: BackendName | string;
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

/**
 * What the training loop drives. `createTrainer` returns one (with `TrainerState` as its state and a
 * tfjs model); the loop treats the state as opaque, so small test trainers implement it too.
 */
export interface Trainer<State = unknown> {
  /** One optimisation step on a batch; `targets` is b × numClasses soft targets. Returns the mean loss. */
  trainBatch(specs: Spectrogram[], targets: Float32Array): Promise<number>;
  /** Class probabilities per sample (inference mode: no dropout, batch-norm moving statistics). */
  predict(specs: Spectrogram[]): Promise<Float32Array[]>;
  /** Everything needed to continue training exactly (weights, optimizer moments and step, rng). */
  getState(): Promise<State>;
  setState(s: State): Promise<void>;
  setLearningRate(lr: number): void;
  dispose(): void;
  /** Replicas computing each batch (1 = the calling thread only). */
  readonly threads: number;
  /** The tfjs model holding the current weights (absent on trainers without one, e.g. test doubles). */
  toLayersModel?(): tfl.LayersModel;
}

/** The trainer `createTrainer` builds: typed state and always a tfjs model. */
export interface ModelTrainer extends Trainer<TrainerState> {
  toLayersModel(): tfl.LayersModel;
}

/** How the loop builds its trainer (default `createTrainer`; tests pass small ones). */
export type TrainerFactory = (opts: TrainerOptions) => Promise<Trainer>;

/**
 * The trainer factory. `threads` replicas (default: the machine's cores, see `defaultThreads`) compute
 * each batch of ≥ 2 samples: the calling thread the first shard, `threads − 1` worker threads the
 * others; a batch of 1 runs on the calling thread with its filter gradients computed by the first worker
 * when that is measured to be faster (offload.ts; the same weights as one thread, bit for bit);
 * `threads: 1` runs on the calling thread.
 * Same seed + settings + threads → same weights.
 */
export async function createTrainer(opts: TrainerOptions): Promise<ModelTrainer> {
  const arch = checkArch(opts.arch);
  const backend = (opts.backend ?? 'wasm') as BackendName;
  await initBackend(backend);
  const threads = Math.max(1, opts.threads ?? defaultThreads());
  // the calling thread computes one shard itself, so `threads` replicas need threads − 1 workers
  const pool: GradientPool | undefined = threads > 1
    ? createWorkerPool(threads - 1, { arch, archOptions: opts.archOptions, seed: opts.seed, backend })
    : undefined;
  const archOptions = { ...opts.archOptions };
  const resolved = resolveArchOptions(arch, archOptions);
  const engine = new GradientEngine(arch, archOptions, opts.seed);
  // batches of 1 with workers: the filter gradients go to the first worker when that is faster (offload.ts;
  // the chooser compares ms per frame, as sample lengths vary)
  const offloader = pool ? new FilterGradOffloader((req) => pool.offload(req)) : undefined;
  const chooser = new OffloadChooser();
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

  const trainer: ModelTrainer = {
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
      } else if (pool && offloader && b === 1) {
        const limit = chooser.next();
        if (limit > 0) await pool.ready();
        const t0 = performance.now();
        results = [limit > 0 ? offloader.compute(engine, shards[0], limit) : engine.compute(shards[0])];
        chooser.record(limit, (performance.now() - t0) / shards[0].batch.frames, limit > 0 ? offloader.offeredLastStep : 0);
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

/**
 * Writes the model folder with src/model's `saveModelFolder` (model.json + weights.bin +
 * metadata.json, atomically, with a weights checksum). A trainer without a tfjs model (tests)
 * gets metadata.json only.
 */
export async function saveTrainedModel(dir: string, trainer: Trainer, metadata: Record<string, unknown>): Promise<void> {
  if (typeof trainer.toLayersModel !== 'function') {
    await writeJsonAtomic(join(dir, 'metadata.json'), metadata);
    return;
  }
  await saveModelFolder(dir, trainer.toLayersModel(), metadata as unknown as MetadataInput);
}
