/** ser-mlp ensembles (model/ensemble.ts): K trained members in one model that averages their probabilities. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/model/architectures.js';
import { assembleMlpEnsemble } from '../../src/model/ensemble.js';
import { saveModelFolder } from '../../src/model/io.js';
import { Classifier, ensureBackend } from '../../src/infer/classifier.js';
import { endsInSoftmax } from '../../src/infer/deps.js';
import { EMOTIONS } from '../../src/util/labels.js';
import { featureParams } from '../../src/features/params.js';
import { createRng } from '../../src/util/rng.js';

const rows = 12;
const opts = { rows, hidden: 8, numClasses: 5, inputMean: Array.from({ length: rows }, (_, i) => i / 10), inputStd: Array.from({ length: rows }, (_, i) => 1 + i / 5) };

function run(model: ReturnType<typeof buildModel>, x: Float32Array, n: number): number[][] {
  return tf.tidy(() => {
    const out = model.predict([tf.tensor4d(x, [n, rows, 1, 1]), tf.ones([n, 1])]) as tf.Tensor;
    return out.arraySync() as number[][];
  });
}
const softmax = (z: number[]) => { const m = Math.max(...z); const e = z.map((v) => Math.exp(v - m)); const s = e.reduce((a, b) => a + b, 0); return e.map((v) => v / s); };

describe('assembleMlpEnsemble', () => {
  beforeAll(async () => { await ensureBackend(); });

  it('outputs the mean of the members\' softmax probabilities; one member keeps the old layer names', () => {
    const members = [1, 2, 3].map((seed) => buildModel('ser-mlp', opts, seed));
    expect(members[0]!.layers.map((l) => l.name)).toContain('hidden');
    const ens = assembleMlpEnsemble(members, opts);
    expect(endsInSoftmax(ens)).toBe(true);
    expect(endsInSoftmax(members[0]!)).toBe(false);
    const rng = createRng(4);
    const n = 6;
    const x = Float32Array.from({ length: n * rows }, () => rng.normal());
    const got = run(ens, x, n);
    const each = members.map((m) => run(m, x, n).map(softmax));
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 5; c++) expect(got[i]![c]).toBeCloseTo((each[0]![i]![c]! + each[1]![i]![c]! + each[2]![i]![c]!) / 3, 5);
    }
  });

  it('refuses members with different standardisations, and fewer than two', () => {
    const a = buildModel('ser-mlp', opts, 1);
    const b = buildModel('ser-mlp', { ...opts, inputMean: opts.inputMean.map((v) => v + 1) }, 2);
    expect(() => assembleMlpEnsemble([a, b], opts)).toThrow(/share one input standardisation/);
    expect(() => assembleMlpEnsemble([a], opts)).toThrow(/at least 2 members/);
  });

  it('saves and loads as a model folder; the Classifier does not apply softmax twice', async () => {
    const members = [5, 6].map((seed) => buildModel('ser-mlp', opts, seed));
    const ens = assembleMlpEnsemble(members, opts);
    const dir = mkdtempSync(join(tmpdir(), 'ser-ens-'));
    await saveModelFolder(dir, ens, { formatVersion: 1, labels: [...EMOTIONS], featureParams: featureParams(), arch: 'ser-mlp', archOptions: { ...opts, members: 2 }, normalization: 'none' } as never);
    const clf = await Classifier.load(dir);
    const spec = { data: Float32Array.from({ length: rows }, (_, i) => Math.sin(i)), nMels: rows, frames: 1 };
    const p = await clf.probabilitiesOf(spec);
    const want = run(ens, spec.data, 1)[0]!;
    want.forEach((v, i) => expect(p[i]).toBeCloseTo(v, 5));
    clf.dispose();
  });
});
