/** One upload → the JSON line of `ser predict --json`; shared by the in-process path and the workers. */
import type { ClassifierCore, TimelineWindow } from '../infer/core.js';
import { decodeAudio } from '../infer/node-deps.js';
import { SerError } from '../util/errors.js';

/** What a prediction request asks for. */
export interface PredictJob {
  bytes: Uint8Array;
  name: string;
  segments?: number;
  hop?: number;
  maxDurationSec: number;
  maxWindows: number;
  /** Below this confidence the emotion is "uncertain" (`?minConfidence=`). */
  minConfidence?: number;
}

/** The JSON answer: the `predict --json` line. */
export interface PredictLineResult {
  file: string;
  emotion: string;
  probabilities: Record<string, number>;
  confidence: number;
  durationSec: number;
  timeline?: TimelineWindow[];
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Decodes, checks the duration limits and predicts. `checkpoint` is called between stages and may
 * throw to abandon the job (deadline passed). SerErrors: `audio/*` from decoding and prediction,
 * `audio/too-long`, `infer/too-many-windows`.
 */
export async function predictLine(clf: ClassifierCore, job: PredictJob, checkpoint: () => void = () => undefined): Promise<PredictLineResult> {
  const audio = await decodeAudio(job.bytes, job.name);
  const durationSec = audio.samples.length / audio.sampleRate;
  if (durationSec > job.maxDurationSec) {
    throw new SerError('audio/too-long', `${job.name}: ${durationSec.toFixed(1)} s of audio is longer than the limit of ${job.maxDurationSec} s`);
  }
  if (job.segments !== undefined && durationSec / (job.hop ?? job.segments) > job.maxWindows) {
    throw new SerError('infer/too-many-windows', `timeline would have more than ${job.maxWindows} windows; use a larger "segments"/"hop"`);
  }
  await yieldToLoop();
  checkpoint();
  const p = await clf.predictAudio(audio, { minConfidence: job.minConfidence ?? 0 });
  checkpoint();
  const line: PredictLineResult = { file: job.name, emotion: p.emotion, probabilities: p.probabilities, confidence: p.confidence, durationSec: p.durationSec };
  if (job.segments !== undefined) {
    await yieldToLoop();
    checkpoint();
    line.timeline = await clf.predictTimeline(audio, { segmentSec: job.segments, hopSec: job.hop ?? job.segments });
    checkpoint();
  }
  return line;
}
