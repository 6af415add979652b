/**
 * `ser predict FILE… [--model DIR] [--json] [--timeline [--smoothing W] | --segments SEC [--hop SEC]]`: the emotion of
 * each file; `--timeline` (voice activity + one prediction per speech piece) lives in infer/timeline.ts.
 * Directories expand to the audio files inside them; one bad input never stops the others; exit code
 * 1 when any input failed. The batch flags (`--manifest`, `--out`, `--jobs`, `--resume`, `--shard`)
 * and the engine behind them live in ../batch/.
 */
import type { Command } from 'commander';
import type { ClipAnswer } from '../../infer/timeline.js';
import { SerError } from '../../util/errors.js';
import { addBatchOptions, addPredictOptions, predictOptionsOf, runPredictBatch, type BatchFlags, type PredictFlags } from '../batch/predict.js';


/** The JSON line of one predicted file. */
export interface PredictLine extends Partial<ClipAnswer> {
  file: string;
  error?: string;
}

function human(line: PredictLine): string {
  if (line.error) return `${line.file}: ERROR ${line.error}`;
  const probs = Object.entries(line.probabilities ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`)
    .join('  ');
  const conf = line.confidence !== undefined ? `, confidence ${(line.confidence * 100).toFixed(0)}%` : '';
  let s = `${line.file}: ${line.emotion} (${line.durationSec?.toFixed(2)} s${conf})  ${probs}`;
  for (const w of line.timeline?.segments ?? []) {
    s += `\n  ${w.start.toFixed(2)}–${w.end.toFixed(2)} s  ${w.speech ? `${w.emotion} ${((w.confidence ?? 0) * 100).toFixed(0)}%` : '(no speech)'}`;
  }
  return s;
}

export function register(program: Command): void {
  const cmd = program
    .command('predict')
    .description('predict the emotion of audio files (folders expand to the audio files inside; glob patterns and manifests for archives)')
    .argument('[files...]', 'audio files, directories or quoted glob patterns')
    .option('--model <dir>', 'model folder (default: the bundled models/default)')
    .option('--json', 'one JSON line per input: {"file","emotion","probabilities","confidence","durationSec"[,"timeline"]} or {"file","error"}');
  addPredictOptions(cmd);
  addBatchOptions(cmd).action(
    async (files: string[], opts: BatchFlags & PredictFlags & { model?: string; json?: boolean }) => {
      const predictOptions = predictOptionsOf(opts);
      const summary = await runPredictBatch(files, opts, opts.model, predictOptions, opts.json ? undefined : (l) => human(l as PredictLine));
      process.exitCode = summary.failed > 0 ? 1 : 0;
    },
  );
}
