/**
 * Batch-1 training with 2 threads (offload.ts): the filter gradients go to the worker, and the weights
 * after several steps are bit-identical to training on one thread. Workers run from dist/ (npm test
 * builds first).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTrainer } from '../../src/train/trainer.js';
import { OffloadChooser, offloadedJobs, setBatch1OffloadMode } from '../../src/train/offload.js';
import { spec } from '../model/helpers.js';

const BUILT = existsSync(fileURLToPath(new URL('../../dist/train/worker.js', import.meta.url)));
if (!BUILT) console.warn('\n[offload tests skipped] dist/train/worker.js is missing: run `npm run build` (npm test does)\n');

describe('OffloadChooser', () => {
  it('warms the worker up, probes both ways, keeps the faster for a while, then probes again', () => {
    const c = new OffloadChooser();
    for (let i = 0; i < OffloadChooser.WARMUP_STEPS; i++) {
      expect(c.next()).toBe(true);
      c.record(true, 1000);
    }
    const seen: boolean[] = [];
    for (let i = 0; i < OffloadChooser.PROBE_STEPS; i++) {
      const on = c.next();
      seen.push(on);
      c.record(on, on ? 20 : 10);
    }
    expect(seen.filter((v) => v).length).toBe(OffloadChooser.PROBE_STEPS / 2);
    for (let i = 0; i < OffloadChooser.EXPLOIT_STEPS; i++) {
      expect(c.next()).toBe(false);
      c.record(false, 10);
    }
    // probing again; now offloading is faster
    for (let i = 0; i < OffloadChooser.PROBE_STEPS; i++) {
      const on = c.next();
      c.record(on, on ? 5 : 10);
    }
    expect(c.next()).toBe(true);
  });

  it("'always' and 'never' override it", () => {
    const c = new OffloadChooser();
    try {
      setBatch1OffloadMode('never');
      expect(c.next()).toBe(false);
      setBatch1OffloadMode('always');
      expect(c.next()).toBe(true);
    } finally {
      setBatch1OffloadMode('auto');
    }
  });
});

describe.skipIf(!BUILT)('batch-1 training with the filter gradients on a worker', () => {
  beforeAll(() => setBatch1OffloadMode('always'));
  afterAll(() => setBatch1OffloadMode('auto'));

  it.each(['cnn3', 'ser-cnn'] as const)('%s: 2 threads give the same losses as 1, bit for bit, over 6 steps of batch 1; close after a sharded batch of 2', async (arch) => {
    const archOptions = arch === 'cnn3' ? { rows: 32, channels: [8, 16, 32] } : { rows: 16, channels: [8, 16], pooling: 'stats' as const };
    const opts = { arch, archOptions, lr: 1e-3, seed: 5 };
    const rows = archOptions.rows;
    const specs = [spec(rows, 40, 1), spec(rows, 27, 2), spec(rows, 33, 3), spec(rows, 16, 4), spec(rows, 40, 5), spec(rows, 21, 6)];
    const one = await createTrainer({ ...opts, threads: 1 });
    const two = await createTrainer({ ...opts, threads: 2 });
    try {
      const before = offloadedJobs();
      for (let i = 0; i < specs.length; i++) {
        const t = new Float32Array(5);
        t[i % 5] = 1;
        const a = await one.trainBatch([specs[i]!], t);
        const b = await two.trainBatch([specs[i]!], t);
        expect(b).toBe(a);
      }
      // every conv layer's filter gradient went to the worker (one buffer grown after the first step)
      expect(offloadedJobs() - before).toBeGreaterThanOrEqual(archOptions.channels.length * (specs.length - 1));
      // a batch of 2 is sharded as before, and batch 1 works again after it
      const t2 = new Float32Array(10);
      t2[0] = 1;
      t2[6] = 1;
      await one.trainBatch(specs.slice(0, 2), t2);
      await two.trainBatch(specs.slice(0, 2), t2);
      const t1 = new Float32Array(5);
      t1[2] = 1;
      // the batch of 2 sums two shards (ser-cnn: batch norm per shard), so from here on only close
      expect(await two.trainBatch([specs[2]!], t1)).toBeCloseTo(await one.trainBatch([specs[2]!], t1), 2);
      const [s1, s2] = [await one.getState(), await two.getState()];
      s1.weights.forEach((w, i) => {
        let d = 0;
        for (let k = 0; k < w.length; k++) d = Math.max(d, Math.abs(w[k]! - s2.weights[i]![k]!));
        expect(d).toBeLessThanOrEqual(arch === 'cnn3' ? 4e-3 : 0.05);
      });
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it('6 steps of batch 1: identical weights and Adam moments', async () => {
    const opts = { arch: 'cnn3' as const, archOptions: { rows: 32, channels: [8, 16, 32] }, lr: 1e-3, seed: 9 };
    const specs = [spec(32, 40, 11), spec(32, 24, 12), spec(32, 36, 13), spec(32, 40, 14), spec(32, 20, 15), spec(32, 28, 16)];
    const one = await createTrainer({ ...opts, threads: 1 });
    const two = await createTrainer({ ...opts, threads: 2 });
    try {
      for (let i = 0; i < specs.length; i++) {
        const t = new Float32Array(5);
        t[(i * 3) % 5] = 1;
        await one.trainBatch([specs[i]!], t);
        await two.trainBatch([specs[i]!], t);
      }
      const [s1, s2] = [await one.getState(), await two.getState()];
      s1.weights.forEach((w, i) => expect(Array.from(s2.weights[i]!)).toEqual(Array.from(w)));
      s1.m.forEach((m, i) => expect(Array.from(s2.m[i]!)).toEqual(Array.from(m)));
      s1.v.forEach((v, i) => expect(Array.from(s2.v[i]!)).toEqual(Array.from(v)));
    } finally {
      one.dispose();
      two.dispose();
    }
  });
});
