/** Level helpers: peak normalisation, RMS, silence detection. */

/** The largest absolute sample value (0 for an empty array). */
export function peak(samples: Float32Array): number {
  let m = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]!);
    if (a > m) m = a;
  }
  return m;
}

/**
 * Peak normalisation `y / max(|y|)` (the seed study's step 3), returned as a new array.
 * All-zero (or empty) input is returned unchanged (a copy), never NaN.
 */
export function peakNormalize(samples: Float32Array): Float32Array {
  const m = peak(samples);
  const out = new Float32Array(samples);
  if (m === 0 || !Number.isFinite(m)) return out;
  // Division (not multiplication by 1/m) so the float32 result matches numpy's `y / np.max(np.abs(y))`.
  for (let i = 0; i < out.length; i++) out[i] = samples[i]! / m;
  return out;
}

/** Root mean square of the samples (0 for an empty array). */
export function rms(samples: Float32Array): number {
  const n = samples.length;
  if (n === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = samples[i]!;
    s += v * v;
  }
  return Math.sqrt(s / n);
}

/** RMS level in dB relative to full scale 1.0 (−Infinity for silence). */
export function rmsDb(samples: Float32Array): number {
  const r = rms(samples);
  return r > 0 ? 20 * Math.log10(r) : -Infinity;
}

/** True when the RMS level is below `thresholdDb` dBFS (empty input counts as silent). */
export function isSilent(samples: Float32Array, thresholdDb = -60): boolean {
  return rmsDb(samples) < thresholdDb;
}
