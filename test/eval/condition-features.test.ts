/** conditionFeatures (eval/robustness.ts): cached condition features equal freshly computed ones, whatever list the file is scored in. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio/wav.js';
import type { CorpusItem } from '../../src/data/corpus.js';
import { conditionFeatures } from '../../src/eval/robustness.js';
import { featureParams } from '../../src/features/params.js';
import { getRecipe } from '../../src/train/recipes.js';
import { createRng } from '../../src/util/rng.js';

const tmp = mkdtempSync(join(tmpdir(), 'ser-condfeat-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A second of a voiced-like buzz (harmonics of f0 with a slow level contour) plus a little noise, at 16 kHz. */
function utterance(name: string, f0: number, seed: number): string {
  const sr = 16000;
  const rng = createRng(seed);
  const y = Float32Array.from({ length: sr }, (_, i) => {
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin((2 * Math.PI * f0 * h * i) / sr) / h;
    return 0.2 * v * (0.6 + 0.4 * Math.sin((2 * Math.PI * 3 * i) / sr)) + 0.01 * (rng.uniform(0, 2) - 1);
  });
  const path = join(tmp, name);
  writeFileSync(path, encodeWav(y, sr));
  return path;
}

const params = featureParams(getRecipe('ser-robust').features);
const item = (i: number, speaker: string | null): CorpusItem => ({ path: utterance(`u${i}-${speaker}.wav`, 110 + 23 * i, i), id: `u${i}-${speaker}.wav`, label: i % 2 ? 'angry' : 'sad', speaker });
const labels = ['angry', 'sad'];

describe('conditionFeatures', () => {
  const items = [item(0, '1'), item(1, '1'), item(2, '2'), item(3, '2'), item(4, '3'), item(5, '3')];
  it('babble of a file scored in a shorter list is that list\'s, also when the longer list filled the cache first', async () => {
    const cacheDir = join(tmp, 'cache');
    const full = await conditionFeatures(items, labels, params, ['original', 'babble-10db'], { cacheDir, progress: false });
    const sub = items.filter((it) => it.speaker !== '3');
    const cached = await conditionFeatures(sub, labels, params, ['original', 'babble-10db'], { cacheDir, progress: false });
    const fresh = await conditionFeatures(sub, labels, params, ['original', 'babble-10db'], { cacheDir: null, progress: false });
    const again = await conditionFeatures(items, labels, params, ['original', 'babble-10db'], { cacheDir, progress: false });
    expect(cached.skipped).toBe(0);
    for (let k = 0; k < sub.length; k++) {
      expect(Array.from(cached.data[k]!.specs.get('babble-10db')!.data)).toEqual(Array.from(fresh.data[k]!.specs.get('babble-10db')!.data));
      // original audio does not depend on the list
      expect(Array.from(cached.data[k]!.specs.get('original')!.data)).toEqual(Array.from(full.data[k]!.specs.get('original')!.data));
    }
    // the babble of speaker 1's first file differs between the lists (other talkers), and the full list's came back from the cache
    expect(Array.from(fresh.data[0]!.specs.get('babble-10db')!.data)).not.toEqual(Array.from(full.data[0]!.specs.get('babble-10db')!.data));
    expect(Array.from(again.data[0]!.specs.get('babble-10db')!.data)).toEqual(Array.from(full.data[0]!.specs.get('babble-10db')!.data));
  });
  it('without speakers, babble is made of the other files (no file skipped)', async () => {
    const anon = items.map((it) => ({ ...it, speaker: null }));
    const r = await conditionFeatures(anon, labels, params, ['babble-10db'], { cacheDir: null, progress: false });
    expect(r.skipped).toBe(0);
    expect(r.data).toHaveLength(anon.length);
  });
});
