/**
 * The exploration report (`ser explore`): what the study's exploration section showed, as a
 * self-contained folder (index.html + SVG/PNG images, opens from disk): files per emotion and
 * per speaker, duration histograms overall and per emotion, duration statistics per emotion,
 * one waveform and one log-mel image per emotion, and every skipped file with its reason.
 */
import { join } from 'node:path';
import type { AudioData } from '../audio/types.js';
import { featureParams, type FeatureParams } from '../features/params.js';
import { extractFeatures } from '../features/pipeline.js';
import { hzToMel } from '../features/mel.js';
import type { Spectrogram } from '../features/types.js';
import { writeFileAtomic } from '../util/fs.js';
import { spectrogramPng, colormapLut } from '../util/png.js';
import { barChart, histogram, histogramBins, waveform } from '../util/plot/index.js';
import { escapeXml, niceTicks, colorAt } from '../util/plot/svg.js';
import { Progress } from '../util/progress.js';
import { EMOTIONS } from '../util/labels.js';
import { scanCorpus, type Corpus, type ScanOptions } from './corpus.js';
import { loadAudioFile } from './audio.js';
import { probeCorpus, type ProbedCorpus, type ProbedItem } from './probe.js';
import { compareIds } from './splits.js';
import { addNoiseDb, applyChannelOp, CHANNEL_OPS, maskFrequency, maskTime, pitchShift, warpMel, type ChannelAugment } from './augment.js';
import { createRng } from '../util/rng.js';

/** min/mean/median/max/std of a list of numbers (NaN for an empty list). */
export interface Stats {
  n: number;
  min: number;
  mean: number;
  median: number;
  max: number;
  /** Population standard deviation (numpy's default). */
  std: number;
  total: number;
}

/** Summary statistics of `values`. */
export function describeValues(values: readonly number[]): Stats {
  const n = values.length;
  if (n === 0) return { n: 0, min: NaN, mean: NaN, median: NaN, max: NaN, std: NaN, total: 0 };
  const s = [...values].sort((a, b) => a - b);
  const total = s.reduce((a, b) => a + b, 0);
  const mean = total / n;
  const median = n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
  const std = Math.sqrt(s.reduce((a, v) => a + (v - mean) ** 2, 0) / n);
  return { n, min: s[0] as number, mean, median, max: s[n - 1] as number, std, total };
}

export interface ExploreOptions extends ScanOptions {
  /** Show a progress bar on stderr while decoding (default true). */
  progress?: boolean;
  /** Feature parameters for the log-mel images (default: the study's, without preprocessing). */
  features?: Partial<FeatureParams>;
  /** Decoder (tests); default the project's loader. */
  load?: (path: string) => Promise<AudioData>;
  /** Add a gallery of one file's log-mel under each augmentation (seeded). */
  augmentExamples?: boolean;
  /** Seed of the augmentation gallery. */
  seed?: number;
  /** Channel augmentation to show op by op in the gallery (a recipe's `offlineAugment.channel`). */
  channel?: ChannelAugment | null;
}

export interface ExploreResult {
  /** Absolute path of index.html. */
  html: string;
  corpus: ProbedCorpus;
  /** Duration statistics per label, plus 'all'. */
  durations: Record<string, Stats>;
  /** Files written (relative to the output folder). */
  files: string[];
}

/** Labels in the study's order first, then any others alphabetically. */
function orderLabels(labels: Iterable<string>): string[] {
  const set = new Set(labels);
  const known = EMOTIONS.filter((e) => set.has(e));
  const rest = [...set].filter((l) => !(EMOTIONS as readonly string[]).includes(l)).sort();
  return [...known, ...rest];
}

function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** The item whose duration is closest to its label's median (ties: first by path). */
function representative(items: ProbedItem[]): ProbedItem | null {
  if (items.length === 0) return null;
  const med = describeValues(items.map((i) => i.duration)).median;
  let best = items[0] as ProbedItem;
  for (const it of items) if (Math.abs(it.duration - med) < Math.abs(best.duration - med)) best = it;
  return best;
}

/**
 * An SVG figure of a log-mel spectrogram: the PNG (magma, low frequencies at the bottom)
 * embedded as a data URI, with a time axis (s), a frequency axis (Hz at mel positions) and a dB
 * colour bar.
 */
