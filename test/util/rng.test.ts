import { describe, expect, it } from 'vitest';
import { createRng, seedFrom } from '../../src/util/rng.js';

describe('createRng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = createRng(42), b = createRng(42), c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    const sb = Array.from({ length: 5 }, () => b.next());
    const sc = Array.from({ length: 5 }, () => c.next());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });
  it('next is in [0,1) with mean near 0.5; int in range', () => {
    const r = createRng(1);
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
    expect(Math.abs(sum / 10000 - 0.5)).toBeLessThan(0.02);
  });
  it('normal has mean ~0 and std ~1', () => {
    const r = createRng(7);
    const n = 20000;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const x = r.normal(); s += x; s2 += x * x; }
    const mean = s / n;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(s2 / n - mean * mean) - 1)).toBeLessThan(0.03);
  });
  it('shuffle is a permutation and reproducible', () => {
    const arr = Array.from({ length: 50 }, (_, i) => i);
    const x = createRng(3).shuffle([...arr]);
    const y = createRng(3).shuffle([...arr]);
    expect(x).toEqual(y);
    expect(x).not.toEqual(arr);
    expect([...x].sort((p, q) => p - q)).toEqual(arr);
  });
  it('string seeds hash stably', () => {
    expect(seedFrom('abc')).toBe(seedFrom('abc'));
    expect(seedFrom('abc')).not.toBe(seedFrom('abd'));
  });
});
