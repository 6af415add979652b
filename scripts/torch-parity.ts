/**
 * Our cnn3 against PyTorch's, weight for weight (issue #12): same initial weights (ours, converted to
 * PyTorch layout), same inputs, dropout off.
 *
 *  1. One sample at a time (batch 1, as the headline trains): logits, loss and the gradient of every
 *     parameter for T = 300 (a multiple of cnn3's pool factor 4) and T = 301, 302, 303, each against
 *     PyTorch in float64 (the reference), PyTorch in float32 (float noise of an engine) and PyTorch
 *     in float64 on the input zero-padded to a multiple of 4 (what our batching feeds the network).
 *  2. K Adam steps (lr 1e-3, batch 1) on a fixed sample order at the samples' own lengths: both
 *     engines' losses per step and final weights; PyTorch also on the samples zero-padded to a
 *     multiple of 4.
 *
 *   npx tsx scripts/torch-parity.ts [--features F.f32 --index I.json] [--backend wasm|cpu] [--steps 200]
 *                                   [--samples 50] [--json out.json]
 * Inputs: real spectrograms from a `ser study export` (training role, standardised per sample), else
 * random standardised ones of 150–400 frames. Needs Debian's python3-torch.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spectrogram } from '../src/features/types.js';
import { standardizeUtterance } from '../src/features/normalize.js';
import { initBackend } from '../src/model/backend.js';
import { GradientEngine } from '../src/train/engine.js';
import { createRng } from '../src/util/rng.js';
import { padTime } from '../src/features/reshape.js';
import {
  TORCH_NAMES, compareSample, diff, engineWeightsTorch, findTorchPython, fromTorchLayout, ourAdam, ourSamples,
  paddedLength, runTorch, worst, type Diff,
} from '../test/train/torch-parity-lib.js';

function arg(name: string, dflt: string | null = null): string | null {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? null) : dflt;
}

const python = findTorchPython();
if (!python) throw new Error('needs a python3 that imports torch (Debian: /usr/bin/python3 with python3-torch)');
const backend = (arg('backend', 'wasm') as 'wasm' | 'cpu');
const steps = Number(arg('steps', '200'));
const nSamples = Number(arg('samples', '50'));
const seed = Number(arg('seed', '1'));
const numClasses = 5;
await initBackend(backend);
const dir = mkdtempSync(join(tmpdir(), 'ser-torch-parity-'));

// ---- inputs: real training spectrograms, or random ones
let pool: Array<{ spec: Spectrogram; label: number }> = [];
const features = arg('features');
const index = arg('index');
const rng = createRng(seed);
if (features && index) {
  const buf = readFileSync(features);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2);
  const ix = JSON.parse(readFileSync(index, 'utf8')) as Array<{ label: string; role: string; nMels: number; frames: number; offset: number }>;
  const names = [...new Set(ix.map((e) => e.label))].sort();
  pool = ix.filter((e) => e.role === 'train').map((e) => ({
    spec: { data: data.slice(e.offset, e.offset + e.nMels * e.frames), nMels: e.nMels, frames: e.frames },
    label: names.indexOf(e.label),
  }));
} else {
  for (let i = 0; i < 200; i++) {
    const frames = 150 + rng.int(251);
    const d = new Float32Array(128 * frames);
    for (let k = 0; k < d.length; k++) d[k] = rng.normal();
    pool.push({ spec: { data: d, nMels: 128, frames }, label: rng.int(numClasses) });
  }
}
// the export lists its training files by label: take them in a seeded random order
pool = rng.shuffle(pool);
const crop = (s: Spectrogram, frames: number): Spectrogram => {
  const data = new Float32Array(s.nMels * frames);
  for (let r = 0; r < s.nMels; r++) data.set(s.data.subarray(r * s.frames, r * s.frames + frames), r * frames);
  return { data, nMels: s.nMels, frames };
};

const engine = new GradientEngine('cnn3', { numClasses, dropout: 0 }, seed);
const init = engine.readWeights();
const wTorch = engineWeightsTorch(engine, init);

const fmt = (d: Diff): string => `max|Δ| ${d.maxAbs.toExponential(2)}  /max ${d.maxRel.toExponential(2)}  ‖Δ‖/‖·‖ ${d.l2Rel.toExponential(2)}`;
function table(title: string, r: Record<string, Diff>): void {
  console.log(`  ${title}`);
  for (const [k, d] of Object.entries(r)) console.log(`    ${k.padEnd(14)} ${fmt(d)}  (scale ${d.scale.toExponential(2)})`);
}

// ---- 1. one sample at a time
const long = pool.filter((p) => p.spec.frames >= 303).slice(0, 4);
const report: Record<string, unknown> = { backend, python };
const oneStep: Record<string, unknown> = {};
for (const T of [300, 301, 302, 303]) {
  const specs = long.map((p) => standardizeUtterance(crop(p.spec, T)));
  const labels = long.map((p) => p.label);
  const padded = specs.map((s) => padTime(s, paddedLength(T)));
  const ours = ourSamples(engine, specs, labels, numClasses);
  const t64 = runTorch(python, dir, { weights: wTorch, specs, labels, numClasses, dtype: 'float64', tag: `t64-${T}` }).samples!;
  const t32 = runTorch(python, dir, { weights: wTorch, specs, labels, numClasses, dtype: 'float32', tag: `t32-${T}` }).samples!;
  const p64 = runTorch(python, dir, { weights: wTorch, specs: padded, labels, numClasses, dtype: 'float64', tag: `p64-${T}` }).samples!;
  const r = {
    'ours vs torch64': worst(ours.map((o, i) => compareSample(o, t64[i]!))),
    'torch32 vs torch64': worst(t32.map((o, i) => compareSample(o, t64[i]!))),
    'ours vs torch64 on zero-padded input': worst(ours.map((o, i) => compareSample(o, p64[i]!))),
    'torch64 padded vs torch64 (padding effect)': worst(p64.map((o, i) => compareSample(o, t64[i]!))),
  };
  console.log(`\nT = ${T} (padded to ${paddedLength(T)}), ${specs.length} samples, worst over samples`);
  for (const [k, v] of Object.entries(r)) table(k, v);
  console.log(`    losses ours ${ours.map((o) => o.loss.toFixed(6)).join(' ')} | torch64 ${t64.map((o) => o.loss.toFixed(6)).join(' ')}`);
  oneStep[T] = r;
}
report.oneStep = oneStep;

// ---- 2. K Adam steps on a fixed order
if (steps > 0) {
  const set = pool.slice(0, nSamples);
  const specs = set.map((p) => standardizeUtterance(p.spec));
  const labels = set.map((p) => p.label);
  const order = Array.from({ length: steps }, (_, k) => k % specs.length);
  const orng = createRng(seed + 1);
  for (let k = 0; k < steps; k += specs.length) {
    const block = order.slice(k, k + specs.length);
    orng.shuffle(block).forEach((v, j) => (order[k + j] = v));
  }
  const lens = specs.map((s) => s.frames);
  console.log(`\nAdam: ${steps} steps, lr 1e-3, batch 1, dropout off, ${specs.length} samples of ${Math.min(...lens)}–${Math.max(...lens)} frames (${lens.filter((t) => t % 4 !== 0).length} with T % 4 ≠ 0)`);
  let t0 = Date.now();
  const ours = await ourAdam({ backend, weights: init, specs, labels, numClasses, order, lr: 1e-3 });
  const sOurs = (Date.now() - t0) / 1000;
  t0 = Date.now();
  const t32 = runTorch(python, dir, { weights: wTorch, specs, labels, numClasses, grad: false, adam: { order, lr: 1e-3 }, tag: 'adam-t32' }).adam!;
  const t32p = runTorch(python, dir, { weights: wTorch, specs: specs.map((s) => padTime(s, paddedLength(s.frames))), labels, numClasses, grad: false, adam: { order, lr: 1e-3 }, tag: 'adam-t32-padded' }).adam!;
  const sTorch = (Date.now() - t0) / 1000;
  const ourW = engineWeightsTorch(engine, ours.weights);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const windows = [[0, 10], [0, steps / 4], [steps / 4, steps / 2], [steps / 2, (3 * steps) / 4], [(3 * steps) / 4, steps]].map(([a, b]) => [Math.floor(a!), Math.floor(b!)] as [number, number]);
  const adam: Record<string, unknown> = { seconds: { ours: sOurs, torch: sTorch } };
  for (const [name, ref] of [['torch (own lengths)', t32], ['torch (zero-padded to ×4)', t32p]] as const) {
    const dl = ours.losses.map((l, i) => Math.abs(l - ref.losses[i]!));
    const firstBig = dl.findIndex((d) => d > 1e-3);
    console.log(`  ours vs ${name}: max |Δloss| over steps ${Math.max(...dl).toExponential(2)}, first step with |Δloss| > 1e-3: ${firstBig < 0 ? 'none' : firstBig + 1}`);
    for (const [a, b] of windows) console.log(`    mean loss steps ${a + 1}–${b}: ours ${mean(ours.losses.slice(a, b)).toFixed(4)}  ${name} ${mean(ref.losses.slice(a, b)).toFixed(4)}`);
    const wd: Record<string, Diff> = {};
    for (const n of TORCH_NAMES) wd[n] = diff(ourW[n], ref.weights[n]);
    table(`final weights, ours vs ${name}`, wd);
    // how far the weights moved from init, for scale
    const moved: Record<string, Diff> = {};
    for (const n of TORCH_NAMES) moved[n] = diff(ref.weights[n], wTorch[n]);
    table(`final weights, ${name} vs initial (how far training moved them)`, moved);
    adam[name] = { lossDiffMax: Math.max(...dl), firstBig, weights: wd, moved };
  }
  adam.losses = { ours: ours.losses, torch: t32.losses, torchPadded: t32p.losses };
  adam.order = order;
  report.adam = adam;
  void fromTorchLayout;
}
const json = arg('json');
if (json) writeFileSync(json, JSON.stringify(report, null, 1));
engine.dispose();
rmSync(dir, { recursive: true, force: true });