export function spectrogramFigure(spec: Spectrogram, sampleRate: number, hopLength: number, fmin: number, fmax: number, title = ''): string {
  const png = spectrogramPng(spec, { colormap: 'magma' });
  const b64 = Buffer.from(png).toString('base64');
  const plot = { x: 64, y: title ? 30 : 10, w: 400, h: 200 };
  const width = plot.x + plot.w + 90;
  const height = plot.y + plot.h + 46;
  let lo = Infinity, hi = -Infinity;
  for (const v of spec.data) { if (v < lo) lo = v; if (v > hi) hi = v; }
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`;
  s += `<rect width="${width}" height="${height}" fill="#fff"/>`;
  if (title) s += `<text x="${plot.x + plot.w / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(title)}</text>`;
  s += `<image x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,${b64}"/>`;
  s += `<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#444"/>`;
  const duration = (spec.frames * hopLength) / sampleRate;
  for (const t of niceTicks(0, duration, 6)) {
    if (t > duration) continue;
    const x = plot.x + (t / duration) * plot.w;
    s += `<line x1="${x.toFixed(1)}" y1="${plot.y + plot.h}" x2="${x.toFixed(1)}" y2="${plot.y + plot.h + 4}" stroke="#444"/>`;
    s += `<text x="${x.toFixed(1)}" y="${plot.y + plot.h + 16}" text-anchor="middle">${t}</text>`;
  }
  s += `<text x="${plot.x + plot.w / 2}" y="${plot.y + plot.h + 34}" text-anchor="middle">time (s)</text>`;
  const m0 = hzToMel(fmin), m1 = hzToMel(fmax);
  for (const hz of [0, 500, 1000, 2000, 4000, 8000, 16000]) {
    if (hz < fmin || hz > fmax) continue;
    const y = plot.y + plot.h - ((hzToMel(hz) - m0) / (m1 - m0)) * plot.h;
    s += `<line x1="${plot.x - 4}" y1="${y.toFixed(1)}" x2="${plot.x}" y2="${y.toFixed(1)}" stroke="#444"/>`;
    s += `<text x="${plot.x - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${hz >= 1000 ? hz / 1000 + 'k' : hz}</text>`;
  }
  const cy = plot.y + plot.h / 2;
  s += `<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">frequency (Hz, mel scale)</text>`;
  // colour bar
  const lut = colormapLut('magma');
  const cbx = plot.x + plot.w + 14;
  const steps = 32;
  for (let i = 0; i < steps; i++) {
    const k = Math.round(((i + 0.5) / steps) * 255) * 3;
    const y = plot.y + plot.h - ((i + 1) / steps) * plot.h;
    s += `<rect x="${cbx}" y="${y.toFixed(2)}" width="12" height="${(plot.h / steps + 0.5).toFixed(2)}" fill="rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]})"/>`;
  }
  if (Number.isFinite(lo) && hi > lo) {
    for (const v of niceTicks(lo, hi, 4)) {
      if (v < lo || v > hi) continue;
      const y = plot.y + plot.h - ((v - lo) / (hi - lo)) * plot.h;
      s += `<text x="${cbx + 16}" y="${(y + 4).toFixed(1)}">${v}</text>`;
    }
  }
  s += `<text x="${cbx + 6}" y="${plot.y - 4}" text-anchor="middle">dB</text>`;
  return s + '</svg>';
}

/**
 * Log-mel figures of one file under each augmentation op exactly as training applies it (data/augment.ts):
 * the study's ops (waveform pitch shift, dB noise, frequency / time masks, mel-axis warp) and, when
 * `channel` is given (a recipe's `offlineAugment.channel`), each channel op alone with that recipe's ranges.
 */
