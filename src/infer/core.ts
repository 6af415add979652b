/**
 * The browser-safe part of the Classifier: given a loaded model and its metadata, turn audio into
 * predictions with exactly the training feature code (metadata.featureParams). No node: imports —
 * the web bundle uses this file directly; node-only loading lives in classifier.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { AudioData } from '../audio/types.js';
import type { FeatureParams } from '../features/params.js';
import type { Spectrogram } from '../features/types.js';
import { SerError } from '../util/errors.js';
import { isSilent } from '../audio/normalize.js';
import { extractFeatures, extractWarpViews, isWarpList, noiseFloorOf } from '../features/pipeline.js';
import { stackColumns, timeColumn } from '../features/reshape.js';
import { normalizeSpectrogram } from '../features/normalize.js';
import { endsInSoftmax, makeModelInput, type InferMetadata } from './deps.js';
import { calibrate, needsNoiseFloor, parseCalibration, type Calibration } from '../model/calibration.js';

/** The label a prediction carries when its confidence is below the caller's `minConfidence`. */
export const UNCERTAIN = 'uncertain';

/**
 * One prediction: the most probable emotion (or `'uncertain'` below `minConfidence`), every
 * label's calibrated probability, and the confidence (the top calibrated probability).
 */
export interface Prediction {
  emotion: string;
  probabilities: Record<string, number>;
  confidence: number;
  durationSec: number;
}

/** Options of a prediction. */
export interface PredictOptions {
  /** Below this top probability the emotion is `'uncertain'` (default 0: always a label). */
  minConfidence?: number;
}

/** One window of a timeline; silent windows carry `emotion: null, silent: true` and no probabilities. */
export interface TimelineWindow {
  start: number;
  end: number;
  emotion: string | null;
  probabilities: Record<string, number> | null;
  silent?: true;
}

/** Options of `predictTimeline`: window length and hop in seconds. */
export interface TimelineOptions {
  segmentSec?: number;
  hopSec?: number;
  /** Peak level (dBFS) under which a window counts as silent. */
  silenceDb?: number;
}

/** Peak level under which a clip is "silent" and gets no emotion. */
export const SILENCE_DB = -60;

/** Predicts emotions with a loaded tfjs model; construct with `new ClassifierCore(model, metadata)`. */
export class ClassifierCore {
  readonly labels: string[];
  readonly featureParams: FeatureParams;
  /** Whether the model's outputs are already probabilities (else softmax is applied). */
  private readonly softmax: boolean;
  /** The calibration stored with the model (metadata.calibration), or null. */
  readonly calibration: Calibration | null;
  /** Test-time warps (metadata.testWarps): predictions average the model over these warps of the features; null = none. */
  readonly testWarps: readonly number[] | null;

  constructor(
    readonly model: LayersModel,
    readonly metadata: InferMetadata,
  ) {
    this.labels = metadata.labels;
    this.featureParams = metadata.featureParams;
    this.softmax = endsInSoftmax(model);
    this.calibration = parseCalibration(metadata.calibration);
    const fp = metadata.featureParams;
    this.testWarps = parseTestWarps(metadata.testWarps, fp);
    if (needsNoiseFloor(this.calibration) && (fp.representation !== 'utterance-stats' || (fp.statsLevelNorm ?? 'p95') !== 'p95' || (metadata.normalization ?? 'utterance') !== 'none')) {
      throw new SerError('model/bad-metadata', 'metadata.json: a calibration with a noiseSlope needs utterance-statistics features (p95 level normalisation) without normalisation (it reads their noise floor)');
    }
    const out = model.outputs[0].shape;
    const classes = out[out.length - 1];
    if (typeof classes === 'number' && classes !== this.labels.length) {
      throw new SerError(
        'model/mismatch',
        `model has ${classes} outputs but metadata.json lists ${this.labels.length} labels`,
      );
    }
  }

  /**
   * The normalised feature matrix the model sees for `audio` (same feature code and normalisation as
   * training). With test-time warps: the utterance statistics at each warp, one column per warp.
   */
  features(audio: AudioData): Spectrogram {
    checkAudio(audio, this.minSamples());
    const spec = this.testWarps ? extractWarpViews(audio, this.featureParams, this.testWarps) : extractFeatures(audio, this.featureParams);
    if (spec.frames < 1) throw tooShort(audio);
    const mode = this.metadata.normalization ?? 'utterance';
    if (!this.testWarps) return normalizeSpectrogram(spec, mode);
    // each warp's statistics normalised on their own: each is one input, as training and the robustness run normalise them
    return stackColumns(this.testWarps.map((_, k) => normalizeSpectrogram(timeColumn(spec, k), mode)));
  }

  /** The model's inputs in `spec` (from `features`): each warp's column with test-time warps, else `spec` itself. */
  private views(spec: Spectrogram): Spectrogram[] {
    if (!this.testWarps) return [spec];
    if (spec.frames !== this.testWarps.length) {
      throw new SerError('infer/bad-input', `features of a model with ${this.testWarps.length} test-time warps have one column per warp, got ${spec.frames}`);
    }
    return this.testWarps.map((_, k) => timeColumn(spec, k));
  }

  /** Calibrated probabilities for an already standardised spectrogram, in label order. */
  async probabilitiesOf(spec: Spectrogram): Promise<Float32Array> {
    return this.calibrated(await this.rawProbabilitiesOf(spec), spec);
  }

  /** The stored calibration applied to raw probabilities `raw` of the features `spec` (whose noise floor it may read). */
  calibrated(raw: ArrayLike<number>, spec: Spectrogram): Float32Array {
    // the noise floor of the plain features (warp 1), as the calibration was fitted
    const plain = this.testWarps ? timeColumn(spec, this.testWarps.indexOf(1)) : spec;
    const floor = needsNoiseFloor(this.calibration) ? noiseFloorOf(plain, this.featureParams) ?? undefined : undefined;
    return calibrate(raw, this.calibration, floor);
  }

