/**
 * Every feature parameter, with the seed study's values as defaults (librosa's defaults for
 * `melspectrogram(y, sr, n_mels=128, fmax=8000)` + `power_to_db(ref=np.max)`).
 */
/**
 * 'seed': the study's noisereduce call (its default non-stationary gate) + peak normalisation;
 * 'seed-stationary': the stationary gate with the first second as the noise profile + peak
 * normalisation; 'none': the raw signal.
 */
export type Preprocess = 'seed' | 'seed-stationary' | 'none';

export interface FeatureParams {
  /** Resample to this rate first; null keeps the file's own rate (librosa `sr=None`). */
  sampleRate: number | null;
  nFft: number;
  hopLength: number;
  /** Window length; null means nFft. */
  winLength: number | null;
  window: 'hann';
  center: boolean;
  padMode: 'constant' | 'reflect';
  /** 1 for magnitude, 2 for power. */
  power: number;
  nMels: number;
  fmin: number;
  /** null means sampleRate / 2. */
  fmax: number | null;
  htk: boolean;
  norm: 'slaney' | null;
  /** powerToDb: reference is the spectrogram's maximum ('max') or a fixed value. */
  ref: 'max' | number;
  amin: number;
  /** null disables the floor. */
  topDb: number | null;
  /** 'seed': noise reduction (first second as noise profile) then peak normalisation. */
  preprocess: Preprocess;
  /** Extra rows appended to the log-mel: none, or MFCC, optionally with deltas. */
  mfcc: number;
  deltas: 0 | 1 | 2;
  /**
   * What `extractFeatures` returns: 'logmel' (default) the spectrogram above; 'utterance-stats' one
   * vector of per-utterance statistics (features/utterance.ts) as a Spectrogram with nMels = its
   * length and frames = 1 (for the `ser-mlp` model).
   */
  representation?: 'logmel' | 'utterance-stats';
  /** utterance-stats: bands after pooling adjacent mel bands (default 32; must divide nMels). */
  statsBands?: number;
  /** utterance-stats: per-utterance level normalisation (default 'p95'). */
  statsLevelNorm?: 'p95' | 'none';
  /** utterance-stats: append the band levels' temporal modulation (`modulationStats`, features/utterance.ts; default false). */
  statsModulation?: boolean;
  /** utterance-stats: mel-axis warp factor applied to the log-mel and F0 before the statistics (default 1 = none; augmentation). */
  melWarp?: number;
}

export const DEFAULT_FEATURE_PARAMS: Readonly<FeatureParams> = Object.freeze({
  sampleRate: null,
  nFft: 2048,
  hopLength: 512,
  winLength: null,
  window: 'hann',
  center: true,
  padMode: 'constant',
  power: 2,
  nMels: 128,
  fmin: 0,
  fmax: 8000,
  htk: false,
  norm: 'slaney',
  ref: 'max',
  amin: 1e-10,
  topDb: 80,
  preprocess: 'seed',
  mfcc: 0,
  deltas: 0,
});

export function featureParams(overrides: Partial<FeatureParams> = {}): FeatureParams {
  return { ...DEFAULT_FEATURE_PARAMS, ...overrides };
}
