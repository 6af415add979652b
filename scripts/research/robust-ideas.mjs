// Research harness (issue #10): ideas for the stats model on unseen speakers, tried quickly before any goes into
// the nested selection. Leave-one-speaker-out over ../shared/aesdd, original audio only, ser-robust's 16-kHz
// features, 4 mel-warp copies per training file (no channel augmentation), MLP as ser-robust, 3 seeds per fold.
// These are outer-fold figures: exploration, not a selection procedure; nothing here is adopted without a nested run.
//
//   npm run build && node scripts/research/robust-ideas.mjs [DATA] base tta3 tta5 q r v qrv tempo decouple ens16 cnn
//
// Variants: base; tta3 / tta5 = test-time average over mel warps {0.94,1,1.06} / {0.9,...,1.1}; q = voicing
// strength stats + F0 slope + F0 jitter proxy; r = rhythm (energy peaks/s, pauses/s, voiced share); v = voiced
// minus unvoiced band envelope (32); qrv = all three; tempo = training copies also time-stretched U(0.85, 1.15);
// decouple = the copies' F0 factor drawn apart from the mel warp, U(0.8, 1.25); ens16 = + 3 seeds on 16-band statistics;
// cnn = base averaged with seed-cnn4-resized (20 epochs) on the same 16-kHz log-mel (prints the CNN alone too);
// cnnv = base averaged with a small batch-norm CNN (ser-cnn, statistics pooling) on the stats model's own view of
// the spectrogram — 32 pooled bands, levels relative to the utterance's p95, the same 4 mel-warp copies — CNN alone printed too;
// mix = mixup (alpha 0.4, p 0.5) of the statistics vectors; ls = label smoothing 0.1; mixls = both;
// m = modulation spectrum (8 bands x 6 octave modulation bands, 0.5-32 Hz); d = per-band spread of level changes; md = both.
// e9 = 9 seeds in the ensemble instead of 3; bag = the 3 seeds plus 4 MLPs each trained without one training speaker.
// MOD=1 (env) screens on ser-robust's statistics as bundled (with the modulation statistics) instead of without them.
import { scanCorpus } from '../../dist/data/corpus.js';
import { utteranceFeatures, utteranceInputs } from '../../dist/features/pipeline.js';
import { loadAudio } from '../../dist/audio/load.js';
import { melWarp, percentile, poolBands, utteranceStats } from '../../dist/features/utterance.js';
import { featureParams } from '../../dist/features/params.js';
import { getRecipe } from '../../dist/train/recipes.js';
import { train, prepareInput } from '../../dist/train/loop.js';
import { createRng } from '../../dist/util/rng.js';
const recipe0 = getRecipe('ser-robust');
const params = featureParams({ ...recipe0.features, statsModulation: process.env.MOD === '1' }); // the screens' base: the statistics without modulation, unless MOD=1
const argv = process.argv.slice(2);
const dataDir = argv[0] && !/^(base|tta\d|q|r|v|qrv|m|d|md|tempo|decouple|ens16|cnn|cnnv|mix|ls|mixls|e9|bag)$/.test(argv[0]) ? argv.shift() : '../shared/aesdd';
const corpus = scanCorpus(dataDir);
const labels = [...new Set(corpus.items.map((i) => i.label))].sort();
const inputs = [];
for (const it of corpus.items) inputs.push(utteranceInputs(await loadAudio(it.path), params));
const mean = (a) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
const std = (a) => { const m = mean(a); return Math.sqrt(mean(a.map((v) => (v - m) ** 2))); };
function extra(i, w, which) {
  const { logMel, pitch } = inputs[i];
  const T = logMel.frames;
  const L = poolBands(w === 1 ? logMel : melWarp(logMel, w), 32);
  const e = new Float64Array(T).fill(-Infinity);
  for (let b = 0; b < 32; b++) for (let t = 0; t < T; t++) e[t] = Math.max(e[t], L.data[b * T + t]);
  const emax = Math.max(...e);
  const act = [...e.keys()].filter((t) => e[t] > emax - 40);
  const voiced = act.filter((t) => pitch.voicing[t] > pitch.threshold);
  const unv = act.filter((t) => !(pitch.voicing[t] > pitch.threshold));
  const out = [];
  if (which.includes('q')) { // voice quality proxies + pitch contour slope
    const vs = voiced.map((t) => pitch.voicing[t]);
    out.push(mean(vs), std(vs), (vs.length ? percentile(vs, 90) : 0));
    const lf = voiced.map((t) => Math.log2(pitch.f0[t] * w));
    const tt = voiced.map((t) => t / 86);
    const mt = mean(tt), ml = mean(lf);
    let sxy = 0, sxx = 0; tt.forEach((x, k) => { sxy += (x - mt) * (lf[k] - ml); sxx += (x - mt) ** 2; });
    out.push(sxx > 0 ? sxy / sxx : 0);
    // jitter proxy: mean |second difference| of log f0 over consecutive voiced frames
    const j = []; for (let k = 2; k < voiced.length; k++) if (voiced[k] - voiced[k - 2] === 2) j.push(Math.abs(lf[k] - 2 * lf[k - 1] + lf[k - 2]));
    out.push(mean(j));
  }
  if (which.includes('r')) { // rhythm: energy peaks per second, pauses
    const r = [...pitch.rms].map((v) => 20 * Math.log10(v + 1e-6));
    const sm = r.map((_, t) => mean(r.slice(Math.max(0, t - 3), t + 4)));
    const rmax = Math.max(...sm);
    let peaks = 0; for (let t = 1; t < T - 1; t++) if (sm[t] > sm[t - 1] && sm[t] >= sm[t + 1] && sm[t] > rmax - 25) peaks++;
    const sil = sm.map((v) => v < rmax - 35);
    let pauses = 0; for (let t = 1; t < T; t++) if (sil[t] && !sil[t - 1]) pauses++;
    const secs = T / 86;
    out.push(peaks / secs, pauses / secs, voiced.length / Math.max(1, act.length));
  }
  if (which.includes('v')) { // voiced-frame envelope minus unvoiced-frame envelope, per band
    for (let b = 0; b < 32; b++) out.push(mean(voiced.map((t) => L.data[b * T + t])) - mean((unv.length ? unv : act).map((t) => L.data[b * T + t])));
  }
  if (which.includes('m')) { // modulation spectrum: 8 acoustic bands (4 pooled bands each), the dB envelope's share of
    // modulation energy in octave bands 0.5-1 ... 16-32 Hz (Hann-windowed DFT; frames at 16000 / 186 = 86 per second)
    const fps = 16000 / 186;
    const edges = [0.5, 1, 2, 4, 8, 16, 32];
    const win = Float64Array.from({ length: T }, (_, t) => 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / Math.max(1, T - 1)));
    for (let g = 0; g < 8; g++) {
      const x = new Float64Array(T);
      for (let t = 0; t < T; t++) { let s = 0; for (let b = 4 * g; b < 4 * g + 4; b++) s += L.data[b * T + t]; x[t] = Math.max(s / 4, emax - 60); }
      const mx = mean(x);
      for (let t = 0; t < T; t++) x[t] = (x[t] - mx) * win[t];
      const band = new Float64Array(edges.length - 1);
      const kMax = Math.min(Math.floor(T / 2), Math.ceil((edges.at(-1) * T) / fps));
      for (let k = 1; k <= kMax; k++) {
        const f = (k * fps) / T;
        const j = edges.findIndex((e, n) => n < edges.length - 1 && f >= e && f < edges[n + 1]);
        if (j < 0) continue;
        let re = 0, im = 0; const w0 = (2 * Math.PI * k) / T;
        for (let t = 0; t < T; t++) { re += x[t] * Math.cos(w0 * t); im -= x[t] * Math.sin(w0 * t); }
        band[j] += re * re + im * im;
      }
      const tot = band.reduce((a, b) => a + b, 0) + 1e-9;
      for (const v of band) out.push(Math.log10(v / tot + 1e-4));
    }
  }
  if (which.includes('d')) { // spectral dynamics: per band, the standard deviation of the lag-2 level change over active frames
    for (let b = 0; b < 32; b++) {
      const dd = act.filter((t) => t >= 2).map((t) => L.data[b * T + t] - L.data[b * T + t - 2]);
      out.push(std(dd));
    }
  }
  return out;
}
function stretch(inp, f) { // time-scale the log-mel and pitch track by f (nearest frame)
  const T = inp.logMel.frames, T2 = Math.max(8, Math.round(T * f));
  const idx = Array.from({ length: T2 }, (_, t) => Math.min(T - 1, Math.round(t / f)));
  const d = new Float32Array(inp.logMel.nMels * T2);
  for (let b = 0; b < inp.logMel.nMels; b++) for (let t = 0; t < T2; t++) d[b * T2 + t] = inp.logMel.data[b * T + idx[t]];
  const pick = (a) => Float32Array.from(idx, (k) => a[k]);
  return { logMel: { data: d, nMels: inp.logMel.nMels, frames: T2 }, pitch: { ...inp.pitch, f0: pick(inp.pitch.f0), voicing: pick(inp.pitch.voicing), rms: pick(inp.pitch.rms) } };
}
function vec(i, w, which, tempo = 1, f0 = w, bands = 32) {
  let inp = tempo === 1 ? inputs[i] : stretch(inputs[i], tempo);
  if (f0 !== w) inp = { ...inp, pitch: { ...inp.pitch, f0: inp.pitch.f0.map((v) => (v * f0) / w) } };
  const base = tempo === 1 && f0 === w && bands === 32 ? utteranceFeatures(inputs[i], { ...params, melWarp: w }).data : utteranceStats(inp.logMel, inp.pitch, { bands, levelNorm: 'p95', melWarp: w });
  const x = which ? extra(i, w, which) : [];
  const d = new Float32Array(base.length + x.length); d.set(base); d.set(x, base.length);
  return { data: d, nMels: d.length, frames: 1 };
}
const recipe = { ...recipe0, offlineAugment: null, ensemble: 1 };
// regularisers the loop already has, as recipe data: mixup of the statistics vectors and their targets, label smoothing
const recipeFor = (which) => ({
  ...recipe,
  ...(which === 'mix' || which === 'mixls' ? { mixup: { alpha: 0.4, p: 0.5 } } : {}),
  ...(which === 'ls' || which === 'mixls' ? { labelSmoothing: 0.1 } : {}),
});
// the CNN view: the stats model's 32 bands, dB relative to the utterance's p95 over active frames, floored at −60, /20
function levelView(i, w) {
  const { logMel } = inputs[i];
  const L = poolBands(w === 1 ? logMel : melWarp(logMel, w), 32);
  const T = L.frames;
  const e = new Float64Array(T).fill(-Infinity);
  for (let b = 0; b < 32; b++) for (let t = 0; t < T; t++) e[t] = Math.max(e[t], L.data[b * T + t]);
  const emax = Math.max(...e);
  const act = [];
  for (let b = 0; b < 32; b++) for (let t = 0; t < T; t++) if (e[t] > emax - 40) act.push(L.data[b * T + t]);
  const p95 = percentile(act, 95);
  return { data: L.data.map((v) => Math.max(-60, v - p95) / 20), nMels: 32, frames: T };
}
const CNNV_SEEDS = Number(process.env.CNNV_SEEDS ?? 1);
const cnnvRecipe = {
  ...getRecipe('ser-best'), name: 'cnnv', normalization: 'none',
  archOptions: { batchNorm: true, pooling: 'stats', dropout: 0.3, channels: [16, 32, 64] },
  input: { mode: 'variable', frames: 256 }, batchSize: 16, lr: 0.002, epochs: Number(process.env.CNNV_EPOCHS ?? 30),
  onlineAugment: { specAugment: { p: 0.5, freqMasks: 1, maxFreq: 4, timeMasks: 2, maxTimeFraction: 0.1 } },
  mixup: null, earlyStopping: { patience: null, monitor: 'uar' }, valFraction: 0,
};
// SEED=k (env) draws other warps and initial weights, to see how much of a difference is seed noise
const SEED = Number(process.env.SEED ?? 0);
const speakers = [...new Set(corpus.items.map((i) => i.speaker))].sort();
for (const which of argv) {
  const tta = { tta3: [0.94, 1, 1.06], tta5: [0.9, 0.95, 1, 1.05, 1.1] }[which] ?? [1];
  const feat = ['q', 'r', 'v', 'qrv', 'm', 'd', 'md'].includes(which) ? which : '';
  const accs = [];
  for (const spk of speakers) {
    const tr = [], te = [];
    corpus.items.forEach((it, i) => (it.speaker === spk ? te : tr).push(i));
    const rng = createRng(SEED ? `tta/${spk}/${SEED}` : `tta/${spk}`);
    const probs = te.map(() => new Float64Array(labels.length));
    for (const bands of which === 'ens16' ? [32, 16] : [32]) {
      const specs = [], labs = [], spks = [];
      for (const i of tr) {
        specs.push(vec(i, 1, feat, 1, 1, bands)); labs.push(labels.indexOf(corpus.items[i].label)); spks.push(corpus.items[i].speaker);
        for (let c = 0; c < 4; c++) {
          const w = 0.88 + 0.24 * rng.next();
          const tempo = which === 'tempo' ? 0.85 + 0.3 * rng.next() : 1;
          const f0 = which === 'decouple' ? 0.8 + 0.45 * rng.next() : w;
          specs.push(vec(i, w, feat, tempo, f0, bands)); labs.push(labels.indexOf(corpus.items[i].label)); spks.push(corpus.items[i].speaker);
        }
      }
      // members: [seed offset, training speaker left out (bag) or none]
      const members = Array.from({ length: which === 'e9' ? 9 : 3 }, (_, s) => [s, null]);
      if (which === 'bag') speakers.filter((x) => x !== spk).forEach((x, k) => members.push([3 + k, x]));
      for (const [s, out] of members) {
        const keep = [...specs.keys()].filter((j) => spks[j] !== out);
        const data = { specs: keep.map((j) => specs[j]), labels: keep.map((j) => labs[j]), labelNames: labels };
        const t = (await train(recipeFor(which), data, { seed: 42 + SEED + s, progress: false, threads: 1 })).trainer;
        for (const w of tta) (await t.predict(te.map((i) => vec(i, w, feat, 1, w, bands)))).forEach((p, k) => p.forEach((v, c) => (probs[k][c] += v)));
        t.dispose();
      }
    }
    if (which === 'cnn') {
      // a second view: the study's 4-layer resized CNN (its lr, 20 epochs) on the same 16-kHz log-mel, original files only
      const cnnRecipe = getRecipe('seed-cnn4-resized', { epochs: 20 });
      const r = await train(cnnRecipe, { specs: tr.map((i) => inputs[i].logMel), labels: tr.map((i) => labels.indexOf(corpus.items[i].label)), labelNames: labels }, { seed: 42, progress: false, threads: 1 });
      const cp = await r.trainer.predict(te.map((i) => prepareInput(inputs[i].logMel, cnnRecipe)));
      r.trainer.dispose();
      let alone = 0;
      cp.forEach((p, k) => { if (labels[[...p].indexOf(Math.max(...p))] === corpus.items[te[k]].label) alone++; });
      (globalThis.cnnAccs ??= []).push(alone / te.length);
      probs.forEach((p, k) => { for (let c = 0; c < p.length; c++) p[c] = p[c] / 3 + cp[k][c]; });
    }
    if (which === 'cnnv') {
      const specs = [], labs = [];
      for (const i of tr) {
        specs.push(levelView(i, 1)); labs.push(labels.indexOf(corpus.items[i].label));
        for (let c = 0; c < 4; c++) { specs.push(levelView(i, 0.88 + 0.24 * rng.next())); labs.push(labels.indexOf(corpus.items[i].label)); }
      }
      const cp = te.map(() => new Float64Array(labels.length));
      for (let s = 0; s < CNNV_SEEDS; s++) {
        const r = await train(cnnvRecipe, { specs, labels: labs, labelNames: labels }, { seed: 42 + s, progress: false, threads: 1 });
        (await r.trainer.predict(te.map((i) => prepareInput(levelView(i, 1), cnnvRecipe)))).forEach((p, k) => p.forEach((v, c) => (cp[k][c] += v / CNNV_SEEDS)));
        r.trainer.dispose();
      }
      let alone = 0;
      cp.forEach((p, k) => { if (labels[p.indexOf(Math.max(...p))] === corpus.items[te[k]].label) alone++; });
      (globalThis.cnnAccs ??= []).push(alone / te.length);
      console.error(`cnnv ${spk}: cnn alone ${(100 * alone / te.length).toFixed(1)}`);
      probs.forEach((p, k) => { for (let c = 0; c < p.length; c++) p[c] = p[c] / 3 + cp[k][c]; });
    }
    let right = 0; probs.forEach((p, k) => { if (labels[p.indexOf(Math.max(...p))] === corpus.items[te[k]].label) right++; });
    accs.push(right / te.length);
  }
  if (which === 'cnn' || which === 'cnnv') console.log('cnn alone', globalThis.cnnAccs.map((a) => (100 * a).toFixed(1)).join(' '), 'mean', (100 * mean(globalThis.cnnAccs)).toFixed(2), '— below: base + cnn, probabilities averaged');
  console.log(which, accs.map((a) => (100 * a).toFixed(1)).join(' '), 'mean', (100 * mean(accs)).toFixed(2));
}
