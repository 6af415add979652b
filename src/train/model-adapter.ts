/**
 * The bridge from the generic loop to src/model: builds the real tfjs trainer for a recipe and
 * saves the finished model folder. Kept apart so the loop itself (and its tests) can run with
 * any `TrainerLike`.
 */
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createTrainer, type Trainer, type TrainerState } from '../model/trainer.js';
import { createTrainer as createParallelTrainer } from './parallel.js';
import { checkArch, type ArchOptions } from '../model/architectures.js';
import type { BackendName } from '../model/backend.js';
import { writeJsonAtomic } from '../util/fs.js';
import { saveModelFolder } from '../model/io.js';
import type { MetadataInput } from '../model/metadata.js';
import type { TrainerFactory, TrainerLike } from './loop.js';

/** A TrainerLike that still exposes the tfjs model (for saving). */
export interface ModelTrainer extends TrainerLike {
  toLayersModel(): tfl.LayersModel;
}

/** Builds src/model's trainer for a recipe's arch / options / lr / seed / weight decay / threads (default 1). */
export const defaultTrainerFactory: TrainerFactory = async (spec) => {
  const arch = checkArch(spec.arch);
  const backend = (spec.backend ?? 'wasm') as BackendName;
  const threads = spec.threads ?? 1;
  const opts = { arch, archOptions: spec.archOptions as ArchOptions, lr: spec.lr, seed: spec.seed, backend, weightDecay: spec.weightDecay, threads };
  // threads > 1: data-parallel gradients in worker threads (src/train/parallel.ts)
  const t: Trainer = threads > 1 ? await createParallelTrainer(opts) : await createTrainer(opts);
  const wrapped: ModelTrainer = {
    trainBatch: (s, y) => t.trainBatch(s, y),
    predict: (s) => t.predict(s),
    getState: () => t.getState(),
    setState: (s) => t.setState(s as TrainerState),
    setLearningRate: (lr) => t.setLearningRate(lr),
    dispose: () => t.dispose(),
    toLayersModel: () => t.toLayersModel(),
  };
  return wrapped;
};

/**
 * Writes the model folder with src/model's `saveModelFolder` (model.json + weights.bin +
 * metadata.json, atomically, with a weights checksum). A trainer without a tfjs model (tests)
 * gets metadata.json only.
 */
export async function defaultSaveModel(dir: string, trainer: TrainerLike, metadata: Record<string, unknown>): Promise<void> {
  const mt = trainer as Partial<ModelTrainer>;
  if (typeof mt.toLayersModel !== 'function') {
    await writeJsonAtomic(join(dir, 'metadata.json'), metadata);
    return;
  }
  await saveModelFolder(dir, mt.toLayersModel(), metadata as unknown as MetadataInput);
}
