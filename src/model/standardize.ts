/**
 * Input standardisation stored in the model: y = (x − mean) / std per feature, with `mean` and
 * `std` non-trainable weights (saved with the model, so prediction applies exactly what training
 * used). Registered for deserialisation on import.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Kwargs = Record<string, unknown>;

/** Per-feature (last axis) z-score with fixed, non-trainable mean and std weights (default 0 and 1). */
export class Standardize extends tfl.layers.Layer {
  static className = 'SerStandardize';
  private mean: tfl.LayerVariable | null = null;
  private std: tfl.LayerVariable | null = null;

  constructor(args: { name?: string } = {}) {
    super(args as never);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const d = shape[shape.length - 1] as number;
    this.mean = this.addWeight('mean', [d], 'float32', tfl.initializers.zeros(), undefined, false);
    this.std = this.addWeight('std', [d], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    return tf.tidy(() => tf.div(tf.sub(x, this.mean!.read()), this.std!.read()));
  }
}

tf.serialization.registerClass(Standardize);

