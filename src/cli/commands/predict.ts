/**
 * `ser predict FILE… [--model DIR] [--json] [--segments SEC] [--hop SEC]`: the emotion of each file.
 * Directories expand to the audio files inside them; one bad input never stops the others; exit code
 * 1 when any input failed. The batch flags (`--manifest`, `--out`, `--jobs`, `--resume`, `--shard`)
 * and the engine behind them live in ../batch/.
 */
import type { Command } from 'commander';
import type { Prediction, TimelineWindow } from '../../infer/classifier.js';
import { SerError } from '../../util/errors.js';
import { addBatchOptions, runPredictBatch, type BatchFlags } from '../batch/predict.js';

export { AUDIO_EXTENSIONS, expandInputs, type BatchInput as PredictInput } from '../batch/inputs.js';

/** The JSON line of one predicted file. */
export interface PredictLine extends Partial<Prediction> {
  file: string;
  error?: string;
  timeline?: TimelineWindow[];
}

function parseSeconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new SerError('cli/bad-option', `--${name} must be a positive number of seconds, got "${v}"`);
    return n;
  };
}

function parseConfidence(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new SerError('cli/bad-option', `--min-confidence must be a number between 0 and 1, got "${v}"`);
  return n;
}

function human(line: PredictLine): string {
  if (line.error) return `${line.file}: ERROR ${line.error}`;
  const probs = Object.entries(line.probabilities ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`)
    .join('  ');
  const conf = line.confidence !== undefined ? `, confidence ${(line.confidence * 100).toFixed(0)}%` : '';
  let s = `${line.file}: ${line.emotion} (${line.durationSec?.toFixed(2)} s${conf})  ${probs}`;
  for (const w of line.timeline ?? []) {
    s += `\n  ${w.start.toFixed(2)}–${w.end.toFixed(2)} s  ${w.silent ? '(silence)' : w.emotion}`;
  }
  return s;
}

export function register(program: Command): void {
  const cmd = program
    .command('predict')
    .description('predict the emotion of audio files (folders expand to the audio files inside; glob patterns and manifests for archives)')
    .argument('[files...]', 'audio files, directories or quoted glob patterns')
    .option('--model <dir>', 'model folder (default: the bundled models/default)')
    .option('--json', 'one JSON line per input: {"file","emotion","probabilities","confidence","durationSec"} or {"file","error"}')
    .option('--segments <sec>', 'also predict a timeline of windows of this many seconds', parseSeconds('segments'))
    .option('--hop <sec>', 'hop between timeline windows (default: the window length)', parseSeconds('hop'))
    .option('--min-confidence <p>', 'answer "uncertain" when the top (calibrated) probability is below p (0–1)', parseConfidence, 0);
  addBatchOptions(cmd).action(async (files: string[], opts: BatchFlags & { model?: string; json?: boolean; segments?: number; hop?: number; minConfidence: number }) => {
    if (opts.hop !== undefined && opts.segments === undefined) {
      throw new SerError('cli/bad-option', '--hop needs --segments (the timeline window length)');
    }
    const predictOptions = { minConfidence: opts.minConfidence, ...(opts.segments ? { segments: opts.segments, hop: opts.hop ?? opts.segments } : {}) };
    const summary = await runPredictBatch(files, opts, opts.model, predictOptions, opts.json ? undefined : (l) => human(l as PredictLine));
    process.exitCode = summary.failed > 0 ? 1 : 0;
  });
}
