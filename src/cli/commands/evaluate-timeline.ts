/**
 * `ser evaluate-timeline --data DIR [--loso] [--snr DB] [--json]`: how good the voice-activity
 * timeline is on joined recordings of held-out speakers (see src/eval/timeline.ts for the protocol
 * and the figures). With `--loso` a fresh model of `--recipe` (default ser-stats) is trained per
 * held-out speaker on the other speakers with the training code of `ser train`, so every figure is
 * an unseen-speaker figure; the same fold model classifies each utterance alone for the reference
 * (cut from the joined recording, so with the same noise). Without `--loso` the given model (default: bundled) is used for every speaker —
 * honest only for speakers it never heard.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { AudioData } from '../../audio/types.js';
import { loadAudio } from '../../audio/load.js';
import { resample } from '../../audio/resample.js';
import { scanCorpus, type CorpusFormat, type CorpusItem } from '../../data/corpus.js';
import { addScores, figuresOf, joinUtterances, scoreTimeline, TRUTH_RANGE_DB, ZERO_SCORE, type JoinOptions, type TimelineFigures } from '../../eval/timeline.js';
import { featureParams } from '../../features/params.js';
import { Classifier, defaultModelDir } from '../../infer/classifier.js';
import { speechTimeline, type SpeechTimelineOptions } from '../../infer/timeline.js';
import { labelNamesOf, loadFeatures, pitchShiftSource, toLabeledSpecs } from '../../train/dataset.js';
import { train } from '../../train/loop.js';
import { getRecipe, recipeNames } from '../../train/recipes.js';
import { describeError, SerError } from '../../util/errors.js';
import { createProgress } from '../../util/progress.js';
import { createRng } from '../../util/rng.js';
import { intFlag, numFlag } from './train.js';

export interface TimelineEvalOptions extends JoinOptions {
  data: string;
  format?: string;
  /** Model used for every speaker (ignored with `loso`). */
  model?: string;
  /** Train a model per held-out speaker (leave-one-speaker-out). */
  loso?: boolean;
  recipe?: string;
  /** Utterances per joined recording (default 8). */
  perRecording?: number;
  /** Use at most this many utterances per speaker (default all). */
  maxPerSpeaker?: number;
  seed?: number;
  tolSec?: number;
  cache?: string;
  progress?: boolean;
  timeline?: SpeechTimelineOptions;
  /** Where fold models go (default: a temporary folder, removed afterwards). */
  workDir?: string;
}

export interface TimelineEvalReport {
  options: Record<string, unknown>;
  perSpeaker: Array<{ speaker: string; recordings: number } & TimelineFigures>;
  overall: TimelineFigures;
  /** Timeline compute: seconds of audio and of wall time (real-time factor = wall / audio). */
  audioSec: number;
  computeSec: number;
  rtf: number;
}

