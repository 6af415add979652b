/**
 * The networks, as tfjs-layers models with two inputs: `x` `[b, rows, T, 1]` (a spectrogram per
 * sample, rows = mel bands (+ extra feature rows), T frames) and `mask` `[b, T]` (1 on real frames).
 *
 * - `cnn3`, `cnn4`: the study's variable-length CNNs (3×3 conv + ReLU + 2×2 max-pool, global average
 *   pooling, dropout 0.25, dense). Masked: padding never changes a sample's output.
 * - `cnn3-resized`, `cnn4-resized`: the study's fixed 128×256 CNNs (conv + BN + ReLU + pool, flatten,
 *   dropout 0.5, dense).
 * - `ser-cnn`: our configurable recipe (widths, batch norm, pooling avg | stats | attention, dropout, rows).
 * - `ser-mlp`: an MLP on one feature vector per utterance (input [b, D, 1, 1], frames = 1):
 *   flatten → standardise (stored training mean/std) → dropout → dense(hidden) → ReLU → dropout → dense;
 *   with `members: K`, K such towers whose softmax probabilities are averaged (an ensemble).
 *
 * Weights start like PyTorch's defaults (uniform ±1/√fan_in for kernels and biases), seeded.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Spectrogram } from '../features/types.js';
import { SerError } from '../util/errors.js';
import { MaskTime, MaskedGlobalPool, SampleDropout, type PoolMode } from './layers.js';
import { Standardize } from './standardize.js';
import { SerBatchNorm } from './batchnorm.js';

export type ArchName = 'cnn3' | 'cnn4' | 'cnn3-resized' | 'cnn4-resized' | 'ser-cnn' | 'ser-mlp';
export const ARCH_NAMES: readonly ArchName[] = ['cnn3', 'cnn4', 'cnn3-resized', 'cnn4-resized', 'ser-cnn', 'ser-mlp'];

/** Options of an architecture; every field has a default (see `resolveArchOptions`). */
export interface ArchOptions {
  /** Output classes (default 5). */
  numClasses?: number;
  /** Input rows: 128 mel bands, or more with MFCC/delta rows (default 128). */
  rows?: number;
  /** Fixed input frames of the resized models (default 256). */
  frames?: number;
  /** Conv widths (ser-cnn; default [16, 32, 64, 128]). */
  channels?: number[];
  /** Batch norm after each conv (ser-cnn; default true). */
  batchNorm?: boolean;
  /** Global pooling (ser-cnn; default 'stats'). */
  pooling?: PoolMode;
  /** Dropout before the classifier (default: 0.25 cnn3/cnn4, 0.5 resized, 0.3 ser-cnn, 0.5 ser-mlp). */
  dropout?: number;
  /** ser-mlp: hidden units (default 64). */
  hidden?: number;
  /** ser-mlp: dropout on the (standardised) input (default 0.2). */
  inputDropout?: number;
  /** ser-mlp: training-set mean and std of each input feature (length rows; default [] = 0 and 1). */
  inputMean?: number[];
  inputStd?: number[];
  /** Ask the training loop to fill inputMean / inputStd from the training data (default false). */
  standardize?: boolean;
  /**
   * ser-mlp: members of an ensemble in one model (default 1). With K > 1 the model has K towers
   * after the shared standardisation and outputs the MEAN OF THEIR SOFTMAX probabilities (not
   * logits); model/ensemble.ts assembles it from K separately trained one-member models.
   */
  members?: number;
  /**
   * Variable-length CNNs: what a pool does with a time length its factor does not divide.
   * 'pad' (default, the engine's original behaviour): the length is zero-padded up to a multiple of
   * the network's pooling factor and the padded frames count as signal at every layer. 'floor':
   * PyTorch's `MaxPool2d` / `AdaptiveAvgPool2d` at batch 1 — a pool drops an odd last frame and
   * everything after the real length is zero at every layer, so the network is PyTorch's function at
   * any length (test/train/torch-parity.test.ts). Either way a padded batch gives the same logits as
   * its samples one by one.
   */
  edges?: EdgeMode;
}

export type EdgeMode = 'pad' | 'floor';

export type ResolvedArchOptions = Required<ArchOptions>;

