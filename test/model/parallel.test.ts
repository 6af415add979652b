import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { createTrainer } from '../../src/train/trainer.js';
import { defaultThreads, resolveWorkerFile } from '../../src/train/pool.js';
import { spec } from './helpers.js';

const BUILT = existsSync(fileURLToPath(new URL('../../dist/train/worker.js', import.meta.url)));
if (!BUILT) console.warn('\n[parallel tests skipped] dist/train/worker.js is missing: run `npm run build` (npm test does)\n');

describe.skipIf(!BUILT)('worker-parallel trainer', () => {
  it('finds the compiled worker', () => {
    expect(resolveWorkerFile()).toMatch(/dist[\\/]train[\\/]worker\.js$/);
  });

  it('defaults to one replica per core (at most 4)', async () => {
    expect(defaultThreads()).toBe(Math.max(1, Math.min(4, availableParallelism())));
    const t = await createTrainer({ arch: 'cnn3', archOptions: { rows: 8, channels: [2, 2, 2] }, lr: 1e-3, seed: 1 });
    try {
      expect(t.threads).toBe(defaultThreads()); // workers start lazily: nothing spawned here
    } finally {
      t.dispose();
    }
  });

  // without batch norm the sharded step equals the single-thread step; with batch norm each shard
  // normalises with its own statistics (ghost batch norm), so only run-to-run equality holds
  it.each([false, true])('2 threads (batchNorm %s) repeat exactly and match one thread without BN', async (batchNorm) => {
    const opts = { arch: 'ser-cnn' as const, archOptions: { rows: 16, channels: [4, 8], pooling: 'stats' as const, batchNorm }, lr: 1e-3, seed: 3 };
    const specs = [spec(16, 20, 1), spec(16, 31, 2), spec(16, 12, 3), spec(16, 25, 4), spec(16, 9, 5)];
    const targets = new Float32Array(25);
    specs.forEach((_, i) => (targets[i * 5 + (i % 5)] = 1));
    const local = await createTrainer({ ...opts, threads: 1 });
    const p1 = await createTrainer({ ...opts, threads: 2 });
    const p2 = await createTrainer({ ...opts, threads: 2 });
    try {
      expect(p1.threads).toBe(2);
      for (let step = 0; step < 3; step++) {
        const a = await local.trainBatch(specs, targets);
        const b = await p1.trainBatch(specs, targets);
        const c = await p2.trainBatch(specs, targets);
        if (!batchNorm) expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5);
        expect(c).toBe(b);
      }
      // a batch of one runs on the calling thread
      await p1.trainBatch([specs[0]], targets.slice(0, 5));
      await p2.trainBatch([specs[0]], targets.slice(0, 5));
      const [sl, s1, s2] = [await local.getState(), await p1.getState(), await p2.getState()];
      s1.weights.forEach((w, i) => {
        expect(Array.from(w)).toEqual(Array.from(s2.weights[i]));
        let d = 0;
        for (let k = 0; k < w.length; k++) d = Math.max(d, Math.abs(w[k] - sl.weights[i][k]));
        if (!batchNorm) expect(d).toBeLessThanOrEqual(4e-3); // Adam can move a near-zero gradient by ~lr either way
      });
    } finally {
      local.dispose(); p1.dispose(); p2.dispose();
    }
  });
});