/** Runs the evaluation (see the module comment). */
export async function runTimelineEval(o: TimelineEvalOptions): Promise<TimelineEvalReport> {
  const seed = o.seed ?? 42;
  const per = o.perRecording ?? 8;
  const corpus = scanCorpus(o.data, o.format ? { format: o.format as CorpusFormat } : {});
  for (const p of corpus.problems) process.stderr.write(`skipped ${p.message}\n`);
  const bySpeaker = new Map<string, CorpusItem[]>();
  for (const it of corpus.items) {
    const s = it.speaker ?? 'unknown';
    bySpeaker.set(s, [...(bySpeaker.get(s) ?? []), it]);
  }
  if (o.loso && bySpeaker.size < 2) throw new SerError('eval/no-speakers', `${o.data}: leave-one-speaker-out needs at least two speakers`);
  const speakers = [...bySpeaker.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const work = o.workDir ?? mkdtempSync(join(tmpdir(), 'ser-tl-eval-'));
  let total = { ...ZERO_SCORE };
  const perSpeaker: TimelineEvalReport['perSpeaker'] = [];
  let audioSec = 0;
  let computeSec = 0;
  let shared: Classifier | null = o.loso ? null : await Classifier.load(o.model ?? defaultModelDir());
  try {
    for (const speaker of speakers) {
      const clf = shared ?? (await trainFold(o, corpus.items, speaker, join(work, `fold-${speaker}`), seed));
      try {
        const rng = createRng(`${seed}/timeline/${speaker}`);
        let items = rng.shuffle([...bySpeaker.get(speaker)!]);
        if (o.maxPerSpeaker) items = items.slice(0, o.maxPerSpeaker);
        items = items.filter((it) => clf.labels.includes(it.label));
        const loaded: Array<{ audio: AudioData; label: string; path: string }> = [];
        const bar = createProgress({ total: items.length, label: `speaker ${speaker}: files`, unit: 'files', enabled: o.progress !== false });
        let rate = 0;
        for (const it of items) {
          try {
            let audio = await loadAudio(it.path);
            rate ||= audio.sampleRate;
            if (audio.sampleRate !== rate) audio = { ...audio, samples: resample(audio.samples, audio.sampleRate, rate), sampleRate: rate };
            loaded.push({ audio, label: it.label, path: it.path });
          } catch (e) {
            process.stderr.write(`skipped ${it.path}: ${describeError(e)}\n`);
          }
          bar.tick();
        }
        bar.finish();
        let sc = { ...ZERO_SCORE };
        let recordings = 0;
        for (let i = 0; i < loaded.length; i += per) {
          const group = loaded.slice(i, i + per);
          const rec = joinUtterances(group, rng, o);
          const t0 = performance.now();
          const tl = await speechTimeline(clf, rec.audio, o.timeline ?? {});
          computeSec += (performance.now() - t0) / 1000;
          audioSec += rec.audio.samples.length / rec.audio.sampleRate;
          // the reference: each utterance cut from the joined recording (so with the same noise) and classified alone
          const right: boolean[] = [];
          for (const u of rec.utterances) {
            const sr = rec.audio.sampleRate;
            const cut = rec.audio.samples.subarray(Math.round(u.fileStart * sr), Math.round(u.fileEnd * sr));
            right.push((await clf.predictAudio({ ...rec.audio, samples: cut, source: u.path })).emotion === u.label);
          }
          sc = addScores(sc, scoreTimeline(rec, tl, right, o.tolSec));
          recordings++;
        }
        total = addScores(total, sc);
        perSpeaker.push({ speaker, recordings, ...figuresOf(sc) });
        if (o.progress !== false) {
          const f = figuresOf(sc);
          process.stderr.write(
            `speaker ${speaker}: speech accuracy ${(100 * f.speechAccuracy).toFixed(1)}% vs one-file ${(100 * f.fileAccuracyTimeWeighted).toFixed(1)}%, ` +
              `gap labelled ${(100 * f.gapLabelled).toFixed(1)}%, boundaries within ${o.tolSec ?? 0.3} s ${(100 * f.boundaryRecall).toFixed(1)}%\n`,
          );
        }
      } finally {
        if (!shared) clf.dispose();
      }
    }
  } finally {
    shared?.dispose();
    shared = null;
    if (!o.workDir) rmSync(work, { recursive: true, force: true });
  }
  return {
    options: {
      data: corpus.root, loso: !!o.loso, recipe: o.loso ? (o.recipe ?? 'ser-stats') : undefined, model: o.loso ? undefined : (o.model ?? 'bundled'),
      perRecording: per, gapMinSec: o.gapMinSec ?? 0.5, gapMaxSec: o.gapMaxSec ?? 1.5, snrDb: o.snrDb ?? null, noiseIn: o.snrDb === undefined ? null : (o.noiseIn ?? 'all'),
      seed, tolSec: o.tolSec ?? 0.3, truthRangeDb: TRUTH_RANGE_DB, timeline: o.timeline ?? {},
    },
    perSpeaker,
    overall: figuresOf(total),
    audioSec,
    computeSec,
    rtf: computeSec / audioSec,
  };
}

/** Trains `recipe` on every speaker but `heldOut` exactly as `ser train` does, and loads the model. */
async function trainFold(o: TimelineEvalOptions, all: CorpusItem[], heldOut: string, out: string, seed: number): Promise<Classifier> {
  const recipe = getRecipe(o.recipe ?? 'ser-stats');
  const params = featureParams(recipe.features);
  const trainItemsRaw = all.filter((it) => (it.speaker ?? 'unknown') !== heldOut);
  const { items, failed } = await loadFeatures(trainItemsRaw, params, { cacheDir: o.cache, progress: o.progress !== false, label: `fold ${heldOut}: features` });
  for (const f of failed) process.stderr.write(`skipped ${f.message}\n`);
  const labelNames = labelNamesOf(items);
  const t0 = performance.now();
  const r = await train(recipe, { ...toLabeledSpecs(items, labelNames), labelNames }, {
    out,
    seed,
    valData: null,
    pitchSource: pitchShiftSource(items, params, o.cache),
    progress: o.progress !== false,
    metadata: { featureParams: params, data: { heldOutSpeaker: heldOut, train: items.length } },
  });
  r.trainer.dispose();
  if (o.progress !== false) process.stderr.write(`fold ${heldOut}: trained ${recipe.name} on ${items.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return Classifier.load(out);
}

interface Flags {
  data: string;
  format?: string;
  model?: string;
  loso?: boolean;
  recipe: string;
  perRecording: number;
  maxPerSpeaker?: number;
  seed: number;
  snr?: number;
  noiseIn: string;
  gapMin: number;
  gapMax: number;
  tolerance: number;
  smoothing: number;
  cache?: string;
  json?: boolean;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command('evaluate-timeline')
    .description('score the voice-activity timeline on joined recordings of each speaker (speech accuracy vs one file at a time, gap time labelled, boundaries)')
    .requiredOption('--data <dir>', 'labelled corpus folder with speakers (AESDD, CSV with a speaker column, ...)')
    .option('--loso', 'leave-one-speaker-out: train a model per held-out speaker (honest unseen-speaker figures)')
    .option('--recipe <name>', `recipe trained per fold with --loso: ${recipeNames().join(', ')}`, 'ser-stats')
    .option('--model <dir>', 'model for every speaker without --loso (default: the bundled one)')
    .option('--per-recording <n>', 'utterances per joined recording', intFlag('per-recording'), 8)
    .option('--max-per-speaker <n>', 'use at most this many utterances per speaker', intFlag('max-per-speaker'))
    .option('--seed <n>', 'random seed (order, gaps, noise, training)', intFlag('seed', 0), 42)
    .option('--snr <db>', 'add white noise at this SNR (dB re speech power)', numFlag('snr', -20, 80))
    .option('--noise-in <where>', 'where the noise goes: all (whole recording) or gaps', 'all')
    .option('--gap-min <sec>', 'shortest gap between utterances', numFlag('gap-min', 0, 60), 0.5)
    .option('--gap-max <sec>', 'longest gap between utterances', numFlag('gap-max', 0, 60), 1.5)
    .option('--tolerance <sec>', 'a true boundary counts as found within this distance', numFlag('tolerance', 0, 10), 0.3)
    .option('--smoothing <w>', 'timeline smoothing weight in [0, 1)', numFlag('smoothing', 0, 0.99), 0)
    .option('--format <name>', 'corpus format (default: auto-detect)')
    .option('--cache <dir>', 'feature cache folder for --loso training')
    .option('--json', 'print the report as one JSON object')
    .option('--no-progress', 'no progress bars')
    .action(async (f: Flags) => {
      if (f.noiseIn !== 'all' && f.noiseIn !== 'gaps') throw new SerError('cli/bad-option', `--noise-in must be "all" or "gaps", got "${f.noiseIn}"`);
      if (f.gapMax < f.gapMin) throw new SerError('cli/bad-option', '--gap-max must be at least --gap-min');
      const report = await runTimelineEval({
        data: f.data, format: f.format, model: f.model, loso: f.loso, recipe: f.recipe, perRecording: f.perRecording,
        maxPerSpeaker: f.maxPerSpeaker, seed: f.seed, snrDb: f.snr, noiseIn: f.noiseIn as 'all' | 'gaps', gapMinSec: f.gapMin,
        gapMaxSec: f.gapMax, tolSec: f.tolerance, cache: f.cache, progress: f.progress, timeline: { smoothing: f.smoothing },
      });
      process.stdout.write(f.json ? JSON.stringify(report) + '\n' : formatTimelineReport(report));
    });
}

/** Plain-text rendering of the report. */
export function formatTimelineReport(r: TimelineEvalReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const row = (name: string, f: TimelineFigures) =>
    `${name.padEnd(10)} ${String(f.files).padStart(5)} ${pct(f.speechAccuracy).padStart(8)} ${pct(f.fileAccuracyTimeWeighted).padStart(8)} ${pct(f.ratio).padStart(7)} ` +
    `${pct(f.gapLabelled).padStart(7)} ${pct(f.boundaryRecall).padStart(7)} ${pct(f.boundaryPrecision).padStart(7)} ${(1000 * f.boundaryMeanErrorSec).toFixed(0).padStart(6)}`;
  return [
    `${'speaker'.padEnd(10)} ${'files'.padStart(5)} ${'timeline'.padStart(8)} ${'one-file'.padStart(8)} ${'ratio'.padStart(7)} ${'gap lab'.padStart(7)} ${'bnd rec'.padStart(7)} ${'bnd prc'.padStart(7)} ${'err ms'.padStart(6)}`,
    ...r.perSpeaker.map((s) => row(s.speaker, s)),
    row('all', r.overall),
    '',
    `timeline: speech-time accuracy; one-file: the same utterances classified one file at a time (speech-time weighted; per file ${pct(r.overall.fileAccuracy)})`,
    `ratio = timeline / one-file; gap lab = share of non-speech time given an emotion; bnd rec/prc = boundaries within ${r.options.tolSec} s (recall / precision)`,
    `timeline compute: ${r.audioSec.toFixed(1)} s of audio in ${r.computeSec.toFixed(2)} s (real-time factor ${r.rtf.toFixed(4)})`,
  ].join('\n') + '\n';
}
