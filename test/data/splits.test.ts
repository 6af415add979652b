import { describe, expect, it } from 'vitest';
import { carveValidation, leaveOneSpeakerOut, stratifiedCounts, stratifiedSplit } from '../../src/data/splits.js';

function corpus(perLabel: Record<string, number>, speakers = 5) {
  const items = [];
  for (const [label, n] of Object.entries(perLabel)) {
    for (let i = 0; i < n; i++) items.push({ path: `/c/${label}${String(i).padStart(3, '0')}.wav`, label, speaker: String((i % speakers) + 1) });
  }
  return items;
}

describe('stratifiedSplit', () => {
  const items = corpus({ angry: 101, disgust: 102, fear: 100, happy: 99, sad: 102 });
  it('takes ceil(20%) of the files, proportionally per label, disjoint and complete', () => {
    const s = stratifiedSplit(items, 0.2, 42);
    expect(s.test.length).toBe(101); // ceil(504 * 0.2)
    expect(s.train.length + s.test.length).toBe(504);
    const paths = new Set([...s.train, ...s.test].map((i) => i.path));
    expect(paths.size).toBe(504);
    const per = (l: string) => s.test.filter((i) => i.label === l).length;
    expect([per('angry'), per('disgust'), per('fear'), per('happy'), per('sad')]).toEqual([20, 21, 20, 20, 20]);
  });
  it('is deterministic for a seed, independent of input order, and differs by seed', () => {
    const a = stratifiedSplit(items, 0.2, 42).test.map((i) => i.path);
    const b = stratifiedSplit([...items].reverse(), 0.2, 42).test.map((i) => i.path);
    const c = stratifiedSplit(items, 0.2, 7).test.map((i) => i.path);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
  it('stratifiedCounts uses largest remainders', () => {
    expect([...stratifiedCounts(new Map([['a', 5], ['b', 3], ['c', 2]]), 0.5)]).toEqual([['a', 3], ['b', 1], ['c', 1]]);
  });
  it('rejects a bad fraction', () => {
    expect(() => stratifiedSplit(items, 1)).toThrow(/between 0 and 1/);
  });
});

describe('leaveOneSpeakerOut', () => {
  it('gives one fold per speaker (numeric order) with disjoint speakers', () => {
    const items = corpus({ angry: 12, sad: 12 }, 12).map((i) => ({ ...i }));
    const folds = leaveOneSpeakerOut(items);
    expect(folds.map((f) => f.speaker)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
    for (const f of folds) {
      expect(f.test.every((i) => i.speaker === f.speaker)).toBe(true);
      expect(f.train.some((i) => i.speaker === f.speaker)).toBe(false);
      expect(f.train.length + f.test.length).toBe(24);
    }
  });
  it('refuses items without a speaker and a single speaker', () => {
    expect(() => leaveOneSpeakerOut([{ path: 'a', label: 'sad', speaker: null }, { path: 'b', label: 'sad', speaker: '1' }])).toThrow(/needs a speaker/);
    expect(() => leaveOneSpeakerOut([{ path: 'a', label: 'sad', speaker: '1' }])).toThrow(/at least 2 speakers/);
  });
});

describe('carveValidation', () => {
  const items = corpus({ angry: 40, sad: 40 }, 4);
  it('stratified: 10% of the training files, none of them left in train', () => {
    const v = carveValidation(items, 0.1, 1);
    expect(v.validation.length).toBe(8);
    expect(v.validation.filter((i) => i.label === 'angry').length).toBe(4);
    const t = new Set(v.train.map((i) => i.path));
    expect(v.validation.some((i) => t.has(i.path))).toBe(false);
  });
  it('by speaker: whole training speakers held out, never all of them', () => {
    const v = carveValidation(items, 0.1, 1, { bySpeaker: true });
    const vs = new Set(v.validation.map((i) => i.speaker));
    const ts = new Set(v.train.map((i) => i.speaker));
    expect(vs.size).toBe(1);
    expect([...vs].some((s) => ts.has(s))).toBe(false);
    expect(v.validation.length).toBe(20);
    const all = carveValidation(items, 0.9, 1, { bySpeaker: true });
    expect(new Set(all.train.map((i) => i.speaker)).size).toBe(1);
  });
});