/** Checks an architecture name (SerError `model/unknown-arch` otherwise). */
export function checkArch(arch: string): ArchName {
  if (!(ARCH_NAMES as readonly string[]).includes(arch)) {
    throw new SerError('model/unknown-arch', `unknown architecture '${arch}' (known: ${ARCH_NAMES.join(', ')})`);
  }
  return arch as ArchName;
}

/** All options of `arch` with defaults filled in. */
export function resolveArchOptions(arch: ArchName, o: ArchOptions = {}): ResolvedArchOptions {
  const resized = arch === 'cnn3-resized' || arch === 'cnn4-resized';
  const channels = o.channels ?? (arch === 'cnn3' || arch === 'cnn3-resized' ? [16, 32, 64] : arch === 'ser-cnn' ? [16, 32, 64, 128] : [16, 32, 64, 128]);
  return {
    numClasses: o.numClasses ?? 5,
    rows: o.rows ?? 128,
    frames: o.frames ?? 256,
    channels,
    batchNorm: o.batchNorm ?? (resized || arch === 'ser-cnn'),
    pooling: o.pooling ?? (arch === 'ser-cnn' ? 'stats' : 'avg'),
    dropout: o.dropout ?? (resized || arch === 'ser-mlp' ? 0.5 : arch === 'ser-cnn' ? 0.3 : 0.25),
    hidden: o.hidden ?? 64,
    inputDropout: o.inputDropout ?? 0.2,
    inputMean: o.inputMean ?? [],
    inputStd: o.inputStd ?? [],
    standardize: o.standardize ?? false,
    members: o.members ?? 1,
    edges: o.edges ?? 'pad',
  };
}

/** Number of 2×2 max-pools on the time axis (cnn3 pools after its first two convs only). */
function poolCount(arch: ArchName, o: ResolvedArchOptions): number {
  if (arch === 'cnn3') return 2;
  if (arch === 'ser-mlp') return 0;
  return o.channels.length;
}

/** Total time downsampling of the network: padded lengths are multiples of this. */
export function poolFactor(arch: ArchName | string, options: ArchOptions = {}): number {
  const a = checkArch(arch);
  return 2 ** poolCount(a, resolveArchOptions(a, options));
}

/** The fixed input frame count of resized models, or null for variable-length ones. */
export function fixedFrames(arch: ArchName | string, options: ArchOptions = {}): number | null {
  const a = checkArch(arch);
  if (a === 'ser-mlp') return 1;
  return a === 'cnn3-resized' || a === 'cnn4-resized' ? resolveArchOptions(a, options).frames : null;
}

type Init = ReturnType<typeof tfl.initializers.zeros>;

/** PyTorch's default init: uniform ±1/√fan_in (kernel and bias), seeded. */
function torchInit(fanIn: number, seed: number): { kernel: Init; bias: Init } {
  const limit = 1 / Math.sqrt(fanIn);
  return {
    kernel: tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed }),
    bias: tfl.initializers.randomUniform({ minval: -limit, maxval: limit, seed: seed + 7919 }),
  };
}

