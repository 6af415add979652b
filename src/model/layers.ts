/**
 * Custom tfjs-layers layers for variable-length, masked batches. Registered with
 * `tf.serialization.registerClass` on import, so a saved model loads anywhere this module is
 * imported (Node and the browser bundle).
 *
 * The mask input is `[b, T]` (1 on real frames, 0 on padding, T a multiple of the network's total
 * pooling factor); each layer downsamples it to the time length of its feature map.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '../util/rng.js';
import { MASK_TIME } from './kernels/MaskTime.js';

type Kwargs = Record<string, unknown>;

/** The mask `[b, T]` downsampled to `frames` time steps, as `[b, frames]` (keeps each block's first value). */
export function downsampleMask(mask: tf.Tensor, frames: number): tf.Tensor2D {
  const [b, t] = mask.shape as [number, number];
  if (t === frames) return mask as tf.Tensor2D;
  const f = Math.round(t / frames);
  if (f * frames !== t) throw new Error(`mask of ${t} frames cannot be downsampled to ${frames} frames`);
  // a pooled frame is valid when the LAST frame of its block is (PyTorch's floor for 'floor' edges; the same as the first for block-aligned 'pad' masks)
  return tf.reshape(tf.slice(tf.reshape(mask, [b, frames, f]), [0, 0, f - 1], [b, frames, 1]), [b, frames]);
}

function inputsList(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(inputs) ? inputs : [inputs];
}

/**
 * `h` [b, rows, T', C] zeroed on the frames where `mask` [b, T] (T a multiple of T') is 0. Runs our
 * SerMaskTime kernel (wasm, cpu); other backends multiply by the downsampled mask.
 */
export function maskTime(h: tf.Tensor4D, mask: tf.Tensor): tf.Tensor4D {
  if (tf.getKernel(MASK_TIME, tf.getBackend())) return tf.engine().runKernel(MASK_TIME, { x: h, mask }, {}) as tf.Tensor4D;
  const [b, , t] = h.shape;
  return tf.mul(h, tf.reshape(downsampleMask(mask, t), [b, 1, t, 1]));
}

/** Zeroes a feature map `[b, rows, T', C]` outside the (downsampled) mask. Inputs: [features, mask]. */
export class MaskTime extends tfl.layers.Layer {
  static className = 'SerMaskTime';
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (inputShape as tfl.Shape[])[0];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [h, mask] = inputsList(inputs) as [tf.Tensor4D, tf.Tensor];
      return maskTime(h, mask);
    });
  }
}

export type PoolMode = 'avg' | 'stats' | 'attention';

/**
 * Mask-aware global pooling of `[b, rows, T', C]` → `[b, C]` ('avg': mean over rows and valid
 * frames; 'attention': softmax-weighted mean over valid frames of the row-mean) or `[b, 2C]`
 * ('stats': mean and standard deviation over valid frames of the row-mean). Inputs: [features, mask].
 */
export class MaskedGlobalPool extends tfl.layers.Layer {
  static className = 'SerMaskedGlobalPool';
  readonly mode: PoolMode;
  private attW: tfl.LayerVariable | null = null;
  private attB: tfl.LayerVariable | null = null;
  private readonly seed: number;

  constructor(args: { mode?: PoolMode; seed?: number; name?: string } = {}) {
    super(args as never);
    this.mode = args.mode ?? 'avg';
    this.seed = args.seed ?? 1;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const c = (inputShape as tfl.Shape[])[0][3] as number;
    if (this.mode === 'attention') {
      this.attW = this.addWeight('att_kernel', [c, 1], 'float32', tfl.initializers.glorotUniform({ seed: this.seed }));
      this.attB = this.addWeight('att_bias', [1], 'float32', tfl.initializers.zeros());
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (inputShape as tfl.Shape[])[0];
    const c = s[3] as number;
    return [s[0], this.mode === 'stats' ? 2 * c : c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [h, mask] = inputsList(inputs) as [tf.Tensor4D, tf.Tensor];
      const [b, rows, t, c] = h.shape;
      const m = downsampleMask(mask, t); // [b, t]
      const n = tf.maximum(tf.sum(m, 1, true), 1); // [b, 1] valid frames
      if (this.mode === 'avg') {
        const s = tf.sum(maskTime(h, mask), [1, 2]); // [b, c]
        return tf.div(s, tf.mul(n, rows));
      }
      const hr = tf.mean(h, 1); // [b, t, c]
      const m3 = tf.reshape(m, [b, t, 1]);
      if (this.mode === 'stats') {
        const mu = tf.div(tf.sum(tf.mul(hr, m3), 1), n); // [b, c]
        const d = tf.sub(hr, tf.reshape(mu, [b, 1, c]));
        const v = tf.div(tf.sum(tf.mul(tf.mul(d, d), m3), 1), n);
        return tf.concat([mu, tf.sqrt(tf.add(v, 1e-5))], 1);
      }
      const score = tf.reshape(tf.add(tf.matMul(tf.reshape(hr, [b * t, c]), this.attW!.read()), this.attB!.read()), [b, t]);
      const masked = tf.add(score, tf.mul(tf.sub(m, 1), 1e9));
      const alpha = tf.softmax(masked, 1); // [b, t]
      return tf.sum(tf.mul(hr, tf.reshape(alpha, [b, t, 1])), 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode, seed: this.seed };
  }
}

/**
 * Inverted dropout with a reproducible mask per sample: the trainer sets `sampleSeeds` (one per
 * sample of the batch) before each training call, so the mask of a sample depends only on
 * (seed, step, sample index) — not on how a batch is split across workers. Without seeds an internal
 * counter seeded from the config is used. Identity at inference.
 */
export class SampleDropout extends tfl.layers.Layer {
  static className = 'SerSampleDropout';
  readonly rate: number;
  readonly seed: number;
  /** Per-sample seeds for the next training call (set by the trainer). */
  sampleSeeds: Uint32Array | null = null;
  private counter = 0;

  constructor(args: { rate: number; seed?: number; name?: string }) {
    super(args as never);
    this.rate = args.rate;
    this.seed = args.seed ?? 1;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = inputsList(inputs)[0];
    if (!kwargs['training'] || this.rate <= 0) return tf.clone(x);
    const b = x.shape[0] as number;
    const units = x.size / b;
    const keep = 1 - this.rate;
    const scale = 1 / keep;
    const values = new Float32Array(x.size);
    for (let i = 0; i < b; i++) {
      // with trainer-given seeds the mask depends only on (trainer seed, step, sample)
      const s = this.sampleSeeds && i < this.sampleSeeds.length
        ? this.sampleSeeds[i]
        : (Math.imul(this.seed, 0x9e3779b1) ^ Math.imul(++this.counter, 0x85ebca6b)) >>> 0;
      const rng = createRng(s);
      for (let u = 0; u < units; u++) values[i * units + u] = rng.next() < keep ? scale : 0;
    }
    return tf.tidy(() => tf.mul(x, tf.tensor(values, x.shape)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

tf.serialization.registerClass(MaskTime);
tf.serialization.registerClass(MaskedGlobalPool);
tf.serialization.registerClass(SampleDropout);
