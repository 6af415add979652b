/**
 * Input standardisation stored in the model: y = (x − mean) / std per feature, with `mean` and
 * `std` non-trainable weights (saved with the model, so prediction applies exactly what training
 * used), and `featureStandardization`, the training-set statistics the training loop puts in them.
 * Registered for deserialisation on import. (Per-utterance normalisation is another meaning:
 * features/normalize.ts.)
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

/**
 * Per-feature mean and std (population, + 1e-8 like the prototype) of vectors stored as
 * spectrograms with frames = 1 (index i = value i of `data`); the archOptions `inputMean` / `inputStd`.
 */
export function featureStandardization(vectors: ReadonlyArray<{ data: Float32Array }>): { inputMean: number[]; inputStd: number[] } {
  const n = vectors.length;
  const d = vectors[0]?.data.length ?? 0;
  const sum = new Float64Array(d);
  for (const v of vectors) for (let i = 0; i < d; i++) sum[i] += v.data[i] as number;
  const mean = Array.from(sum, (s) => s / Math.max(1, n));
  const sq = new Float64Array(d);
  for (const v of vectors) for (let i = 0; i < d; i++) sq[i] += ((v.data[i] as number) - (mean[i] as number)) ** 2;
  const std = Array.from(sq, (s) => Math.sqrt(s / Math.max(1, n)) + 1e-8);
  return { inputMean: mean, inputStd: std };
}
