/**
 * The feature pipeline: audio → (resample) → (seed preprocessing: noise reduction + peak
 * normalisation) → log-mel [nMels][frames] (+ optional MFCC / delta rows).
 */
import type { AudioData } from '../audio/types.js';
import { reduceNoise } from '../audio/denoise.js';
import { peakNormalize } from '../audio/normalize.js';
import { resample } from '../audio/resample.js';
import { SerError } from '../util/errors.js';
import { spectrogramToDb } from './db.js';
import { delta, melSpectrogram, mfcc, stackRows } from './melspec.js';
import { DEFAULT_FEATURE_PARAMS, type FeatureParams } from './params.js';
import type { Spectrogram } from './types.js';
import { stackColumns } from './reshape.js';
import { pitchTrack, type PitchTrack } from './pitch.js';
import { MODULATION_GROUPS, noiseFloor, utteranceStats } from './utterance.js';

/** Version of the feature computation; bump when outputs change for the same parameters. */
export const FEATURES_VERSION = 1;

function bad(field: string, why: string): never {
  throw new SerError('features/bad-param', `feature parameter ${field}: ${why}`);
}

/** Checks every field of `params`; throws a SerError naming the first bad field. */
export function validateFeatureParams(p: FeatureParams): void {
  const posInt = (f: keyof FeatureParams, v: unknown) => { if (!Number.isInteger(v) || (v as number) < 1) bad(f, `must be a positive integer, got ${String(v)}`); };
  if (p.sampleRate !== null && !(Number.isFinite(p.sampleRate) && p.sampleRate > 0)) bad('sampleRate', `must be null or a positive number, got ${String(p.sampleRate)}`);
  posInt('nFft', p.nFft);
  if ((p.nFft & (p.nFft - 1)) !== 0 || p.nFft < 4) bad('nFft', `must be a power of two >= 4, got ${p.nFft}`);
  posInt('hopLength', p.hopLength);
  if (p.winLength !== null) { posInt('winLength', p.winLength); if (p.winLength > p.nFft) bad('winLength', `must be <= nFft (${p.nFft}), got ${p.winLength}`); }
  if (p.window !== 'hann') bad('window', `only 'hann' is supported, got ${String(p.window)}`);
  if (p.padMode !== 'constant' && p.padMode !== 'reflect') bad('padMode', `must be 'constant' or 'reflect', got ${String(p.padMode)}`);
  if (!(p.power > 0)) bad('power', `must be positive, got ${String(p.power)}`);
  posInt('nMels', p.nMels);
  if (!(p.fmin >= 0)) bad('fmin', `must be >= 0, got ${String(p.fmin)}`);
  if (p.fmax !== null && !(p.fmax > p.fmin)) bad('fmax', `must be null or > fmin (${p.fmin}), got ${String(p.fmax)}`);
  if (p.norm !== null && p.norm !== 'slaney') bad('norm', `must be 'slaney' or null, got ${String(p.norm)}`);
  if (p.ref !== 'max' && !(typeof p.ref === 'number' && p.ref > 0)) bad('ref', `must be 'max' or a positive number, got ${String(p.ref)}`);
  if (!(p.amin > 0)) bad('amin', `must be positive, got ${String(p.amin)}`);
  if (p.topDb !== null && !(p.topDb >= 0)) bad('topDb', `must be null or >= 0, got ${String(p.topDb)}`);
  if (p.preprocess !== 'seed' && p.preprocess !== 'seed-stationary' && p.preprocess !== 'none') bad('preprocess', `must be 'seed', 'seed-stationary' or 'none', got ${String(p.preprocess)}`);
  if (!(Number.isInteger(p.mfcc) && p.mfcc >= 0 && p.mfcc <= p.nMels)) bad('mfcc', `must be an integer in 0..nMels (${p.nMels}), got ${String(p.mfcc)}`);
  if (p.deltas !== 0 && p.deltas !== 1 && p.deltas !== 2) bad('deltas', `must be 0, 1 or 2, got ${String(p.deltas)}`);
  if (p.deltas > 0 && p.mfcc === 0) bad('deltas', 'needs mfcc > 0 (deltas are taken of the MFCC rows)');
  if (p.representation !== undefined && p.representation !== 'logmel' && p.representation !== 'utterance-stats') bad('representation', `must be 'logmel' or 'utterance-stats', got ${String(p.representation)}`);
  if (p.statsBands !== undefined && !(Number.isInteger(p.statsBands) && p.statsBands >= 1 && p.nMels % p.statsBands === 0)) bad('statsBands', `must be a positive integer dividing nMels (${p.nMels}), got ${String(p.statsBands)}`);
  if (p.statsLevelNorm !== undefined && p.statsLevelNorm !== 'p95' && p.statsLevelNorm !== 'none') bad('statsLevelNorm', `must be 'p95' or 'none', got ${String(p.statsLevelNorm)}`);
  if (p.melWarp !== undefined && !(Number.isFinite(p.melWarp) && p.melWarp > 0)) bad('melWarp', `must be a positive number, got ${String(p.melWarp)}`);
  if (p.statsModulation !== undefined && typeof p.statsModulation !== 'boolean') bad('statsModulation', `must be true or false, got ${String(p.statsModulation)}`);
  if (p.statsModulation && (p.statsBands ?? 32) % MODULATION_GROUPS !== 0) bad('statsModulation', `needs statsBands divisible by ${MODULATION_GROUPS}, got ${p.statsBands ?? 32}`);
}

