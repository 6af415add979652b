/**
 * Row sums computed on the side by one kernel for another: SerReluGrad (ReluGrad.ts) sums its output dx
 * over the pixels while writing it (one pass instead of two), and the Sum kernel (Sum.ts) of the bias
 * gradient right after it — Σ over all leading axes of that same dx — takes the sums from here instead of
 * reading dx again. Keyed by the tensor's dataId (a fresh object per tfjs allocation, and tensor data is
 * never written after its kernel returns), so an entry can only describe the data it was computed from and
 * goes away with it. The sums are those simdSumRows would compute, bit for bit (relu_grad.wat).
 */

/** dataId → Σ_i x[i, :] of x viewed as [size / m, m]. */
const sums = new WeakMap<object, { m: number; values: Float32Array }>();

/** Records the sums over the rows of the [n, m] view of the tensor with this dataId. */
export function putRowSums(dataId: object, m: number, values: Float32Array): void {
  sums.set(dataId, { m, values });
}

/** The sums recorded for this dataId with rows of length m, or undefined. */
export function takeRowSums(dataId: object, m: number): Float32Array | undefined {
  const e = sums.get(dataId);
  return e && e.m === m ? e.values : undefined;
}
