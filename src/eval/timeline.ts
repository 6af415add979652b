/**
 * How good is the timeline, measured honestly (`ser evaluate-timeline`).
 *
 * From a labelled folder, joined recordings are built per speaker: that speaker's utterances in
 * random order with gaps of `gapMin`–`gapMax` s of silence between them, optionally with white
 * noise at a given SNR over the whole recording or only in the gaps. The timeline of each joined
 * recording is scored against the truth:
 *
 *  - truth: every utterance's speech extent — from the first to the last 10-ms frame of the
 *    isolated file within `TRUTH_RANGE_DB` of its loudest frame (an oracle on the clean file
 *    alone, independent of the detector under test); everything else is non-speech;
 *  - speech accuracy: share of true speech time whose timeline label is the utterance's label;
 *  - gap labelled: share of non-speech time that the timeline gives an emotion;
 *  - boundaries: share of true onsets / offsets with a found onset / offset within `tolSec`
 *    (recall), and of found ones near a true one (precision);
 *  - the reference: the same utterances classified one file at a time by the same model
 *    (per file, and weighted by speech time like the timeline).
 *
 * The runner (`cli/commands/evaluate-timeline.ts`) trains a model per held-out speaker with `--loso`.
 */
import type { AudioData } from '../audio/types.js';
import type { Rng } from '../util/rng.js';
import { SerError } from '../util/errors.js';

/**
 * The part of a timeline that is scored (structurally the `Timeline` of infer/timeline.ts, which
 * comes after eval/ in the flow of modules; the runner lives in cli/commands/evaluate-timeline.ts).
 */
export interface ScoredTimeline {
  durationSec: number;
  segments: ReadonlyArray<{ start: number; end: number; speech: boolean; emotion: string | null }>;
}

/** A frame belongs to an utterance's true speech extent when within this many dB of its loudest frame. */
export const TRUTH_RANGE_DB = 40;

/** One utterance inside a joined recording (seconds). */
export interface PlacedUtterance {
  path: string;
  label: string;
  /** Where the file sits. */
  fileStart: number;
  fileEnd: number;
  /** Its true speech extent. */
  start: number;
  end: number;
}

export interface JoinedRecording {
  audio: AudioData;
  utterances: PlacedUtterance[];
}

export interface JoinOptions {
  gapMinSec?: number;
  gapMaxSec?: number;
  /** White noise at this SNR (dB, re the speech's mean power); undefined = none. */
  snrDb?: number;
  /** Where the noise goes: over the whole recording (default) or only in the gaps. */
  noiseIn?: 'all' | 'gaps';
}

/** First and last sample of the frames within `rangeDb` of the loudest 25-ms frame (10-ms hop). */
export function speechExtent(samples: Float32Array, sampleRate: number, rangeDb = TRUTH_RANGE_DB): [number, number] {
  const win = Math.round(0.025 * sampleRate);
  const hop = Math.round(0.01 * sampleRate);
  const levels: number[] = [];
  for (let s = 0; s + win <= samples.length; s += hop) {
    let e = 0;
    for (let i = s; i < s + win; i++) e += samples[i]! * samples[i]!;
    levels.push(10 * Math.log10(e / win + 1e-20));
  }
  if (levels.length === 0) return [0, samples.length];
  const top = Math.max(...levels);
  const first = levels.findIndex((l) => l > top - rangeDb);
  let last = levels.length - 1;
  while (levels[last]! <= top - rangeDb) last--;
  return [first * hop, Math.min(samples.length, last * hop + win)];
}

/** Joins utterances (all at `sampleRate`) with random gaps; optional noise. */
export function joinUtterances(
  utts: ReadonlyArray<{ audio: AudioData; label: string; path: string }>,
  rng: Rng,
  opts: JoinOptions = {},
): JoinedRecording {
  const { gapMinSec = 0.5, gapMaxSec = 1.5, snrDb, noiseIn = 'all' } = opts;
  if (utts.length === 0) throw new SerError('eval/no-data', 'joinUtterances: no utterances');
  const sr = utts[0]!.audio.sampleRate;
  const gaps = utts.map(() => Math.round(rng.uniform(gapMinSec, gapMaxSec) * sr));
  // a gap before the first utterance and after every one
  const total = gaps.reduce((a, b) => a + b, 0) + utts.reduce((a, u) => a + u.audio.samples.length, 0) + Math.round(gapMinSec * sr);
  const samples = new Float32Array(total);
  const placed: PlacedUtterance[] = [];
  let pos = gaps[0]!;
  let speechPower = 0;
  let speechN = 0;
  utts.forEach((u, i) => {
    if (u.audio.sampleRate !== sr) throw new SerError('eval/bad-rate', 'joinUtterances: utterances must share one sample rate');
    samples.set(u.audio.samples, pos);
    const [a, b] = speechExtent(u.audio.samples, sr);
    for (let k = a; k < b; k++) speechPower += u.audio.samples[k]! ** 2;
    speechN += b - a;
    placed.push({ path: u.path, label: u.label, fileStart: pos / sr, fileEnd: (pos + u.audio.samples.length) / sr, start: (pos + a) / sr, end: (pos + b) / sr });
    pos += u.audio.samples.length + (gaps[i + 1] ?? Math.round(gapMinSec * sr));
  });
  if (snrDb !== undefined) {
    const std = Math.sqrt(speechPower / Math.max(1, speechN) / 10 ** (snrDb / 10));
    let k = 0;
    for (let i = 0; i < total; i++) {
      const t = i / sr;
      while (k < placed.length && placed[k]!.fileEnd <= t) k++;
      const inFile = k < placed.length && placed[k]!.fileStart <= t;
      if (noiseIn === 'gaps' && inFile) continue;
      samples[i] = samples[i]! + std * rng.normal();
    }
  }
  return { audio: { samples, sampleRate: sr, channels: 1, source: 'joined' }, utterances: placed };
}

