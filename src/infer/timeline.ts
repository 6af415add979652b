/**
 * Who felt what, when: the timeline of a long recording or a live stream. Browser-safe (no node:
 * imports): the CLI, the server and the web app share it.
 *
 *   speech regions (voice activity, `audio/vad.ts`; long speech cut into pieces of 2.5–6 s, the
 *   length of the single acted utterances the model was trained on)
 *   → one `ClassifierCore.predictAudio` per piece
 *   → segments { start, end, speech, emotion, probabilities, confidence } covering the whole clip
 *     (non-speech stretches: speech false, emotion / probabilities / confidence null)
 *   → the whole-recording answer: speech-time-weighted mean probabilities, and the share of speech
 *     time per emotion. A recording that holds several utterances is never one feature vector.
 *
 * The JSON of `Timeline` is the one schema of `ser predict --timeline --json`, `POST
 * /api/predict?timeline=1` and the web app (README "Timeline JSON"). `ser predict --segments SEC`
 * (fixed windows, no voice activity) gives the same schema with `method: "fixed"`.
 */
import type { AudioData } from '../audio/types.js';
import { VadStream, VAD_DEFAULTS, type SpeechRegion, type VadOptions } from '../audio/vad.js';
import { isSerError, SerError } from '../util/errors.js';
import type { ClassifierCore, Prediction } from './core.js';

/** Version of the timeline JSON schema. */
export const TIMELINE_SCHEMA = 1;

/** One stretch of the timeline. Speech segments carry an emotion; non-speech ones carry nulls. */
export interface TimelineSegment {
  start: number;
  end: number;
  speech: boolean;
  emotion: string | null;
  probabilities: Record<string, number> | null;
  confidence: number | null;
}

/** The timeline of one clip (the `timeline` field of a predict line). */
export interface Timeline {
  schema: typeof TIMELINE_SCHEMA;
  /** `vad`: speech regions; `fixed`: fixed windows (`--segments`). */
  method: 'vad' | 'fixed';
  durationSec: number;
  /** Seconds of speech (sum of speech segments). */
  speechSec: number;
  /** Whole-recording answer: speech-time-weighted mean of the segments' probabilities (null: no speech). */
  emotion: string | null;
  probabilities: Record<string, number> | null;
  confidence: number | null;
  /** Share of speech time per emotion (every label, sums to 1; all 0 without speech). */
  shares: Record<string, number>;
  /** Smoothing weight used (0 = none). */
  smoothing: number;
  segments: TimelineSegment[];
}

/** Options of the voice-activity timeline. */
export interface SpeechTimelineOptions extends VadOptions {
  /**
   * Smoothing across neighbouring speech segments, w in [0, 1): each segment's probabilities become
   * (1 − w) · own + w · mean of its neighbours' (previous and next speech segment less than
   * `smoothGapSec` away). 0 (default) = none. Streams are never smoothed (it would need the future).
   */
  smoothing?: number;
  smoothGapSec?: number;
  /** Called after each classified piece (progress, deadlines); may throw to abandon. */
  onSegment?: (done: TimelineSegment) => void;
}

/** The top probability: the confidence of a prediction (the core's `confidence` when it reports one). */
export function confidenceOf(p: Pick<Prediction, 'probabilities'> & { confidence?: number }): number {
  if (typeof p.confidence === 'number') return p.confidence;
  return Math.max(...Object.values(p.probabilities));
}

function gap(start: number, end: number): TimelineSegment {
  return { start, end, speech: false, emotion: null, probabilities: null, confidence: null };
}

/** Classifies samples [start, end) s of `audio`; a piece the model cannot judge (silent, too short) becomes non-speech. */
async function classifyPiece(clf: ClassifierCore, audio: AudioData, start: number, end: number): Promise<TimelineSegment> {
  const sr = audio.sampleRate;
  const a = Math.max(0, Math.round(start * sr));
  const b = Math.min(audio.samples.length, Math.round(end * sr));
  try {
    const p = await clf.predictAudio({ ...audio, samples: audio.samples.subarray(a, b) });
    return { start, end, speech: true, emotion: p.emotion, probabilities: p.probabilities, confidence: confidenceOf(p) };
  } catch (e) {
    if (isSerError(e) && (e.code === 'audio/silent' || e.code === 'audio/too-short')) return gap(start, end);
    throw e;
  }
}