/** Builds the tfjs-layers model of `arch` (weights seeded by `seed`). */
export function buildModel(arch: ArchName | string, options: ArchOptions = {}, seed = 42): tfl.LayersModel {
  const a = checkArch(arch);
  const o = resolveArchOptions(a, options);
  if (a === 'ser-mlp') return buildMlp(o, seed);
  const fixed = fixedFrames(a, o);
  const x = tfl.input({ shape: [o.rows, fixed, 1], name: 'x' });
  const mask = tfl.input({ shape: [fixed ?? null], name: 'mask' });
  let s = (seed >>> 0) * 101;
  const nextSeed = (): number => (s = (s + 1) >>> 0);
  let h = x as tfl.SymbolicTensor;
  let cin = 1;
  const pools = poolCount(a, o);
  const useBn = o.batchNorm;
  o.channels.forEach((cout, i) => {
    const init = torchInit(cin * 9, nextSeed());
    h = tfl.layers.conv2d({
      filters: cout, kernelSize: 3, padding: 'same', useBias: !useBn || a !== 'ser-cnn', name: `conv${i + 1}`,
      activation: useBn ? 'linear' : 'relu', kernelInitializer: init.kernel, biasInitializer: init.bias,
    }).apply(h) as tfl.SymbolicTensor;
    if (useBn) {
      h = new SerBatchNorm({ axis: 3, momentum: 0.9, epsilon: 1e-5, name: `bn${i + 1}` }).apply(h) as tfl.SymbolicTensor;
      h = tfl.layers.activation({ activation: 'relu', name: `relu${i + 1}` }).apply(h) as tfl.SymbolicTensor;
    }
    if (fixed === null) h = new MaskTime({ name: `mask${i + 1}` }).apply([h, mask]) as tfl.SymbolicTensor;
    if (i < pools) {
      h = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `pool${i + 1}` }).apply(h) as tfl.SymbolicTensor;
      // a pooled frame is valid when its whole block is ('floor'); with 'pad' masks this is a no-op
      if (fixed === null && o.edges === 'floor') h = new MaskTime({ name: `pool_mask${i + 1}` }).apply([h, mask]) as tfl.SymbolicTensor;
    }
    cin = cout;
  });
  let feat: tfl.SymbolicTensor;
  if (fixed === null) {
    feat = new MaskedGlobalPool({ mode: o.pooling, seed: nextSeed(), name: 'global_pool' }).apply([h, mask]) as tfl.SymbolicTensor;
  } else {
    feat = tfl.layers.flatten({ name: 'flatten' }).apply(h) as tfl.SymbolicTensor;
  }
  const featDim = feat.shape[1] as number;
  feat = new SampleDropout({ rate: o.dropout, seed: nextSeed(), name: 'dropout' }).apply(feat) as tfl.SymbolicTensor;
  const init = torchInit(featDim, nextSeed());
  const logits = tfl.layers.dense({ units: o.numClasses, name: 'logits', kernelInitializer: init.kernel, biasInitializer: init.bias }).apply(feat) as tfl.SymbolicTensor;
  // resized models ignore the mask (their inputs are always full); keep it as an input for one API
  return tfl.model({ inputs: [x, mask], outputs: logits, name: a });
}

/** ser-mlp: flatten → Standardize (mean/std from options) → dropout → dense(hidden) + ReLU → dropout → dense(numClasses). */
function buildMlp(o: ResolvedArchOptions, seed: number): tfl.LayersModel {
  const x = tfl.input({ shape: [o.rows, 1, 1], name: 'x' });
  const mask = tfl.input({ shape: [1], name: 'mask' });
  let s = (seed >>> 0) * 101;
  const nextSeed = (): number => (s = (s + 1) >>> 0);
  let h0 = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  const std = new Standardize({ name: 'standardize' });
  h0 = std.apply(h0) as tfl.SymbolicTensor;
  const K = o.members;
  if (!Number.isInteger(K) || K < 1) throw new SerError('model/bad-options', `ser-mlp: archOptions.members must be a positive integer, got ${K}`);
  const towers: tfl.SymbolicTensor[] = [];
  for (let k = 0; k < K; k++) {
    // one member keeps the original layer names, so one-member models load as before
    const sfx = K === 1 ? '' : `_${k}`;
    let h = new SampleDropout({ rate: o.inputDropout, seed: nextSeed(), name: `input_dropout${sfx}` }).apply(h0) as tfl.SymbolicTensor;
    const i1 = torchInit(o.rows, nextSeed());
    h = tfl.layers.dense({ units: o.hidden, activation: 'relu', name: `hidden${sfx}`, kernelInitializer: i1.kernel, biasInitializer: i1.bias }).apply(h) as tfl.SymbolicTensor;
    h = new SampleDropout({ rate: o.dropout, seed: nextSeed(), name: `dropout${sfx}` }).apply(h) as tfl.SymbolicTensor;
    const i2 = torchInit(o.hidden, nextSeed());
    const z = tfl.layers.dense({ units: o.numClasses, name: `logits${sfx}`, kernelInitializer: i2.kernel, biasInitializer: i2.bias }).apply(h) as tfl.SymbolicTensor;
    towers.push(K === 1 ? z : (tfl.layers.activation({ activation: 'softmax', name: `probabilities${sfx}` }).apply(z) as tfl.SymbolicTensor));
  }
  const logits = K === 1 ? towers[0]! : (tfl.layers.average({ name: 'ensemble_mean' }).apply(towers) as tfl.SymbolicTensor);
  const model = tfl.model({ inputs: [x, mask], outputs: logits, name: 'ser-mlp' });
  if (o.inputMean.length > 0 || o.inputStd.length > 0) {
    if (o.inputMean.length !== o.rows || o.inputStd.length !== o.rows) {
      throw new SerError('model/bad-options', `ser-mlp: archOptions.inputMean / inputStd have ${o.inputMean.length} / ${o.inputStd.length} values, expected rows = ${o.rows}`);
    }
    if (o.inputStd.some((v) => !(v > 0))) throw new SerError('model/bad-options', 'ser-mlp: archOptions.inputStd must be positive');
    const m = tf.tensor1d(o.inputMean);
    const sd = tf.tensor1d(o.inputStd);
    std.setWeights([m, sd]);
    tf.dispose([m, sd]);
  }
  return model;
}