/**
 * A stable string of every parameter that changes the features (fixed field order, plus the
 * computation version) — the key of the feature cache and what model metadata records.
 */
export function featureKey(params: FeatureParams): string {
  const p = params;
  const parts: Array<[string, unknown]> = [
    ['v', FEATURES_VERSION], ['sr', p.sampleRate], ['nfft', p.nFft], ['hop', p.hopLength], ['win', p.winLength ?? p.nFft],
    ['window', p.window], ['center', p.center], ['pad', p.padMode], ['power', p.power], ['mels', p.nMels], ['fmin', p.fmin],
    ['fmax', p.fmax], ['htk', p.htk], ['norm', p.norm], ['ref', p.ref], ['amin', p.amin], ['topdb', p.topDb],
    ['pre', p.preprocess], ['mfcc', p.mfcc], ['deltas', p.deltas],
  ];
  // optional fields only when they differ from the log-mel default, so existing keys stay the same
  if ((p.representation ?? 'logmel') !== 'logmel') {
    parts.push(['repr', p.representation], ['bands', p.statsBands ?? 32], ['level', p.statsLevelNorm ?? 'p95'], ['stats', 2]);
    if (p.statsModulation) parts.push(['mod', 1]);
  }
  if ((p.melWarp ?? 1) !== 1) parts.push(['warp', p.melWarp]);
  return parts.map(([k, v]) => `${k}=${v === null ? 'null' : String(v)}`).join(';');
}

/** The samples the spectrogram is computed from: resampled and preprocessed per `params`. */
export function preprocessAudio(audio: AudioData, params: FeatureParams = DEFAULT_FEATURE_PARAMS): { samples: Float32Array; sampleRate: number } {
  return preprocess(audio, params, false);
}

/** Reused output of the noise gate for `extractFeatures` (a fresh multi-megabyte array per file costs page faults). */
let denoised = new Float32Array(0);

/**
 * `preprocessAudio`; with `scratch` the returned samples may live in a module buffer that the
 * next call overwrites (only for callers that drop them before then, like `extractFeatures`).
 */