/** Fills the stretches between speech segments with non-speech segments so the timeline covers [0, duration]. */
function cover(speech: TimelineSegment[], durationSec: number): TimelineSegment[] {
  const out: TimelineSegment[] = [];
  let t = 0;
  for (const s of speech) {
    if (s.start > t + 1e-6) out.push(gap(t, s.start));
    out.push(s);
    t = Math.max(t, s.end);
  }
  if (durationSec > t + 1e-6) out.push(gap(t, durationSec));
  return out;
}

/** Arg-max label of a label-keyed probability record. */
function argmax(p: Record<string, number>): string {
  let best = '';
  for (const [k, v] of Object.entries(p)) if (best === '' || v > p[best]!) best = k;
  return best;
}

/** Smooths speech segments' probabilities with their neighbours (see `SpeechTimelineOptions.smoothing`). */
export function smoothSegments(segments: TimelineSegment[], w: number, maxGapSec = 1): TimelineSegment[] {
  if (!(w > 0)) return segments;
  if (!(w < 1)) throw new SerError('infer/bad-option', `smoothing must be in [0, 1), got ${w}`);
  const sp = segments.filter((s) => s.speech && s.probabilities);
  const smoothed = new Map<TimelineSegment, Record<string, number>>();
  sp.forEach((s, i) => {
    const nb = [sp[i - 1], sp[i + 1]].filter((n): n is TimelineSegment => !!n && Math.max(n.start - s.end, s.start - n.end) < maxGapSec);
    if (nb.length === 0) return;
    const p: Record<string, number> = {};
    for (const k of Object.keys(s.probabilities!)) {
      const m = nb.reduce((a, n) => a + n.probabilities![k]!, 0) / nb.length;
      p[k] = (1 - w) * s.probabilities![k]! + w * m;
    }
    smoothed.set(s, p);
  });
  return segments.map((s) => {
    const p = smoothed.get(s);
    if (!p) return s;
    const emotion = argmax(p);
    return { ...s, probabilities: p, emotion, confidence: p[emotion]! };
  });
}

/** The whole-recording answer and shares from segments (speech-time weighted). */
export function summarizeTimeline(
  segments: TimelineSegment[],
  labels: readonly string[],
  durationSec: number,
  method: Timeline['method'],
  smoothing = 0,
): Timeline {
  const sum: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
  const shares: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
  let speechSec = 0;
  for (const s of segments) {
    if (!s.speech || !s.probabilities || !s.emotion) continue;
    const d = s.end - s.start;
    speechSec += d;
    for (const l of labels) sum[l]! += d * (s.probabilities[l] ?? 0);
    shares[s.emotion] = (shares[s.emotion] ?? 0) + d;
  }
  let probabilities: Record<string, number> | null = null;
  let emotion: string | null = null;
  if (speechSec > 0) {
    probabilities = Object.fromEntries(labels.map((l) => [l, sum[l]! / speechSec]));
    for (const l of labels) shares[l] = shares[l]! / speechSec;
    emotion = argmax(probabilities);
  }
  return {
    schema: TIMELINE_SCHEMA,
    method,
    durationSec,
    speechSec,
    emotion,
    probabilities,
    confidence: emotion && probabilities ? probabilities[emotion]! : null,
    shares,
    smoothing,
    segments,
  };
}

/**
 * The voice-activity timeline of a clip: speech regions (cut to ≤ `maxRegionSec`), one prediction
 * each, the gaps as non-speech, and the whole-recording summary.
 */
export async function speechTimeline(clf: ClassifierCore, audio: AudioData, opts: SpeechTimelineOptions = {}): Promise<Timeline> {
  const { smoothing = 0, smoothGapSec = 1, onSegment, ...vadOpts } = opts;
  if (!(smoothing >= 0 && smoothing < 1)) throw new SerError('infer/bad-option', `smoothing must be in [0, 1), got ${smoothing}`);
  const durationSec = audio.samples.length / audio.sampleRate;
  const vad = new VadStream(audio.sampleRate, vadOpts);
  const regions = [...vad.push(audio.samples), ...vad.flush()];
  const speech: TimelineSegment[] = [];
  for (const r of regions) {
    const seg = await classifyPiece(clf, audio, r.start, Math.min(durationSec, r.end));
    onSegment?.(seg);
    if (seg.speech) speech.push(seg);
  }
  const segments = smoothSegments(cover(speech, durationSec), smoothing, smoothGapSec);
  return summarizeTimeline(segments, clf.labels, durationSec, 'vad', smoothing);
}