/** Host-side batch: `x` `[b, rows, T]` row-major and `mask` `[b, T]`. */
export interface BatchArrays {
  x: Float32Array;
  mask: Float32Array;
  batch: number;
  rows: number;
  frames: number;
}

function roundUp(n: number, f: number): number {
  return Math.max(f, Math.ceil(n / f) * f);
}

/**
 * Pads (zeros) a list of spectrograms into one batch for `arch`. Variable-length models: T is the
 * longest length rounded up to `poolFactor`, and each sample's mask is 1 on its own length rounded
 * up to the pooling factor. Resized models: each spectrogram is zero-padded on the right to the
 * fixed frame count, or linearly interpolated along time when longer; the mask is all ones.
 */
export function batchArrays(specs: Spectrogram[], arch: ArchName | string, options: ArchOptions = {}): BatchArrays {
  const a = checkArch(arch);
  const o = resolveArchOptions(a, options);
  if (specs.length === 0) throw new SerError('model/bad-input', 'cannot make a batch of 0 spectrograms');
  for (const s of specs) {
    if (s.nMels !== o.rows) {
      throw new SerError('model/bad-input', `spectrogram has ${s.nMels} rows but the ${a} model expects ${o.rows} (archOptions.rows)`);
    }
    if (s.frames < 1 || s.data.length !== s.nMels * s.frames) {
      throw new SerError('model/bad-input', `spectrogram data length ${s.data.length} does not match ${s.nMels}×${s.frames}`);
    }
  }
  const fixed = fixedFrames(a, o);
  const f = poolFactor(a, o);
  const T = fixed ?? roundUp(Math.max(...specs.map((s) => s.frames)), f);
  const b = specs.length;
  const rows = o.rows;
  const x = new Float32Array(b * rows * T);
  const mask = new Float32Array(b * T);
  specs.forEach((s, i) => {
    const base = i * rows * T;
    if (fixed !== null && s.frames > T) {
      // linear interpolation along time: output frame k samples input position k·(n−1)/(T−1)
      const scale = T > 1 ? (s.frames - 1) / (T - 1) : 0;
      for (let k = 0; k < T; k++) {
        const p = k * scale;
        const j = Math.min(Math.floor(p), s.frames - 2);
        const w = p - j;
        for (let r = 0; r < rows; r++) {
          const src = r * s.frames;
          x[base + r * T + k] = s.data[src + j] * (1 - w) + s.data[src + j + 1] * w;
        }
      }
    } else {
      for (let r = 0; r < rows; r++) x.set(s.data.subarray(r * s.frames, (r + 1) * s.frames), base + r * T);
    }
    const valid = fixed !== null ? T : o.edges === 'floor' ? s.frames : Math.min(T, roundUp(s.frames, f));
    mask.fill(1, i * T, i * T + valid);
  });
  return { x, mask, batch: b, rows, frames: T };
}

/** `batchArrays` as tensors: `x` `[b, rows, T, 1]`, `mask` `[b, T]` (caller disposes). */
export function makeBatch(specs: Spectrogram[], arch: ArchName | string, options: ArchOptions = {}): { x: tf.Tensor4D; mask: tf.Tensor2D } {
  const a = batchArrays(specs, arch, options);
  return { x: tf.tensor4d(a.x, [a.batch, a.rows, a.frames, 1]), mask: tf.tensor2d(a.mask, [a.batch, a.frames]) };
}
