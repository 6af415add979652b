/** Training-set statistics the `ser-mlp` model stores for input standardisation (tfjs-free, so the loop stays model-agnostic). */

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
