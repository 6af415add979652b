/**
 * `ser features FILE [--json] [flags]`: the log-mel spectrogram (and optional MFCC/delta rows) of
 * one audio file; `ser features INPUTS… --out DIR [--manifest …] [--jobs N] [--resume]`: of an
 * archive (../batch/features.ts). Every FeatureParams field has a flag; `addFeatureOptions`/`featureParamsFromFlags`
 * are exported so other commands can offer the same flags.
 */
import type { Command } from 'commander';
import { loadAudio } from '../../audio/load.js';
import { FeatureCache } from '../../features/cache.js';
import { DEFAULT_FEATURE_PARAMS, featureParams, type FeatureParams } from '../../features/params.js';
import { extractFeatures, featureKey, validateFeatureParams } from '../../features/pipeline.js';
import type { Spectrogram } from '../../features/types.js';
import { SerError } from '../../util/errors.js';
import { runFeatureBatch } from '../batch/features.js';
import { addBatchOptions, type BatchFlags } from '../batch/predict.js';

/** The raw option values commander hands over for the feature flags. */
export interface FeatureFlags {
  preprocess?: string;
  sampleRate?: string;
  nFft?: string;
  hopLength?: string;
  winLength?: string;
  center?: boolean;
  padMode?: string;
  power?: string;
  nMels?: string;
  fmin?: string;
  fmax?: string;
  htk?: boolean;
  norm?: string;
  ref?: string;
  amin?: string;
  topDb?: string;
  mfcc?: string;
  deltas?: string;
  representation?: string;
  statsBands?: string;
  statsLevelNorm?: string;
  statsModulation?: boolean;
  melWarp?: string;
}

const D = DEFAULT_FEATURE_PARAMS;

/** Adds one flag per FeatureParams field (defaults = the seed's) to `cmd`. */
export function addFeatureOptions(cmd: Command): Command {
  return cmd
    .option('--preprocess <mode>', "'seed' (noisereduce's default gate + peak normalisation), 'seed-stationary' (stationary gate, first second as noise) or 'none'", D.preprocess)
    .option('--sample-rate <hz>', "resample to this rate first; 'native' keeps the file's rate", 'native')
    .option('--n-fft <n>', 'FFT size', String(D.nFft))
    .option('--hop-length <n>', 'hop between frames (samples)', String(D.hopLength))
    .option('--win-length <n>', "window length; 'n-fft' means the FFT size", 'n-fft')
    .option('--no-center', 'do not centre frames (no n_fft/2 padding)')
    .option('--pad-mode <mode>', "padding for centred frames: 'constant' or 'reflect'", D.padMode)
    .option('--power <p>', '1 magnitude, 2 power', String(D.power))
    .option('--n-mels <n>', 'number of mel bands', String(D.nMels))
    .option('--fmin <hz>', 'lowest mel frequency', String(D.fmin))
    .option('--fmax <hz>', "highest mel frequency; 'nyquist' means sampleRate/2", String(D.fmax))
    .option('--htk', 'HTK mel formula instead of Slaney', D.htk)
    .option('--norm <norm>', "mel filter normalisation: 'slaney' or 'none'", String(D.norm))
    .option('--ref <ref>', "dB reference: 'max' or a positive number", String(D.ref))
    .option('--amin <x>', 'smallest power before log', String(D.amin))
    .option('--top-db <db>', "dynamic range floor below the max; 'none' disables", String(D.topDb))
    .option('--mfcc <n>', 'append n MFCC rows (0 = none)', String(D.mfcc))
    .option('--deltas <n>', 'append delta (1) or delta + delta-delta (2) rows of the MFCCs', String(D.deltas))
    .option('--representation <r>', "'logmel' (default) or 'utterance-stats' (one statistics vector per file)")
    .option('--stats-bands <n>', 'utterance-stats: mel bands after pooling (default 32; must divide --n-mels)')
    .option('--stats-level-norm <mode>', "utterance-stats: level normalisation 'p95' (default) or 'none'")
    .option('--stats-modulation', 'utterance-stats: append the band levels\' temporal modulation (modulation spectrum and level-change spread)')
    .option('--mel-warp <factor>', 'mel-axis warp factor (default 1 = none)');
}