/** Per-recording (or summed) scores; times in seconds. */
export interface TimelineScore {
  speechSec: number;
  speechRightSec: number;
  gapSec: number;
  gapLabelledSec: number;
  trueBoundaries: number;
  trueFound: number;
  foundBoundaries: number;
  foundNearTrue: number;
  /** Mean |found − true| of the matched boundaries (seconds), summed for aggregation. */
  matchedErrorSum: number;
  /** One file at a time: utterances, right ones, and speech seconds of the right ones. */
  files: number;
  filesRight: number;
  fileSpeechRightSec: number;
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

/** Scores a timeline against a joined recording's truth (`fileRight[i]`: utterance i right when classified alone). */
export function scoreTimeline(rec: JoinedRecording, tl: ScoredTimeline, fileRight: readonly boolean[], tolSec = 0.3): TimelineScore {
  const sp = tl.segments.filter((s) => s.speech);
  let speechSec = 0;
  let speechRightSec = 0;
  let coveredTruth = 0;
  for (const u of rec.utterances) {
    speechSec += u.end - u.start;
    for (const s of sp) {
      const o = overlap(u.start, u.end, s.start, s.end);
      coveredTruth += o;
      if (s.emotion === u.label) speechRightSec += o;
    }
  }
  const labelledSec = sp.reduce((a, s) => a + (s.end - s.start), 0);
  const gapSec = tl.durationSec - speechSec;
  // found boundaries: edges between speech and non-speech (cuts inside a region are not boundaries)
  const onsets: number[] = [];
  const offsets: number[] = [];
  sp.forEach((s, i) => {
    if (i === 0 || sp[i - 1]!.end < s.start - 1e-6) onsets.push(s.start);
    if (i === sp.length - 1 || sp[i + 1]!.start > s.end + 1e-6) offsets.push(s.end);
  });
  const trueOn = rec.utterances.map((u) => u.start);
  const trueOff = rec.utterances.map((u) => u.end);
  let trueFound = 0;
  let matchedErrorSum = 0;
  let foundNearTrue = 0;
  for (const [truth, found] of [[trueOn, onsets], [trueOff, offsets]] as const) {
    for (const t of truth) {
      const d = Math.min(Infinity, ...found.map((f) => Math.abs(f - t)));
      if (d <= tolSec) {
        trueFound++;
        matchedErrorSum += d;
      }
    }
    for (const f of found) if (truth.some((t) => Math.abs(f - t) <= tolSec)) foundNearTrue++;
  }
  let filesRight = 0;
  let fileSpeechRightSec = 0;
  rec.utterances.forEach((u, i) => {
    if (fileRight[i]) {
      filesRight++;
      fileSpeechRightSec += u.end - u.start;
    }
  });
  return {
    speechSec,
    speechRightSec,
    gapSec,
    gapLabelledSec: Math.max(0, labelledSec - coveredTruth),
    trueBoundaries: trueOn.length + trueOff.length,
    trueFound,
    foundBoundaries: onsets.length + offsets.length,
    foundNearTrue,
    matchedErrorSum,
    files: rec.utterances.length,
    filesRight,
    fileSpeechRightSec,
  };
}

export function addScores(a: TimelineScore, b: TimelineScore): TimelineScore {
  const out = { ...a };
  for (const k of Object.keys(b) as Array<keyof TimelineScore>) out[k] += b[k];
  return out;
}

export const ZERO_SCORE: TimelineScore = {
  speechSec: 0, speechRightSec: 0, gapSec: 0, gapLabelledSec: 0, trueBoundaries: 0, trueFound: 0, foundBoundaries: 0,
  foundNearTrue: 0, matchedErrorSum: 0, files: 0, filesRight: 0, fileSpeechRightSec: 0,
};

/** Figures derived from a score (shares in [0, 1]). */
export interface TimelineFigures {
  speechAccuracy: number;
  /** One file at a time, weighted by speech time like `speechAccuracy`. */
  fileAccuracyTimeWeighted: number;
  fileAccuracy: number;
  /** speechAccuracy / fileAccuracyTimeWeighted (target ≥ 0.9). */
  ratio: number;
  gapLabelled: number;
  boundaryRecall: number;
  boundaryPrecision: number;
  boundaryMeanErrorSec: number;
  files: number;
  speechSec: number;
  gapSec: number;
}

export function figuresOf(s: TimelineScore): TimelineFigures {
  const speechAccuracy = s.speechRightSec / s.speechSec;
  const fileTw = s.fileSpeechRightSec / s.speechSec;
  return {
    speechAccuracy,
    fileAccuracyTimeWeighted: fileTw,
    fileAccuracy: s.filesRight / s.files,
    ratio: speechAccuracy / fileTw,
    gapLabelled: s.gapLabelledSec / s.gapSec,
    boundaryRecall: s.trueFound / s.trueBoundaries,
    boundaryPrecision: s.foundBoundaries ? s.foundNearTrue / s.foundBoundaries : 0,
    boundaryMeanErrorSec: s.trueFound ? s.matchedErrorSum / s.trueFound : 0,
    files: s.files,
    speechSec: s.speechSec,
    gapSec: s.gapSec,
  };
}

