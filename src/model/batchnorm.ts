/**
 * `SerBatchNorm`: tfjs-layers' BatchNormalization for channels-last input (normalises over every axis
 * but the last), with its training pass on our own fused kernels (`kernels/BatchNormTrain.ts`): one
 * kernel for y and the batch statistics, one for all gradients. Same weights (gamma, beta,
 * moving_mean, moving_variance, in that order), config fields and semantics as tfjs's layer:
 * training normalises with the batch mean and biased batch variance and moves the moving statistics
 * towards them (tfjs-layers uses the biased variance for moving_variance too); inference uses the
 * moving statistics. Registered with `tf.serialization.registerClass` on import.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BN_TRAIN } from './kernels/batchnorm-math.js';

type Kwargs = Record<string, unknown>;

export interface SerBatchNormArgs {
  /** Must be the last axis (-1 or rank − 1). Default -1. */
  axis?: number;
  /** Default 0.99, as tfjs. */
  momentum?: number;
  /** Default 1e-3, as tfjs. */
  epsilon?: number;
  name?: string;
  trainable?: boolean;
}

/**
 * y, batch mean and biased batch variance of x [..., C] over all axes but the last: our fused kernel
 * where the backend has one (wasm, cpu), otherwise tfjs's ops (moments + batchNorm, as tfjs-layers).
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] {
  if (tf.getKernel(BN_TRAIN, tf.getBackend())) {
    return tf.engine().runKernel(BN_TRAIN, { x, gamma, beta }, { epsilon } as never) as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
  }
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    return [tf.batchNorm(x, mean, variance, beta, gamma, epsilon), mean as tf.Tensor1D, variance as tf.Tensor1D];
  });
}

export class SerBatchNorm extends tfl.layers.Layer {
  static className = 'SerBatchNorm';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;
  private movingMean: tfl.LayerVariable | null = null;
  private movingVariance: tfl.LayerVariable | null = null;

  constructor(args: SerBatchNormArgs = {}) {
    super(args as never);
    this.supportsMasking = true;
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const last = shape.length - 1;
    if (this.axis !== -1 && this.axis !== last) {
      throw new Error(`SerBatchNorm normalises the last axis only (${last} for rank ${shape.length}), got axis ${this.axis}`);
    }
    const c = shape[last];
    if (c == null) throw new Error(`SerBatchNorm: the channel axis of input [${shape}] must have a defined size`);
    this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones(), undefined, true);
    this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros(), undefined, true);
    this.movingMean = this.addWeight('moving_mean', [c], 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const gamma = this.gamma!.read() as tf.Tensor1D;
      const beta = this.beta!.read() as tf.Tensor1D;
      if (!kwargs['training']) {
        return tf.batchNorm(x, this.movingMean!.read(), this.movingVariance!.read(), beta, gamma, this.epsilon);
      }
      const [y, mean, variance] = batchNormTrain(x, gamma, beta, this.epsilon);
      // the same arithmetic as tfjs-layers: v ← v − (v − batch)·(1 − momentum)
      const decay = 1 - this.momentum;
      const update = (v: tfl.LayerVariable, batch: tf.Tensor): void => {
        tf.tidy(() => {
          const old = v.read();
          v.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay)));
        });
      };
      update(this.movingMean!, mean);
      update(this.movingVariance!, variance);
      return y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, momentum: this.momentum, epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(SerBatchNorm);
