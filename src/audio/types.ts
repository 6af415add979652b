/** Decoded audio, always downmixed to mono float32 in [-1, 1]. */
export interface AudioData {
  /** Mono samples (the mean of the source channels). */
  samples: Float32Array;
  /** Samples per second of `samples`. */
  sampleRate: number;
  /** Channel count of the source before downmixing. */
  channels: number;
  /** Where it came from: a path or a name given by the caller (used in error messages). */
  source: string;
}
