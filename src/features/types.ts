/**
 * A spectrogram-like feature matrix: `data` is row-major with `nMels` rows (mel bands, or
 * feature rows) and `frames` columns — librosa's layout, and the same memory as a tfjs
 * tensor of shape [nMels, frames].
 */
export interface Spectrogram {
  data: Float32Array;
  nMels: number;
  frames: number;
}