  /**
   * The model's own softmax probabilities (before calibration) for an already standardised spectrogram;
   * with test-time warps, their mean over the warps.
   */
  async rawProbabilitiesOf(spec: Spectrogram): Promise<Float32Array> {
    const views = this.views(spec);
    if (views.length === 1) return this.rawOfOne(views[0]!);
    const mean = new Float32Array(this.labels.length);
    for (const v of views) {
      const p = await this.rawOfOne(v);
      for (let c = 0; c < mean.length; c++) mean[c]! += p[c]! / views.length;
    }
    return mean;
  }

  private async rawOfOne(spec: Spectrogram): Promise<Float32Array> {
    const input = makeModelInput(this.model, spec, this.metadata);
    const raw = this.model.predict(input) as tf.Tensor;
    const out = this.softmax ? raw : tf.tidy(() => tf.softmax(raw));
    if (out !== raw) raw.dispose();
    try {
      const data = (await out.data()) as Float32Array;
      return Float32Array.from(data.subarray(0, this.labels.length));
    } finally {
      out.dispose();
      if (Array.isArray(input)) input.forEach((t) => t.dispose());
      else input.dispose();
    }
  }

  /** Predicts the emotion of a whole clip. Throws SerError `audio/silent` / `audio/too-short`. */
  async predictAudio(audio: AudioData, opts: PredictOptions = {}): Promise<Prediction> {
    const spec = this.features(audio);
    const probs = await this.probabilitiesOf(spec);
    return { ...this.toLabels(probs, opts.minConfidence), durationSec: audio.samples.length / audio.sampleRate };
  }

  /**
   * Predicts one emotion per window of `segmentSec` every `hopSec` (the last window is clipped to the
   * end of the clip). Windows that are silent or too short are returned with `emotion: null`.
   */
  async predictTimeline(
    audio: AudioData,
    { segmentSec = 3, hopSec = segmentSec, silenceDb = SILENCE_DB }: TimelineOptions = {},
  ): Promise<TimelineWindow[]> {
    if (!(segmentSec > 0) || !(hopSec > 0)) {
      throw new SerError('infer/bad-option', `timeline: segment (${segmentSec}) and hop (${hopSec}) must be > 0 seconds`);
    }
    const sr = audio.sampleRate;
    const n = audio.samples.length;
    const seg = Math.max(1, Math.round(segmentSec * sr));
    const hop = Math.max(1, Math.round(hopSec * sr));
    const out: TimelineWindow[] = [];
    for (let s = 0; s < n; s += hop) {
      const e = Math.min(n, s + seg);
      const samples = audio.samples.subarray(s, e);
      const win: TimelineWindow = { start: s / sr, end: e / sr, emotion: null, probabilities: null };
      if (isSilent(samples, silenceDb) || samples.length < this.minSamples()) {
        win.silent = true;
      } else {
        const p = await this.predictAudio({ ...audio, samples });
        win.emotion = p.emotion;
        win.probabilities = p.probabilities;
      }
      out.push(win);
      if (e >= n) break;
    }
    return out;
  }

  /** Label-keyed probabilities, the arg-max label (`'uncertain'` below `minConfidence`) and its probability. */
  toLabels(probs: ArrayLike<number>, minConfidence = 0): { emotion: string; probabilities: Record<string, number>; confidence: number } {
    const probabilities: Record<string, number> = {};
    let best = 0;
    for (let i = 0; i < this.labels.length; i++) {
      probabilities[this.labels[i]] = probs[i];
      if (probs[i] > probs[best]) best = i;
    }
    const confidence = probs[best];
    return { emotion: confidence < minConfidence ? UNCERTAIN : this.labels[best], probabilities, confidence };
  }

  /** Fewest samples that make one full analysis frame (nFft). */
  minSamples(): number {
    return this.featureParams.winLength ?? this.featureParams.nFft;
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }
}

/** metadata.testWarps checked: absent → null; else positive factors including 1, on utterance-stats features. */
function parseTestWarps(raw: unknown, fp: FeatureParams): readonly number[] | null {
  if (raw === undefined || raw === null) return null;
  if (!isWarpList(raw) || !raw.includes(1)) {
    throw new SerError('model/bad-metadata', `metadata.json: testWarps must be a non-empty list of positive warp factors including 1, got ${JSON.stringify(raw)}`);
  }
  if (fp.representation !== 'utterance-stats') throw new SerError('model/bad-metadata', 'metadata.json: testWarps need utterance-statistics features');
  return Object.freeze([...raw]);
}

function tooShort(audio: AudioData): SerError {
  const ms = ((audio.samples.length / audio.sampleRate) * 1000).toFixed(1);
  return new SerError('audio/too-short', `${audio.source}: the clip is too short (${ms} ms) to make one spectrogram frame`);
}

/** Rejects clips the model cannot judge: empty / too short for one frame, or silent. */
export function checkAudio(audio: AudioData, minSamples = 2048, silenceDb = SILENCE_DB): void {
  if (audio.samples.length === 0 || audio.samples.length < minSamples) throw tooShort(audio);
  if (isSilent(audio.samples, silenceDb)) {
    throw new SerError('audio/silent', `${audio.source}: the audio is silent (peak below ${silenceDb} dBFS); no emotion to predict`);
  }
}

/** Checks a `minConfidence` option: a number in [0, 1]. */
export function checkMinConfidence(p: unknown): number {
  const n = typeof p === 'string' ? Number(p) : p;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new SerError('infer/bad-option', `minimum confidence must be a number between 0 and 1, got ${JSON.stringify(p)}`);
  }
  return n;
}