function preprocess(audio: AudioData, params: FeatureParams, scratch: boolean): { samples: Float32Array; sampleRate: number } {
  let y = audio.samples;
  let sr = audio.sampleRate;
  if (params.sampleRate !== null && params.sampleRate !== sr) {
    y = resample(y, sr, params.sampleRate);
    sr = params.sampleRate;
  }
  if (params.preprocess === 'none') return { samples: y, sampleRate: sr };
  let into: Float32Array | null = null;
  if (scratch) {
    if (denoised.length < y.length) denoised = new Float32Array(Math.ceil(y.length * 1.25));
    into = denoised.subarray(0, y.length);
  }
  if (params.preprocess === 'seed') {
    // noisereduce.reduce_noise(y=y, sr=sr, y_noise=y[:sr]): the library's default non-stationary gate
    y = reduceNoise(y, sr, {}, into);
  } else {
    // 'seed-stationary', what the notebook meant: the stationary gate with the first second as the noise profile
    y = reduceNoise(y, sr, { stationary: true, yNoise: y.subarray(0, Math.round(sr)) }, into);
  }
  if (!scratch) return { samples: peakNormalize(y), sampleRate: sr };
  peakNormalizeInPlace(y);
  return { samples: y, sampleRate: sr };
}

/** audio/normalize's `peakNormalize` (y / max|y|, same float32 results) without a new array. */
function peakNormalizeInPlace(y: Float32Array): void {
  let m = 0;
  for (let i = 0; i < y.length; i++) { const a = Math.abs(y[i]!); if (a > m) m = a; }
  if (m === 0 || !Number.isFinite(m)) return;
  for (let i = 0; i < y.length; i++) y[i] = y[i]! / m;
}

/**
 * Audio → log-mel spectrogram [nMels][frames] (rows = mel bands, librosa's layout), with
 * `params.mfcc` MFCC rows (and their deltas) appended when asked. Defaults reproduce the seed
 * study: noise reduction + peak normalisation, then `power_to_db(melspectrogram(y, sr,
 * n_mels=128, fmax=8000), ref=np.max)`.
 */
export function extractFeatures(audio: AudioData, params: FeatureParams = DEFAULT_FEATURE_PARAMS): Spectrogram {
  return requireFinite(computeFeatures(audio, params), audio);
}

/**
 * Utterance statistics of `audio` at each mel-axis / F0 warp factor of `warps` (`melWarp`; test-time warps,
 * `Recipe.testWarps`): one column per factor, in order (`params.melWarp` is replaced). The log-mel and the
 * pitch track are computed once; only the statistics are recomputed per factor.
 */
export function extractWarpViews(audio: AudioData, params: FeatureParams, warps: readonly number[]): Spectrogram {
  if (params.representation !== 'utterance-stats') bad('representation', `test-time warps need utterance-stats features, not '${params.representation}'`);
  if (warps.length === 0) bad('testWarps', 'must list at least one warp factor');
  const inputs = utteranceInputs(audio, params);
  return requireFinite(stackColumns(warps.map((w) => utteranceFeatures(inputs, { ...params, melWarp: w }))), audio);
}

/** Whether `w` is a list of test-time warp factors (`Recipe.testWarps`, metadata `testWarps`): non-empty, positive, finite. */
export function isWarpList(w: unknown): w is number[] {
  return Array.isArray(w) && w.length > 0 && w.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0);
}

/**
 * Features must be finite: audio whose samples are finite but astronomically large (a damaged float WAV, say
 * 1e30) overflows the float32 power spectrum, and NaN features would otherwise become a confident-looking
 * but meaningless prediction. Such input is refused with a clear error instead.
 */
function requireFinite(spec: Spectrogram, audio: AudioData): Spectrogram {
  const d = spec.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      let peak = 0;
      for (let j = 0; j < audio.samples.length; j++) peak = Math.max(peak, Math.abs(audio.samples[j]));
      throw new SerError(
        'features/non-finite',
        `${audio.source}: the features are not finite numbers (the samples reach ${peak.toExponential(2)}, far outside the usual ±1 range)`,
      );
    }
  }
  return spec;
}

