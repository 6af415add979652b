/**
 * Batch-1 training with 2 threads (offload.ts): the filter gradients go to the worker, and the weights
 * after several steps are bit-identical to training on one thread. Workers run from dist/ (npm test
 * builds first).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTrainer } from '../../src/train/trainer.js';
import { FilterGradOffloader, OffloadChooser, offloadedJobs, setBatch1OffloadMode } from '../../src/train/offload.js';
import { GradientEngine, type FilterGradRequest } from '../../src/train/engine.js';
import { batchArrays, initBackend } from '../../src/model/index.js';
import { spec } from '../model/helpers.js';

const BUILT = existsSync(fileURLToPath(new URL('../../dist/train/worker.js', import.meta.url)));
if (!BUILT) console.warn('\n[offload tests skipped] dist/train/worker.js is missing: run `npm run build` (npm test does)\n');

describe('OffloadChooser', () => {
  it('warms the worker up, probes all / all but the last / none, keeps the fastest for a while, then probes again', () => {
    const c = new OffloadChooser();
    for (let i = 0; i < OffloadChooser.WARMUP_STEPS; i++) {
      expect(c.next()).toBe(Infinity);
      c.record(Infinity, 1000, 3);
    }
    const seen: number[] = [];
    const cost = (plan: number): number => (plan === 2 ? 8 : plan === 0 ? 10 : 12);
    for (let i = 0; i < OffloadChooser.PROBE_STEPS; i++) {
      const plan = c.next();
      seen.push(plan);
      c.record(plan, cost(plan), plan > 0 ? 3 : 0);
    }
    // three plans for a step of 3 filter gradients, each probed as often
    expect([...new Set(seen)].sort()).toEqual([0, 2, Infinity]);
    for (const p of [0, 2, Infinity]) expect(seen.filter((v) => v === p).length).toBe(OffloadChooser.PROBE_STEPS / 3);
    for (let i = 0; i < OffloadChooser.EXPLOIT_STEPS; i++) {
      expect(c.next()).toBe(2);
      c.record(2, 8, 3);
    }
    // probing again; now nothing offloaded is fastest
    for (let i = 0; i < OffloadChooser.PROBE_STEPS; i++) {
      const plan = c.next();
      c.record(plan, plan === 0 ? 5 : 10, plan > 0 ? 3 : 0);
    }
    expect(c.next()).toBe(0);
  });

  it('a step with one filter gradient: all or none', () => {
    const c = new OffloadChooser();
    for (let i = 0; i < OffloadChooser.WARMUP_STEPS; i++) c.record(c.next(), 1000, 1);
    const seen = new Set<number>();
    for (let i = 0; i < OffloadChooser.PROBE_STEPS; i++) {
      const plan = c.next();
      seen.add(plan);
      c.record(plan, plan === 0 ? 10 : 5, plan > 0 ? 1 : 0);
    }
    expect([...seen].sort()).toEqual([0, Infinity]);
    expect(c.next()).toBe(Infinity);
  });

  it("'always' and 'never' override it", () => {
    const c = new OffloadChooser();
    try {
      setBatch1OffloadMode('never');
      expect(c.next()).toBe(0);
      setBatch1OffloadMode('always');
      expect(c.next()).toBe(Infinity);
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

  it.each([Infinity, 2, 1])('6 steps of batch 1, at most %s of the 3 filter gradients offloaded: identical weights and Adam moments', async (limit) => {
    const opts = { arch: 'cnn3' as const, archOptions: { rows: 32, channels: [8, 16, 32] }, lr: 1e-3, seed: 9 };
    const specs = [spec(32, 40, 11), spec(32, 24, 12), spec(32, 36, 13), spec(32, 40, 14), spec(32, 20, 15), spec(32, 28, 16)];
    setBatch1OffloadMode(limit);
    const one = await createTrainer({ ...opts, threads: 1 });
    const two = await createTrainer({ ...opts, threads: 2 });
    const before = offloadedJobs();
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
      // the first step's jobs grow the buffer, so some may run here; from then on each step offloads `limit`
      expect(offloadedJobs() - before).toBeGreaterThanOrEqual(Math.min(limit, 3) * (specs.length - 1));
      expect(offloadedJobs() - before).toBeLessThanOrEqual(Math.min(limit, 3) * specs.length);
    } finally {
      setBatch1OffloadMode('always');
      one.dispose();
      two.dispose();
    }
  });

  it('filter gradients the worker never starts are taken back and computed here: the same gradients, bit for bit', async () => {
    await initBackend('wasm');
    const archOptions = { rows: 32, channels: [8, 16, 32] };
    const engine = new GradientEngine('cnn3', archOptions, 3);
    try {
      const shard = {
        batch: batchArrays([spec(32, 40, 21)], 'cnn3', archOptions), targets: Float32Array.of(0, 0, 1, 0, 0),
        sampleSeeds: Uint32Array.of(7), total: 1,
      };
      const plain = engine.compute(shard);
      // a worker that never answers: every job stays posted, so this thread takes each back
      const posted: FilterGradRequest[] = [];
      const offloader = new FilterGradOffloader((req) => posted.push(req));
      offloader.compute(engine, shard); // the first step sizes the shared buffer (some jobs stay here)
      posted.length = 0;
      const taken = offloader.compute(engine, shard);
      expect(posted.length).toBe(3);
      expect(taken.lossSum).toBe(plain.lossSum);
      taken.grads.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(plain.grads[i]!)));
    } finally {
      engine.dispose();
    }
  });
});
