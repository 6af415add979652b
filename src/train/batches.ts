/** Length-bucketed batching: similar lengths together (little padding), order shuffled by a seeded rng. */
import type { Rng } from '../util/rng.js';

/**
 * Splits item indices into batches of at most `batchSize`: sorts by length (ties by a
 * random key so equal lengths mix), cuts consecutive groups, then shuffles the order of the
 * groups. With batch size 1 this is a plain shuffle. Deterministic for a given rng state.
 */
export function lengthBucketedBatches(lengths: readonly number[], batchSize: number, rng: Rng): number[][] {
  const keys = lengths.map(() => rng.next());
  const order = lengths.map((_, i) => i).sort((a, b) => (lengths[a] as number) - (lengths[b] as number) || (keys[a] as number) - (keys[b] as number));
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return rng.shuffle(batches);
}
