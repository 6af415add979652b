/**
 * Leave-one-speaker-out evaluation of a recipe (default `ser-stats`) on a corpus, in TypeScript:
 * for each speaker, train on all other speakers (the recipe's own validation carve-out, if any,
 * comes from those), then classify each of the held-out speaker's files on its own.
 * Prints per-speaker accuracy / UAR, their means, and wall time; `--seeds N` sums the softmax of
 * N seeds (an ensemble, as the research prototype's 3-seed figures).
 *
 *   npx tsx scripts/loso-stats.ts --data ../shared/aesdd [--recipe ser-stats] [--seeds 1] [--epochs N] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { scanCorpus } from '../src/data/corpus.js';
import { featureParams } from '../src/features/params.js';
import { evaluatePredictions } from '../src/eval/metrics.js';
import { getRecipe } from '../src/train/recipes.js';
import { labelNamesOf, loadFeatures, pitchShiftSource, toLabeledSpecs } from '../src/train/dataset.js';
import { prepareInput, train } from '../src/train/loop.js';

function arg(name: string, dflt: string | null = null): string | null {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? null) : dflt;
}

const dataDir = arg('data', '../shared/aesdd') as string;
const recipeName = arg('recipe', 'ser-stats') as string;
const seeds = Number(arg('seeds', '1'));
const epochs = arg('epochs');
const cacheDir = arg('cache');
const recipe = getRecipe(recipeName, epochs ? { epochs: Number(epochs) } : {});
const params = featureParams(recipe.features);
const t0 = Date.now();
const corpus = scanCorpus(dataDir);
const loaded = await loadFeatures(corpus.items, params, { progress: false, ...(cacheDir ? { cacheDir } : {}) });
for (const f of loaded.failed) process.stderr.write(`skipped ${f.path}: ${f.message}\n`);
const items = loaded.items;
const labelNames = labelNamesOf(items);
const speakers = [...new Set(items.map((i) => i.speaker ?? '?'))].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
const tFeat = (Date.now() - t0) / 1000;
process.stderr.write(`${items.length} files, ${speakers.length} speakers, features ${tFeat.toFixed(1)} s\n`);

const rows: Array<{ speaker: string; n: number; accuracy: number; uar: number }> = [];
for (const spk of speakers) {
  const tr = items.filter((i) => (i.speaker ?? '?') !== spk);
  const te = items.filter((i) => (i.speaker ?? '?') === spk);
  const trainData = { ...toLabeledSpecs(tr, labelNames), labelNames };
  const test = toLabeledSpecs(te, labelNames);
  const probs = te.map(() => new Float64Array(labelNames.length));
  for (let s = 0; s < seeds; s++) {
    const r = await train(recipe, trainData, { seed: 42 + s, progress: false, pitchSource: pitchShiftSource(tr, params, cacheDir ?? undefined) });
    // each file on its own
    for (let i = 0; i < te.length; i++) {
      const [p] = await r.trainer.predict([prepareInput(test.specs[i]!, recipe)]);
      for (let k = 0; k < labelNames.length; k++) probs[i]![k]! += p![k]!;
    }
    r.trainer.dispose();
  }
  const pred = probs.map((p) => p.indexOf(Math.max(...p)));
  const e = evaluatePredictions(test.labels, pred, labelNames.length);
  rows.push({ speaker: spk, n: te.length, accuracy: e.accuracy, uar: e.uar });
  process.stderr.write(`speaker ${spk}: n ${te.length} acc ${(e.accuracy * 100).toFixed(1)} uar ${(e.uar * 100).toFixed(1)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
}
const mean = (k: 'accuracy' | 'uar'): number => rows.reduce((a, r) => a + r[k], 0) / rows.length;
const summary = {
  recipe: recipe.name, seeds, epochs: recipe.epochs, files: items.length,
  perSpeaker: rows, meanAccuracy: mean('accuracy'), meanUar: mean('uar'), seconds: (Date.now() - t0) / 1000, featureSeconds: tFeat,
};
console.log(
  `LOSO ${recipe.name} seeds=${seeds}: per-speaker acc ${rows.map((r) => (r.accuracy * 100).toFixed(0)).join(' ')} | ` +
    `mean acc ${(summary.meanAccuracy * 100).toFixed(1)} | mean UAR ${(summary.meanUar * 100).toFixed(1)} | ${summary.seconds.toFixed(0)} s`,
);
const out = arg('json');
if (out) writeFileSync(out, JSON.stringify(summary, null, 2));
