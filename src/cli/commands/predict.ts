/**
 * `ser predict FILE… [--model DIR] [--json] [--timeline [--smoothing W] | --segments SEC [--hop SEC]]`: the emotion of
 * each file; `--timeline` (voice activity + one prediction per speech piece) lives in infer/timeline.ts.
 * Directories expand to the audio files inside them; one bad input never stops the others; exit code
 * 1 when any input failed.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Classifier } from '../../infer/classifier.js';
import { predictClip, type ClipAnswer } from '../../infer/timeline.js';
import { AUDIO_EXTENSIONS, isAudioFileName, loadAudio } from '../../audio/load.js';
import { describeError, SerError } from '../../util/errors.js';

/** File extensions treated as audio when a directory is expanded. */

/** One input after expansion: a file to predict, or an error to report as-is. */
export type PredictInput = { file: string } | { file: string; error: string };

/** Expands paths: files stay, directories become their audio files (sorted), missing paths become errors. */
export async function expandInputs(paths: string[]): Promise<PredictInput[]> {
  const out: PredictInput[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch {
      out.push({ file: p, error: `${p}: no such file or directory` });
      continue;
    }
    if (!st.isDirectory()) {
      out.push({ file: p });
      continue;
    }
    const names = (await readdir(p, { withFileTypes: true }))
      .filter((d) => d.isFile() && isAudioFileName(d.name))
      .map((d) => d.name)
      .sort();
    if (names.length === 0) out.push({ file: p, error: `${p}: directory holds no audio files (${AUDIO_EXTENSIONS.map((e) => `.${e}`).join(' ')})` });
    for (const n of names) out.push({ file: join(p, n) });
  }
  return out;
}

/** The JSON line of one predicted file. */
export interface PredictLine extends Partial<ClipAnswer> {
  file: string;
  error?: string;
}

function parseSeconds(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new SerError('cli/bad-option', `--${name} must be a positive number of seconds, got "${v}"`);
    return n;
  };
}

function parseFraction(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new SerError('cli/bad-option', `--smoothing must be a number in [0, 1), got "${v}"`);
  return n;
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
  for (const w of line.timeline?.segments ?? []) {
    s += `\n  ${w.start.toFixed(2)}–${w.end.toFixed(2)} s  ${w.speech ? `${w.emotion} ${((w.confidence ?? 0) * 100).toFixed(0)}%` : '(no speech)'}`;
  }
  return s;
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('predict the emotion of audio files (directories expand to the audio files inside)')
    .argument('<files...>', 'audio files or directories')
    .option('--model <dir>', 'model folder (default: the bundled models/default)')
    .option('--json', 'one JSON line per input: {"file","emotion","probabilities","confidence","durationSec"[,"timeline"]} or {"file","error"}')
    .option('--timeline', 'find the speech (voice activity), classify each piece: a timeline; the answer is its speech-time-weighted summary')
    .option('--smoothing <w>', 'with --timeline: blend each segment with its neighbours, weight in [0, 1) (default 0)', parseFraction)
    .option('--segments <sec>', 'also predict a timeline of fixed windows of this many seconds', parseSeconds('segments'))
    .option('--hop <sec>', 'hop between timeline windows (default: the window length)', parseSeconds('hop'))
    .option('--min-confidence <p>', 'answer "uncertain" when the top (calibrated) probability is below p (0–1)', parseConfidence, 0)
    .action(async (files: string[], opts: { model?: string; json?: boolean; segments?: number; hop?: number; timeline?: boolean; smoothing?: number; minConfidence: number }) => {
      if (opts.hop !== undefined && opts.segments === undefined) {
        throw new SerError('cli/bad-option', '--hop needs --segments (the timeline window length)');
      }
      if (opts.timeline && opts.segments !== undefined) throw new SerError('cli/bad-option', '--timeline and --segments exclude each other');
      if (opts.smoothing !== undefined && !opts.timeline) throw new SerError('cli/bad-option', '--smoothing needs --timeline');
      const clf = await Classifier.load(opts.model);
      const inputs = await expandInputs(files);
      let failed = 0;
      for (const input of inputs) {
        let line: PredictLine;
        if ('error' in input) {
          line = input;
        } else {
          try {
            const audio = await loadAudio(input.file);
            const answer = await predictClip(clf, audio, {
              vad: opts.timeline,
              smoothing: opts.smoothing,
              segmentSec: opts.segments,
              hopSec: opts.hop,
              minConfidence: opts.minConfidence,
            });
            line = { file: input.file, ...answer };
          } catch (e) {
            line = { file: input.file, error: describeError(e) };
          }
        }
        if (line.error) failed++;
        process.stdout.write((opts.json ? JSON.stringify(line) : human(line)) + '\n');
      }
      clf.dispose();
      process.exitCode = failed > 0 ? 1 : 0;
    });
}