function num(flag: string, v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new SerError('cli/bad-option', `${flag}: expected a number, got "${v}"`);
  return x;
}
function int(flag: string, v: string): number {
  const x = num(flag, v);
  if (!Number.isInteger(x)) throw new SerError('cli/bad-option', `${flag}: expected an integer, got "${v}"`);
  return x;
}

/** Turns the flag values into validated FeatureParams (SerError `cli/bad-option` / `features/bad-param`). */
export function featureParamsFromFlags(o: FeatureFlags): FeatureParams {
  const pre = o.preprocess ?? D.preprocess;
  if (pre !== 'seed' && pre !== 'seed-stationary' && pre !== 'none') throw new SerError('cli/bad-option', `--preprocess: expected 'seed', 'seed-stationary' or 'none', got "${pre}"`);
  const pad = o.padMode ?? D.padMode;
  if (pad !== 'constant' && pad !== 'reflect') throw new SerError('cli/bad-option', `--pad-mode: expected 'constant' or 'reflect', got "${pad}"`);
  const norm = o.norm ?? String(D.norm);
  if (norm !== 'slaney' && norm !== 'none' && norm !== 'null') throw new SerError('cli/bad-option', `--norm: expected 'slaney' or 'none', got "${norm}"`);
  const deltas = int('--deltas', o.deltas ?? String(D.deltas));
  if (deltas !== 0 && deltas !== 1 && deltas !== 2) throw new SerError('cli/bad-option', `--deltas: expected 0, 1 or 2, got "${o.deltas}"`);
  const sr = o.sampleRate ?? 'native';
  const fmax = o.fmax ?? String(D.fmax);
  const topDb = o.topDb ?? String(D.topDb);
  const win = o.winLength ?? 'n-fft';
  const ref = o.ref ?? String(D.ref);
  const p = featureParams({
    preprocess: pre,
    sampleRate: sr === 'native' || sr === 'null' ? null : num('--sample-rate', sr),
    nFft: int('--n-fft', o.nFft ?? String(D.nFft)),
    hopLength: int('--hop-length', o.hopLength ?? String(D.hopLength)),
    winLength: win === 'n-fft' || win === 'null' ? null : int('--win-length', win),
    center: o.center ?? D.center,
    padMode: pad,
    power: num('--power', o.power ?? String(D.power)),
    nMels: int('--n-mels', o.nMels ?? String(D.nMels)),
    fmin: num('--fmin', o.fmin ?? String(D.fmin)),
    fmax: fmax === 'nyquist' || fmax === 'null' ? null : num('--fmax', fmax),
    htk: o.htk ?? D.htk,
    norm: norm === 'slaney' ? 'slaney' : null,
    ref: ref === 'max' ? 'max' : num('--ref', ref),
    amin: num('--amin', o.amin ?? String(D.amin)),
    topDb: topDb === 'none' || topDb === 'null' ? null : num('--top-db', topDb),
    mfcc: int('--mfcc', o.mfcc ?? String(D.mfcc)),
    deltas: deltas as 0 | 1 | 2,
  });
  // optional fields: set only when given, so the default parameters (and their featureKey) stay as they are
  if (o.representation !== undefined) {
    if (o.representation !== 'logmel' && o.representation !== 'utterance-stats') throw new SerError('cli/bad-option', `--representation: expected 'logmel' or 'utterance-stats', got "${o.representation}"`);
    p.representation = o.representation;
  }
  if (o.statsBands !== undefined) p.statsBands = int('--stats-bands', o.statsBands);
  if (o.statsLevelNorm !== undefined) {
    if (o.statsLevelNorm !== 'p95' && o.statsLevelNorm !== 'none') throw new SerError('cli/bad-option', `--stats-level-norm: expected 'p95' or 'none', got "${o.statsLevelNorm}"`);
    p.statsLevelNorm = o.statsLevelNorm;
  }
  if (o.statsModulation) p.statsModulation = true;
  if (o.melWarp !== undefined) p.melWarp = num('--mel-warp', o.melWarp);
  validateFeatureParams(p);
  return p;
}