async function augmentationGallery(
  path: string,
  load: (p: string) => Promise<AudioData>,
  fp: FeatureParams,
  seed: number,
  channel: ChannelAugment | null,
  babblePaths: readonly string[],
): Promise<Array<{ name: string; svg: string }>> {
  const audio = await load(path);
  const sr = audio.sampleRate;
  const y = audio.samples;
  const rng = createRng(seed);
  const srOut = fp.sampleRate ?? sr;
  const fmax = fp.fmax ?? srOut / 2;
  const fig = (spec: Spectrogram, name: string) => {
    const mel: Spectrogram = { data: spec.data.subarray(0, fp.nMels * spec.frames), nMels: fp.nMels, frames: spec.frames };
    return { name, svg: spectrogramFigure(mel, srOut, fp.hopLength, fp.fmin, fmax, name) };
  };
  const out = [
    fig(extractFeatures(audio, fp), 'original'),
    fig(extractFeatures({ ...audio, samples: pitchShift(y, sr, 4) }, fp), 'study: pitch shift +4 semitones (waveform)'),
    fig(extractFeatures({ ...audio, samples: pitchShift(y, sr, -4) }, fp), 'study: pitch shift −4 semitones (waveform)'),
  ];
  const base = extractFeatures(audio, fp);
  const melBase = (): Spectrogram => ({ data: base.data.slice(0, fp.nMels * base.frames), nMels: fp.nMels, frames: base.frames });
  out.push(fig(addNoiseDb(melBase(), 0.01, rng), 'study: noise, std 0.01 dB'));
  out.push(fig(maskTime(maskFrequency(melBase(), 40, 30), Math.floor(base.frames / 3), 50), 'study: frequency + time mask (set to 0 dB)'));
  out.push(fig(warpMel(melBase(), 2 ** (2 / 12), fp.fmin, fmax), 'mel-axis warp +2 semitones'));
  if (channel) {
    const pool: Float32Array[] = [];
    for (const p of babblePaths) {
      const a = await load(p);
      if (a.sampleRate === sr) pool.push(a.samples);
    }
    for (const op of CHANNEL_OPS) {
      if (!channel[op]) continue;
      const w = applyChannelOp(op, y, sr, channel, createRng(`${seed}/${op}`), pool);
      out.push(fig(extractFeatures({ ...audio, samples: w }, fp), `channel: ${op}`));
    }
  }
  return out;
}

const CSS = `
body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1120px;color:#222;padding:0 16px}
h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
p.sub{color:#555;margin-top:0}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ddd;padding:4px 10px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:12px}.grid figure{margin:0}
figure figcaption{font-size:12px;color:#555;text-align:center}
.ok{color:#096}.warn{color:#b50}
code{background:#f4f4f4;padding:1px 4px;border-radius:3px;white-space:nowrap}
.summary span{display:inline-block;margin-right:24px;font-size:15px}
`;

