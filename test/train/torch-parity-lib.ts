/**
 * Our cnn3 against PyTorch's, weight for weight (issue #12): shared by test/train/torch-parity.test.ts
 * and scripts/torch-parity.ts. Our side runs the code path training uses (`GradientEngine.compute` on
 * `batchArrays` of one sample, as `createTrainer` does at batch 1; `createTrainer` itself for Adam
 * steps); the PyTorch side is scripts/torch_parity.py (the CNN3 of ../shared/reference/torch_seed_curve.py).
 *
 * Layouts: our input is NHWC [1, 128 mels, T, 1], PyTorch's NCHW [1, 1, 128, T] (same H = mels,
 * W = time); conv kernels tfjs [kh, kw, cin, cout] ↔ torch [cout, cin, kh, kw]; dense [in, out] ↔ [out, in].
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Spectrogram } from '../../src/features/types.js';
import { batchArrays, poolFactor, type EdgeMode } from '../../src/model/architectures.js';
import { GradientEngine } from '../../src/train/engine.js';
import { createTrainer } from '../../src/train/trainer.js';
import { softTargets } from '../../src/train/input.js';

export const TORCH_SCRIPT = resolve(import.meta.dirname, '../../scripts/torch_parity.py');
/** PyTorch's parameter names, in the order of our `model.weights` (conv1/kernel, conv1/bias, …, logits/bias). */
export const TORCH_NAMES = ['c1.weight', 'c1.bias', 'c2.weight', 'c2.bias', 'c3.weight', 'c3.bias', 'fc.weight', 'fc.bias'] as const;
export type TorchName = (typeof TORCH_NAMES)[number];
export type TorchWeights = Record<TorchName, number[]>;

/** A Python that imports torch (Debian's /usr/bin/python3 first), or undefined. */
export function findTorchPython(): string | undefined {
  for (const p of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(p, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0) return p;
  }
  return undefined;
}

/** One of our weights (shape `shape`) in PyTorch layout, flat. */
export function toTorchLayout(a: Float32Array, shape: readonly number[]): number[] {
  if (shape.length === 4) {
    const [kh, kw, ci, co] = shape as [number, number, number, number];
    const out = new Array<number>(a.length);
    for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
      out[((o * ci + i) * kh + h) * kw + w] = a[((h * kw + w) * ci + i) * co + o]!;
    }
    return out;
  }
  if (shape.length === 2) {
    const [n, m] = shape as [number, number];
    const out = new Array<number>(a.length);
    for (let i = 0; i < n; i++) for (let o = 0; o < m; o++) out[o * n + i] = a[i * m + o]!;
    return out;
  }
  return Array.from(a);
}

/** The inverse of `toTorchLayout`. */
export function fromTorchLayout(t: readonly number[], shape: readonly number[]): Float32Array {
  const out = new Float32Array(t.length);
  if (shape.length === 4) {
    const [kh, kw, ci, co] = shape as [number, number, number, number];
    for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
      out[((h * kw + w) * ci + i) * co + o] = t[((o * ci + i) * kh + h) * kw + w]!;
    }
  } else if (shape.length === 2) {
    const [n, m] = shape as [number, number];
    for (let i = 0; i < n; i++) for (let o = 0; o < m; o++) out[i * m + o] = t[o * n + i]!;
  } else out.set(t);
  return out;
}

/** All weights of `engine` in PyTorch layout, by PyTorch name. */
export function engineWeightsTorch(engine: GradientEngine, values: Float32Array[] = engine.readWeights()): TorchWeights {
  const shapes = engine.model.weights.map((w) => w.shape as number[]);
  return Object.fromEntries(TORCH_NAMES.map((n, i) => [n, toTorchLayout(values[i]!, shapes[i]!)])) as TorchWeights;
}

/** One sample's logits, loss and gradients (PyTorch layout, by PyTorch name). */
export interface SampleResult {
  logits: number[];
  loss: number;
  grads: TorchWeights;
}

export interface TorchResult {
  torch: string;
  dtype: string;
  samples?: SampleResult[];
  adam?: { losses: number[]; weights: TorchWeights };
}

/**
 * Runs scripts/torch_parity.py on `specs` (used as given: standardise first) with `weights`.
 * `dir` receives the features file, the spec and the result.
 */
