/**
 * Probability calibration by temperature scaling (Guo et al. 2017): p_k ∝ p_k^(1/T), which is
 * softmax(logits / T) for a softmax model. T > 1 softens over-confident outputs; the arg-max never
 * changes. The temperature is fitted on out-of-fold predictions of held-out speakers
 * (`fitTemperature`), stored in a model's metadata (`calibration`) and applied by inference in the
 * CLI, the server and the browser alike. Browser-safe.
 */

/** What a model folder's metadata.json stores under `calibration`. */
export interface Calibration {
  method: 'temperature';
  temperature: number;
  /** How it was fitted (free text, e.g. "out-of-fold, 5 held-out speakers, 1008 predictions"). */
  fittedOn?: string;
}

/** `probs` (summing to 1) with temperature `t` applied, in place-free form. */
export function applyTemperature(probs: ArrayLike<number>, t: number): Float32Array {
  const n = probs.length;
  const out = new Float32Array(n);
  if (t === 1) {
    for (let i = 0; i < n; i++) out[i] = probs[i] as number;
    return out;
  }
  let max = -Infinity;
  const logs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    logs[i] = Math.log(Math.max(1e-30, probs[i] as number)) / t;
    if (logs[i]! > max) max = logs[i]!;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (logs[i] = Math.exp(logs[i]! - max));
  for (let i = 0; i < n; i++) out[i] = logs[i]! / sum;
  return out;
}

/** Applies a stored calibration (none = unchanged copy). */
export function calibrate(probs: ArrayLike<number>, cal: Calibration | null | undefined): Float32Array {
  return applyTemperature(probs, cal?.method === 'temperature' ? cal.temperature : 1);
}

/** Mean negative log-likelihood of `labels` under `probs` tempered by `t`. */
export function temperedNll(probs: readonly ArrayLike<number>[], labels: readonly number[], t: number): number {
  let nll = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = applyTemperature(probs[i]!, t);
    nll -= Math.log(Math.max(1e-12, p[labels[i]!]!));
  }
  return probs.length ? nll / probs.length : 0;
}

/**
 * The temperature minimising the negative log-likelihood of `labels` (golden-section search on
 * log T in [1/20, 20]; the NLL is unimodal in T).
 */
export function fitTemperature(probs: readonly ArrayLike<number>[], labels: readonly number[]): number {
  if (probs.length === 0) return 1;
  let a = Math.log(0.05), b = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a), d = a + g * (b - a);
  let fc = temperedNll(probs, labels, Math.exp(c)), fd = temperedNll(probs, labels, Math.exp(d));
  for (let i = 0; i < 60; i++) {
    if (fc < fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = temperedNll(probs, labels, Math.exp(c)); }
    else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = temperedNll(probs, labels, Math.exp(d)); }
  }
  return Math.exp((a + b) / 2);
}