/**
 * Fixed windows (`ser predict --segments SEC [--hop SEC]`) in the timeline schema: every window is a
 * segment (overlapping when hop < window); silent windows are non-speech.
 */
export async function fixedTimeline(clf: ClassifierCore, audio: AudioData, segmentSec: number, hopSec = segmentSec): Promise<Timeline> {
  const windows = await clf.predictTimeline(audio, { segmentSec, hopSec });
  const segments: TimelineSegment[] = windows.map((w) =>
    w.emotion && w.probabilities
      ? { start: w.start, end: w.end, speech: true, emotion: w.emotion, probabilities: w.probabilities, confidence: confidenceOf({ probabilities: w.probabilities }) }
      : gap(w.start, w.end),
  );
  // with overlapping windows, weight each by its hop so speech time is not counted twice
  const durationSec = audio.samples.length / audio.sampleRate;
  const t = summarizeTimeline(
    segments.map((s) => ({ ...s, end: Math.min(s.end, s.start + hopSec) })),
    clf.labels,
    durationSec,
    'fixed',
  );
  return { ...t, segments };
}

/** A finished speech segment of a stream, with its latency. */
export interface StreamSegment extends TimelineSegment {
  /**
   * Seconds from the end of the speech (last active frame) to the label: the audio the detector
   * had to hear after it (the pause that closes a region) plus the compute time. For audio arriving
   * in real time this is the wall-clock delay a listener sees.
   */
  latencySec: number;
  /** Wall-clock compute part of the latency (seconds). */
  computeSec: number;
}

/** Options of a stream: the voice-activity options plus the longest audio a stream may carry. */
export interface TimelineStreamOptions extends VadOptions {
  /** Longest stream (seconds of audio); more → SerError `infer/stream-too-long` (0 = unlimited). */
  maxDurationSec?: number;
}

/**
 * A live timeline: `push(samples)` as audio arrives → the speech segments finished by it; `end()` →
 * the last ones and the whole-stream summary. Keeps only the audio of the region being detected.
 */
export class TimelineStream {
  private readonly vad: VadStream;
  private readonly sr: number;
  /** Audio kept: samples [keptFrom, keptFrom + kept.length) of the stream. */
  private kept = new Float32Array(0);
  private keptLen = 0;
  private keptFrom = 0;
  private total = 0;
  private readonly speech: TimelineSegment[] = [];
  private readonly maxSamples: number;
  private readonly pad: number;
  private busy = false;

  constructor(
    private readonly clf: ClassifierCore,
    sampleRate: number,
    opts: TimelineStreamOptions = {},
  ) {
    const { maxDurationSec = 0, ...vadOpts } = opts;
    this.vad = new VadStream(sampleRate, vadOpts);
    this.sr = sampleRate;
    this.maxSamples = maxDurationSec > 0 ? Math.round(maxDurationSec * sampleRate) : Infinity;
    this.pad = vadOpts.padSec ?? VAD_DEFAULTS.padSec;
  }

  /** Seconds of audio received. */
  get receivedSec(): number {
    return this.total / this.sr;
  }

  /** Feeds mono samples; resolves to the speech segments finished by them. Not re-entrant: await each push. */
  async push(samples: Float32Array, receivedAt = performance.now()): Promise<StreamSegment[]> {
    if (this.busy) throw new SerError('infer/stream-busy', 'TimelineStream.push called again before the previous push finished');
    if (this.total + samples.length > this.maxSamples) {
      throw new SerError('infer/stream-too-long', `the stream is longer than the limit of ${(this.maxSamples / this.sr).toFixed(0)} s of audio`);
    }
    this.busy = true;
    try {
      this.append(samples);
      return await this.classify(this.vad.push(samples), receivedAt);
    } finally {
      this.busy = false;
    }
  }

  /** Ends the stream: the segments still open, and the whole-stream timeline (gaps included). */
  async end(receivedAt = performance.now()): Promise<{ segments: StreamSegment[]; timeline: Timeline }> {
    const segments = await this.classify(this.vad.flush(), receivedAt);
    const dur = this.total / this.sr;
    return { segments, timeline: summarizeTimeline(cover(this.speech, dur), this.clf.labels, dur, 'vad') };
  }