export function runTorch(python: string, dir: string, o: {
  weights: TorchWeights; specs: Spectrogram[]; labels: number[]; numClasses: number;
  dtype?: 'float32' | 'float64'; grad?: boolean; adam?: { order: number[]; lr: number }; tag?: string;
  /** Per sample: dropout multipliers after the global pooling (default: dropout off). */
  dropMasks?: number[][];
}): TorchResult {
  const tag = o.tag ?? 'run';
  const features = join(dir, `${tag}.f32`);
  const total = o.specs.reduce((a, s) => a + s.data.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  const samples = o.specs.map((s, i) => {
    all.set(s.data, at);
    const e = { nMels: s.nMels, frames: s.frames, offset: at, label: o.labels[i], ...(o.dropMasks?.[i] ? { dropMask: o.dropMasks[i] } : {}) };
    at += s.data.length;
    return e;
  });
  writeFileSync(features, new Uint8Array(all.buffer));
  const specFile = join(dir, `${tag}.spec.json`);
  const outFile = join(dir, `${tag}.out.json`);
  writeFileSync(specFile, JSON.stringify({
    numClasses: o.numClasses, dtype: o.dtype ?? 'float32', weights: o.weights, features, samples,
    grad: o.grad ?? true, ...(o.adam ? { adam: o.adam } : {}), threads: 1,
  }));
  const r = spawnSync(python, [TORCH_SCRIPT, specFile, outFile], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(outFile)) throw new Error(`torch_parity.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(readFileSync(outFile, 'utf8')) as TorchResult;
}

/**
 * Our logits, loss and gradients per sample, each sample alone (batch 1) through the training path:
 * `batchArrays([spec])` (pads T up to the pool factor; mask 1 on the padded length with 'pad' edges, on the real
 * length with 'floor') and
 * `GradientEngine.compute` (training mode; build the engine with dropout 0).
 */
export function ourSamples(engine: GradientEngine, specs: Spectrogram[], labels: number[], numClasses: number, edges: EdgeMode = 'pad'): SampleResult[] {
  return specs.map((s, i) => {
    const batch = batchArrays([s], engine.arch, { numClasses, dropout: 0, edges });
    const targets = softTargets([labels[i]!], numClasses);
    const r = engine.compute({ batch, targets, sampleSeeds: Uint32Array.of(1), total: 1 });
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [1, batch.rows, batch.frames, 1]);
      const mask = tf.tensor2d(batch.mask, [1, batch.frames]);
      return Array.from((engine.model.apply([x, mask], { training: true }) as tf.Tensor).dataSync());
    });
    return { logits, loss: r.lossSum, grads: engineWeightsTorch(engine, r.grads) };
  });
}

/** Differences of two arrays: max |a − b|, that over max |b|, and ‖a − b‖ / ‖b‖. */
export interface Diff { maxAbs: number; maxRel: number; l2Rel: number; scale: number }

export function diff(a: readonly number[], b: readonly number[]): Diff {
  let maxAbs = 0, scale = 0, d2 = 0, b2 = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    maxAbs = Math.max(maxAbs, d);
    scale = Math.max(scale, Math.abs(b[i]!));
    d2 += d * d;
    b2 += b[i]! * b[i]!;
  }
  return { maxAbs, maxRel: scale > 0 ? maxAbs / scale : maxAbs, l2Rel: b2 > 0 ? Math.sqrt(d2 / b2) : Math.sqrt(d2), scale };
}

/** Per quantity (logits, loss, each parameter's gradient): the diff of `a` against reference `b`. */
export function compareSample(a: SampleResult, b: SampleResult): Record<string, Diff> {
  const out: Record<string, Diff> = { logits: diff(a.logits, b.logits), loss: diff([a.loss], [b.loss]) };
  for (const n of TORCH_NAMES) out[`grad ${n}`] = diff(a.grads[n], b.grads[n]);
  return out;
}

/** The worst of each field over several comparisons of the same quantities. */
export function worst(rs: Array<Record<string, Diff>>): Record<string, Diff> {
  const out: Record<string, Diff> = {};
  for (const r of rs) for (const [k, d] of Object.entries(r)) {
    const o = out[k];
    out[k] = o ? { maxAbs: Math.max(o.maxAbs, d.maxAbs), maxRel: Math.max(o.maxRel, d.maxRel), l2Rel: Math.max(o.l2Rel, d.l2Rel), scale: Math.max(o.scale, d.scale) } : d;
  }
  return out;
}

/** The length our batching gives a sample of `frames` frames at batch 1. */
export function paddedLength(frames: number): number {
  const f = poolFactor('cnn3');
  return Math.max(f, Math.ceil(frames / f) * f);
}

/**
 * K Adam steps (lr, batch 1, dropout off) with `createTrainer` (threads 1) from the given weights
 * (our layout, all `model.weights`), one sample per step in `order`. Returns losses and final weights.
 */
export async function ourAdam(o: {
  backend: 'wasm' | 'cpu'; weights: Float32Array[]; specs: Spectrogram[]; labels: number[]; numClasses: number; order: number[]; lr: number;
}): Promise<{ losses: number[]; weights: Float32Array[]; shapes: number[][] }> {
  const trainer = await createTrainer({ arch: 'cnn3', archOptions: { numClasses: o.numClasses, dropout: 0 }, lr: o.lr, seed: 1, threads: 1, backend: o.backend });
  try {
    const st = await trainer.getState();
    await trainer.setState({ ...st, weights: o.weights.map((w) => new Float32Array(w)) });
    const losses: number[] = [];
    for (const k of o.order) losses.push(await trainer.trainBatch([o.specs[k]!], softTargets([o.labels[k]!], o.numClasses)));
    const end = await trainer.getState();
    return { losses, weights: end.weights, shapes: trainer.toLayersModel().weights.map((w) => w.shape as number[]) };
  } finally {
    trainer.dispose();
  }
}