function table(head: string[], rows: string[][], leftCols = 1): string {
  const th = head.map((h, i) => `<th${i < leftCols ? ' class="l"' : ''}>${h}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c, i) => `<td${i < leftCols ? ' class="l"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

/**
 * Scans and decodes a corpus and writes the exploration report to `outDir` (index.html +
 * img/*.svg|png). Returns what it found.
 */
export async function exploreCorpus(dataDir: string, outDir: string, opts: ExploreOptions = {}): Promise<ExploreResult> {
  const scanned: Corpus = scanCorpus(dataDir, opts);
  const bar = new Progress({ total: scanned.items.length, label: 'decoding', unit: 'files', enabled: opts.progress ?? true });
  const load = opts.load ?? loadAudioFile;
  const corpus = await probeCorpus(scanned, { load, onProgress: (done) => bar.update(done) });
  bar.finish();
  const items = corpus.items;
  const labels = orderLabels(items.map((i) => i.label));
  const speakers = [...new Set(items.map((i) => i.speaker ?? '(none)'))].sort(compareIds);
  const files: string[] = [];
  const write = async (rel: string, data: string | Uint8Array): Promise<string> => {
    await writeFileAtomic(join(outDir, rel), data);
    files.push(rel);
    return rel;
  };

  // counts
  const perLabel = labels.map((l) => items.filter((i) => i.label === l).length);
  const perSpeaker = speakers.map((s) => items.filter((i) => (i.speaker ?? '(none)') === s).length);
  const imgLabels = await write('img/files-per-emotion.svg', barChart(labels, perLabel, { title: 'Files per emotion', yLabel: 'files' }));
  const imgSpeakers = await write('img/files-per-speaker.svg', barChart(speakers.map((s) => `${s}`), perSpeaker, { title: 'Files per speaker', yLabel: 'files', xLabel: 'speaker', color: '#0072B2' }));

  // durations
  const durations: Record<string, Stats> = { all: describeValues(items.map((i) => i.duration)) };
  for (const l of labels) durations[l] = describeValues(items.filter((i) => i.label === l).map((i) => i.duration));
  const dAll = durations.all as Stats;
  const dmin = Number.isFinite(dAll.min) ? Math.floor(dAll.min) : 0;
  const dmax = Number.isFinite(dAll.max) ? Math.ceil(dAll.max) : 1;
  const bins = Math.max(5, Math.min(40, Math.round((dmax - dmin) / 0.25)));
  const imgHist = await write('img/duration-histogram.svg', histogram(items.map((i) => i.duration), { title: 'Duration of all files', xLabel: 'seconds', bins, min: dmin, max: dmax, width: 640 }));
  const perLabelHist: string[] = [];
  // one count scale for all emotions so their histograms compare at a glance
  const yMax = Math.max(1, ...labels.map((l) => Math.max(...histogramBins(items.filter((i) => i.label === l).map((i) => i.duration), bins, dmin, dmax).counts)));
  for (const [k, l] of labels.entries()) {
    perLabelHist.push(await write(`img/duration-${k}-${l.replace(/[^a-z0-9_-]/gi, '_')}.svg`, histogram(items.filter((i) => i.label === l).map((i) => i.duration), { title: l, xLabel: 'seconds', bins, min: dmin, max: dmax, width: 360, height: 240, color: colorAt(k), yMax })));
  }

  // examples: the file closest to the median duration of each emotion
  const fp = featureParams({ preprocess: 'none', ...opts.features });
  const examples: Array<{ label: string; item: ProbedItem; wave: string; mel: string; melPng: string } | { label: string; item: ProbedItem; error: string }> = [];
  for (const [k, l] of labels.entries()) {
    const item = representative(items.filter((i) => i.label === l));
    if (!item) continue;
    const safe = `${k}-${l.replace(/[^a-z0-9_-]/gi, '_')}`;
    try {
      const audio = await load(item.path);
      const wave = await write(`img/waveform-${safe}.svg`, waveform(audio.samples, audio.sampleRate, { title: `${l}: ${fileName(item.path)}`, width: 500, height: 246, yLabel: 'amplitude', color: colorAt(k) }));
      const spec = extractFeatures(audio, fp);
      const melOnly: Spectrogram = { data: spec.data.subarray(0, fp.nMels * spec.frames), nMels: fp.nMels, frames: spec.frames };
      const sr = fp.sampleRate ?? audio.sampleRate;
      const fmax = fp.fmax ?? sr / 2;
      const melPng = await write(`img/logmel-${safe}.png`, spectrogramPng(melOnly, { scaleY: 2 }));
      const mel = await write(`img/logmel-${safe}.svg`, spectrogramFigure(melOnly, sr, fp.hopLength, fp.fmin, fmax, `${l}: log-mel (${fp.nMels} bands, dB)`));
      examples.push({ label: l, item, wave, mel, melPng });
    } catch (e) {
      examples.push({ label: l, item, error: (e as Error).message });
    }
  }

  // HTML
  const totalMin = dAll.total / 60;
  const rates = [...new Set(items.map((i) => i.sampleRate))].sort((a, b) => a - b);
  const channels = [...new Set(items.map((i) => i.channels))].sort((a, b) => a - b);
  let h = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Corpus exploration: ${escapeXml(fileName(corpus.root))}</title><style>${CSS}</style></head><body>`;
  h += `<h1>Corpus exploration</h1><p class="sub"><code>${escapeXml(corpus.root)}</code> — format <b>${corpus.format}</b></p>`;
  h += `<p class="summary"><span><b id="n-files">${items.length}</b> usable files</span><span><b>${labels.length}</b> emotions</span><span><b>${speakers.length}</b> speakers</span><span><b>${fmt(totalMin, 1)}</b> minutes</span><span class="${corpus.problems.length ? 'warn' : 'ok'}"><b id="n-skipped">${corpus.problems.length}</b> skipped</span></p>`;
  const takes = items.filter((i) => i.take).length;
  h += `<p>Sample rates: ${rates.map((r) => `${r} Hz`).join(', ') || '–'}; source channels: ${channels.join(', ') || '–'}${takes ? `; ${takes} file(s) are repeated takes (a letter after the actor number)` : ''}.</p>`;

  h += `<h2>Files per emotion and per speaker</h2><div class="grid"><figure><img src="${imgLabels}" alt="files per emotion"></figure><figure><img src="${imgSpeakers}" alt="files per speaker"></figure></div>`;
  const crossRows = speakers.map((s) => {
    const mine = items.filter((i) => (i.speaker ?? '(none)') === s);
    return [escapeXml(s), ...labels.map((l) => String(mine.filter((i) => i.label === l).length)), String(mine.length), fmt(describeValues(mine.map((i) => i.duration)).total / 60, 1)];
  });
  crossRows.push(['<b>all</b>', ...perLabel.map((n) => `<b>${n}</b>`), `<b>${items.length}</b>`, `<b>${fmt(totalMin, 1)}</b>`]);
  h += `<p>Files per speaker and emotion:</p>` + table(['speaker', ...labels.map(escapeXml), 'all', 'minutes'], crossRows);
  const ex = Object.entries(corpus.excluded);
  if (ex.length) h += `<p>Left out by the label map: ${ex.map(([l, n]) => `${escapeXml(l)} ${n}`).join(', ')}.</p>`;

  h += `<h2>Durations</h2><figure><img src="${imgHist}" alt="duration histogram"></figure>`;
  h += `<div class="grid">${perLabelHist.map((p, i) => `<figure><img src="${p}" alt="durations ${escapeXml(labels[i] as string)}"></figure>`).join('')}</div>`;
  const statRows = [...labels, 'all'].map((l) => {
    const d = durations[l] as Stats;
    return [l === 'all' ? '<b>all</b>' : escapeXml(l), String(d.n), fmt(d.min), fmt(d.mean), fmt(d.median), fmt(d.max), fmt(d.std), fmt(d.total / 60, 1)];
  });
  h += `<p>Duration statistics (seconds; std is the population standard deviation):</p>` + table(['emotion', 'files', 'min', 'mean', 'median', 'max', 'std', 'total (min)'], statRows);

  h += `<h2>One example per emotion</h2><p>The file whose duration is closest to its emotion's median. Log-mel: ${fp.nMels} mel bands, n_fft ${fp.nFft}, hop ${fp.hopLength}, fmax ${fp.fmax ?? 'sr/2'} Hz, power_to_db(ref=max, top_db ${fp.topDb}), no preprocessing.</p>`;
  for (const e of examples) {
    h += `<h3>${escapeXml(e.label)} — <code>${escapeXml(fileName(e.item.path))}</code> (speaker ${escapeXml(e.item.speaker ?? '?')}, ${fmt(e.item.duration)} s)</h3>`;
    if ('error' in e) h += `<p class="warn">Could not draw this file: ${escapeXml(e.error)}</p>`;
    else h += `<div class="grid"><figure><img src="${e.wave}" alt="waveform ${escapeXml(e.label)}"></figure><figure><img src="${e.mel}" alt="log-mel ${escapeXml(e.label)}"><figcaption><a href="${e.melPng}">raw PNG</a></figcaption></figure></div>`;
  }

  if (opts.augmentExamples && examples.length > 0) {
    const first = examples.find((e) => !('error' in e));
    if (first) {
      h += `<h2>Augmentation examples</h2><p>One file (<code>${escapeXml(fileName(first.item.path))}</code>) under each augmentation op of <code>src/data/augment.ts</code>, exactly as training applies it (seed ${opts.seed ?? 42})${opts.channel ? '; the channel ops with the ranges of the recipe shown' : ''}. Waveform and channel ops run before the log-mel; masks, noise and warping act on the dB spectrogram. Note: with <code>power_to_db(ref=max)</code> the loudest cell is 0 dB, so the study's masks "set to 0" paint the band at full loudness, not silence.</p><div class="grid">`;
      const others = examples.filter((e) => !('error' in e) && e !== first).slice(0, 6).map((e) => e.item.path);
      const gallery = await augmentationGallery(first.item.path, load, fp, opts.seed ?? 42, opts.channel ?? null, others);
      for (const [k, g] of gallery.entries()) {
        const rel = await write(`img/augment-${k}-${g.name.replace(/[^a-z0-9]+/gi, '_')}.svg`, g.svg);
        h += `<figure><img src="${rel}" alt="${escapeXml(g.name)}"></figure>`;
      }
      h += `</div>`;
    }
  }

  h += `<h2 id="skipped">Skipped files (${corpus.problems.length})</h2>`;
  if (corpus.problems.length === 0) h += `<p class="ok">None: every audio file was usable.</p>`;
  else {
    h += table(['file', 'reason', 'details'], corpus.problems.map((p) => [`<code>${escapeXml(fileName(p.path))}</code>`, p.reason, escapeXml(p.message)]), 3);
  }
  h += `<p class="sub">Written by <code>ser explore</code>.</p></body></html>\n`;
  const html = join(outDir, 'index.html');
  await writeFileAtomic(html, h);
  files.push('index.html');
  return { html, corpus, durations, files };
}