  private append(samples: Float32Array): void {
    if (this.keptLen + samples.length > this.kept.length) {
      const next = new Float32Array(Math.max(this.kept.length * 2, this.keptLen + samples.length, 1 << 14));
      next.set(this.kept.subarray(0, this.keptLen));
      this.kept = next;
    }
    this.kept.set(samples, this.keptLen);
    this.keptLen += samples.length;
    this.total += samples.length;
  }

  private async classify(regions: SpeechRegion[], receivedAt: number): Promise<StreamSegment[]> {
    const out: StreamSegment[] = [];
    const heard = this.total / this.sr;
    for (const r of regions) {
      const end = Math.min(heard, r.end);
      const audio: AudioData = { samples: this.kept.subarray(0, this.keptLen), sampleRate: this.sr, channels: 1, source: 'stream' };
      const seg = await classifyPiece(this.clf, audio, r.start - this.keptFrom / this.sr, end - this.keptFrom / this.sr);
      seg.start = r.start;
      seg.end = end;
      if (!seg.speech) continue;
      this.speech.push(seg);
      const computeSec = (performance.now() - receivedAt) / 1000;
      const speechEnd = r.cutEnd ? end : end - this.pad;
      out.push({ ...seg, latencySec: Math.max(0, heard - speechEnd) + computeSec, computeSec });
    }
    // drop audio no future region can need: before the open region (minus padding), or before the last second
    const since = this.vad.openSince;
    const keepSec = since !== null ? since - this.pad - 0.01 : heard - 1;
    const drop = Math.max(0, Math.min(this.keptLen, Math.floor(keepSec * this.sr) - this.keptFrom));
    if (drop > 0) {
      this.kept.copyWithin(0, drop, this.keptLen);
      this.keptLen -= drop;
      this.keptFrom += drop;
    }
    return out;
  }
}

/** What a caller asks for: the voice-activity timeline, fixed windows, or neither. */
export interface TimelineRequest {
  /** Voice-activity timeline (`--timeline`, `?timeline=1`): the whole-file answer comes from its segments. */
  vad?: boolean;
  smoothing?: number;
  /** Fixed windows (`--segments SEC [--hop SEC]`); the whole-file answer stays the one-clip prediction. */
  segmentSec?: number;
  hopSec?: number;
  /** Called after each classified piece (deadlines); may throw. */
  onSegment?: (s: TimelineSegment) => void;
  /** Whole-clip answer below this confidence is "uncertain" (the core's option; not applied to timeline pieces). */
  minConfidence?: number;
}

/** The answer of `ser predict`, `/api/predict` and the web app for one clip. */
export interface ClipAnswer {
  emotion: string;
  probabilities: Record<string, number>;
  confidence: number;
  durationSec: number;
  timeline?: Timeline;
}

/**
 * One clip's answer. With `vad`, the emotion / probabilities / confidence are the timeline's
 * speech-time-weighted summary (SerError `audio/no-speech` when nothing is speech); otherwise the
 * clip is classified whole, plus fixed windows when `segmentSec` is given.
 */
export async function predictClip(clf: ClassifierCore, audio: AudioData, req: TimelineRequest = {}): Promise<ClipAnswer> {
  const durationSec = audio.samples.length / audio.sampleRate;
  if (req.vad) {
    const tl = await speechTimeline(clf, audio, { smoothing: req.smoothing, onSegment: req.onSegment });
    if (!tl.emotion || !tl.probabilities) {
      throw new SerError('audio/no-speech', `${audio.source}: no speech found (${durationSec.toFixed(1)} s of audio)`);
    }
    const uncertain = (req.minConfidence ?? 0) > tl.confidence!;
    return { emotion: uncertain ? 'uncertain' : tl.emotion, probabilities: tl.probabilities, confidence: tl.confidence!, durationSec, timeline: tl };
  }
  const p = await clf.predictAudio(audio, { minConfidence: req.minConfidence ?? 0 });
  const out: ClipAnswer = { emotion: p.emotion, probabilities: p.probabilities, confidence: confidenceOf(p), durationSec: p.durationSec };
  if (req.segmentSec !== undefined) out.timeline = await fixedTimeline(clf, audio, req.segmentSec, req.hopSec ?? req.segmentSec);
  return out;
}