function computeFeatures(audio: AudioData, params: FeatureParams): Spectrogram {
  validateFeatureParams(params);
  if (params.representation === 'utterance-stats') return utteranceFeatures(utteranceInputs(audio, params), params);
  const { samples, sampleRate } = preprocess(audio, params, true);
  const minLength = params.center ? 1 : params.nFft;
  if (samples.length < minLength) {
    throw new SerError('features/too-short', `${audio.source}: ${samples.length} samples is too short for features (n_fft ${params.nFft}, center=${params.center})`);
  }
  const mel = melSpectrogram(samples, {
    sr: sampleRate, nFft: params.nFft, hopLength: params.hopLength, winLength: params.winLength, center: params.center,
    padMode: params.padMode, power: params.power, nMels: params.nMels, fmin: params.fmin, fmax: params.fmax, htk: params.htk, norm: params.norm,
  });
  const logMel = spectrogramToDb(mel, { ref: params.ref, amin: params.amin, topDb: params.topDb }, true);
  if (params.mfcc === 0) return logMel;
  const m = mfcc(logMel, params.mfcc);
  const parts = [logMel, m];
  if (params.deltas >= 1) parts.push(delta(m, 1));
  if (params.deltas >= 2) parts.push(delta(m, 2));
  return stackRows(parts);
}

/** What utterance statistics are computed from: the (unwarped) log-mel and the pitch track of the preprocessed audio. */
export interface UtteranceInputs {
  logMel: Spectrogram;
  pitch: PitchTrack;
  /** Frames per second of both (the processing rate / hop length). */
  frameRate: number;
}

/**
 * utterance-stats, step 1: preprocess, log-mel (mel rows only, no MFCC) and pitch track on the
 * peak-normalised samples, same framing. Cheap to reuse for several `melWarp` factors.
 */
export function utteranceInputs(audio: AudioData, params: FeatureParams = DEFAULT_FEATURE_PARAMS): UtteranceInputs {
  validateFeatureParams(params);
  const { samples, sampleRate } = preprocessAudio(audio, params);
  if (samples.length < (params.center ? 1 : params.nFft)) {
    throw new SerError('features/too-short', `${audio.source}: ${samples.length} samples is too short for features (n_fft ${params.nFft}, center=${params.center})`);
  }
  if (!params.center) bad('center', "utterance-stats needs center=true (pitch frames are centred)");
  const mel = melSpectrogram(samples, {
    sr: sampleRate, nFft: params.nFft, hopLength: params.hopLength, winLength: params.winLength, center: params.center,
    padMode: params.padMode, power: params.power, nMels: params.nMels, fmin: params.fmin, fmax: params.fmax, htk: params.htk, norm: params.norm,
  });
  const logMel = spectrogramToDb(mel, { ref: params.ref, amin: params.amin, topDb: params.topDb });
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i] as number));
  const scale = 1 / Math.max(1e-9, peak);
  const y = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) y[i] = (samples[i] as number) * scale;
  const pitch = pitchTrack(y, sampleRate, { frameLength: params.nFft, hopLength: params.hopLength });
  return { logMel, pitch, frameRate: sampleRate / params.hopLength };
}

/** utterance-stats, step 2: the statistics vector as a Spectrogram (nMels = length, frames = 1), with `params.melWarp` applied. */
export function utteranceFeatures(inputs: UtteranceInputs, params: FeatureParams = DEFAULT_FEATURE_PARAMS): Spectrogram {
  const v = utteranceStats(inputs.logMel, inputs.pitch, {
    bands: params.statsBands ?? 32, levelNorm: params.statsLevelNorm ?? 'p95', melWarp: params.melWarp ?? 1,
    modulation: params.statsModulation ?? false, frameRate: inputs.frameRate,
  });
  return { data: v, nMels: v.length, frames: 1 };
}

/**
 * The noise floor (`noiseFloor`) of features computed with `params`, or null when they are not utterance
 * statistics with p95 level normalisation (the calibration's noise covariate needs those).
 */
export function noiseFloorOf(spec: Spectrogram, params: FeatureParams): number | null {
  if (params.representation !== 'utterance-stats' || (params.statsLevelNorm ?? 'p95') !== 'p95' || spec.frames !== 1) return null;
  return noiseFloor(spec.data, params.statsBands ?? 32);
}