function rows(S: Spectrogram, from: number, to: number): number[][] {
  const out: number[][] = [];
  for (let r = from; r < to; r++) out.push(Array.from(S.data.subarray(r * S.frames, (r + 1) * S.frames)));
  return out;
}

export function register(program: Command): void {
  const cmd = program
    .command('features')
    .description('log-mel spectrogram of an audio file (rows = mel bands), as JSON or a short summary; with --out DIR, of a whole archive')
    .argument('[files...]', 'audio file (WAV, FLAC, MP3, ...); with --out: files, folders, quoted glob patterns')
    .option('--json', 'print one JSON object {file, sampleRate, nMels, frames, logMel[nMels][frames], ...}')
    .option('--cache [dir]', 'use the on-disk feature cache (default .cache/features)');
  addBatchOptions(cmd, 'batch mode: write DIR/<id>.f32 (float32, nMels × frames) per input and DIR/index.jsonl');
  addFeatureOptions(cmd).action(async (files: string[], o: FeatureFlags & BatchFlags & { json?: boolean; cache?: string | boolean }) => {
    const params = featureParamsFromFlags(o);
    if (o.out !== undefined) {
      const summary = await runFeatureBatch(files, { ...o, out: o.out }, params);
      process.exitCode = summary.failed > 0 ? 1 : 0;
      return;
    }
    if (o.manifest !== undefined || o.resume || o.shard !== undefined) throw new SerError('cli/bad-option', '--manifest, --resume and --shard need --out DIR');
    if (files.length !== 1) throw new SerError('cli/bad-option', `give one audio file (or --out DIR for many), got ${files.length}`);
    const file = files[0]!;
    const t0 = performance.now();
    const audio = await loadAudio(file);
    const S = o.cache
      ? await new FeatureCache(typeof o.cache === 'string' ? { dir: o.cache } : {}).getOrCompute(file, params)
      : extractFeatures(audio, params);
    const ms = performance.now() - t0;
    const sampleRate = params.sampleRate ?? audio.sampleRate;
    const n = params.nMels, m = params.mfcc;
    if (params.representation === 'utterance-stats') {
      if (o.json) process.stdout.write(JSON.stringify({ file, sampleRate, representation: params.representation, length: S.nMels, stats: Array.from(S.data), featureKey: featureKey(params) }) + '\n');
      else console.log(`${file}: utterance-stats vector of ${S.nMels} values; ${ms.toFixed(0)} ms`);
      return;
    }
    if (o.json) {
      const out: Record<string, unknown> = { file, sampleRate, nMels: n, frames: S.frames, logMel: rows(S, 0, n) };
      if (m > 0) out.mfcc = rows(S, n, n + m);
      if (params.deltas >= 1) out.delta = rows(S, n + m, n + 2 * m);
      if (params.deltas >= 2) out.delta2 = rows(S, n + 2 * m, n + 3 * m);
      out.featureKey = featureKey(params);
      process.stdout.write(JSON.stringify(out) + '\n');
      return;
    }
    let lo = Infinity, hi = -Infinity, sum = 0;
    for (let i = 0; i < n * S.frames; i++) { const v = S.data[i]!; if (v < lo) lo = v; if (v > hi) hi = v; sum += v; }
    const dur = audio.samples.length / audio.sampleRate;
    console.log(`${file}: ${dur.toFixed(2)} s at ${audio.sampleRate} Hz (${audio.channels} ch) → ${n} mel bands × ${S.frames} frames` +
      (S.nMels > n ? ` (+${S.nMels - n} MFCC/delta rows)` : '') + ` at ${sampleRate} Hz`);
    console.log(`log-mel dB: min ${lo.toFixed(1)}, max ${hi.toFixed(1)}, mean ${(sum / (n * S.frames)).toFixed(1)}; preprocess ${params.preprocess}; ${ms.toFixed(0)} ms`);
  });
}
