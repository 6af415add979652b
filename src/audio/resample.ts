/**
 * Band-limited resampling with a Kaiser-windowed sinc filter, evaluated as a polyphase filter
 * bank (one precomputed filter per output phase). Presets follow resampy's: 'high' is
 * kaiser_best (64 zero crossings, rolloff 0.9476, β 14.77), 'fast' is kaiser_fast (16, 0.85, β 8.56).
 * With exact phases the interior outputs (whole filter inside the signal) run in wasm SIMD where it is
 * available (dsp/wasm: float32 accumulation, within 1e-6 of the JS loop's), the edges in JS.
 */
import { SerError } from '../util/errors.js';
import { resamplePolyWasm } from '../dsp/wasm/index.js';

export type ResampleQuality = 'high' | 'fast';

interface Preset {
  zeros: number;
  rolloff: number;
  beta: number;
}

const PRESETS: Record<ResampleQuality, Preset> = {
  high: { zeros: 64, rolloff: 0.9475937167399596, beta: 14.769656459379492 },
  fast: { zeros: 16, rolloff: 0.85, beta: 8.555504641634386 },
};

/** Phases are exact when the reduced upsampling factor is at most this; else quantised to it. */
const MAX_PHASES = 4096;

/** Zeroth-order modified Bessel function of the first kind (power series). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Output length of `resample`: ceil(n · toRate / fromRate). */
export function resampledLength(n: number, fromRate: number, toRate: number): number {
  if (Number.isInteger(fromRate) && Number.isInteger(toRate)) {
    const g = gcd(fromRate, toRate);
    const L = toRate / g;
    const M = fromRate / g;
    return Math.ceil((n * L) / M);
  }
  return Math.ceil((n * toRate) / fromRate);
}

/** Largest filter bank kept in memory (floats); beyond it phases are quantised more coarsely. */
const MAX_BANK = 1 << 22;
const bankCache = new Map<string, { bank: Float32Array; T: number; K: number }>();

/**
 * The polyphase filter bank: `P` phases of `T` taps each (taps k = -K+1..K around the output
 * time). Phase p holds the Kaiser-windowed sinc evaluated at fractional offset p / P. Cached per
 * rate pair and quality (the last few), since a corpus is usually resampled at one ratio.
 */
function filterBank(quality: ResampleQuality, preset: Preset, fromRate: number, toRate: number, P: number): { bank: Float32Array; T: number; K: number } {
  const key = `${quality}:${fromRate}:${toRate}`;
  const hit = bankCache.get(key);
  if (hit) return hit;
  const scale = Math.min(1, toRate / fromRate) * preset.rolloff;
  const halfWidth = preset.zeros / scale; // in input samples
  const K = Math.ceil(halfWidth);
  const T = 2 * K;
  if (T > MAX_BANK) {
    throw new SerError('audio/bad-sample-rate', `resample: the ratio ${fromRate} → ${toRate} Hz is too extreme (a ${T}-tap filter)`);
  }
  if (P * T > MAX_BANK) P = Math.max(1, Math.floor(MAX_BANK / T));
  const bank = new Float32Array(P * T);
  const i0Beta = besselI0(preset.beta);
  for (let p = 0; p < P; p++) {
    const frac = p / P;
    for (let k = -K + 1; k <= K; k++) {
      const d = frac - k; // t - j
      let w = 0;
      if (Math.abs(d) < halfWidth) {
        const x = scale * d;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        const r = d / halfWidth;
        w = (scale * sinc * besselI0(preset.beta * Math.sqrt(1 - r * r))) / i0Beta;
      }
      bank[p * T + (k + K - 1)] = w;
    }
  }
  const entry = { bank, T, K };
  if (bankCache.size >= 8) bankCache.delete(bankCache.keys().next().value!);
  bankCache.set(key, entry);
  return entry;
}

/**
 * Resamples `samples` from `fromRate` to `toRate` Hz (band-limited, zero-phase; the signal is
 * taken as zero outside its ends). Equal rates return a copy. The result has
 * `ceil(n · toRate / fromRate)` samples.
 */
export function resample(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  quality: ResampleQuality = 'high',
): Float32Array {
  for (const [name, r] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
    if (!Number.isFinite(r) || r <= 0) {
      throw new SerError('audio/bad-sample-rate', `resample: ${name} must be a positive number of Hz, got ${r}`);
    }
  }
  const preset = PRESETS[quality];
  if (!preset) throw new SerError('audio/bad-option', `resample: quality must be 'high' or 'fast', got ${String(quality)}`);
  if (fromRate === toRate) return new Float32Array(samples);
  const n = samples.length;
  const outLen = resampledLength(n, fromRate, toRate);
  const out = new Float32Array(outLen);
  if (n === 0) return out;

  // Output sample m sits at input time t = m · M / L.
  let L: number;
  let M: number;
  let P: number;
  let exact: boolean;
  if (Number.isInteger(fromRate) && Number.isInteger(toRate)) {
    const g = gcd(fromRate, toRate);
    L = toRate / g;
    M = fromRate / g;
  } else {
    L = toRate;
    M = fromRate;
  }
  if (Number.isInteger(L) && L <= MAX_PHASES) {
    P = L;
    exact = true;
  } else {
    P = MAX_PHASES;
    exact = false;
  }

  const { bank, T, K } = filterBank(quality, preset, fromRate, toRate, P);
  if (bank.length / T !== P) {
    // A very long filter: fewer, quantised phases keep the bank within MAX_BANK.
    P = bank.length / T;
    exact = false;
  }

  // exact phases: the outputs whose filter lies wholly inside the signal, [mLo, mHi), in wasm when it can run
  let mLo = outLen, mHi = outLen;
  if (exact) {
    // j0 = ⌊m·M / L⌋ − K + 1 ≥ 0 ⇔ m·M ≥ (K − 1)·L; j0 + T ≤ n ⇔ ⌊m·M / L⌋ ≤ n − K − 1
    mLo = Math.min(outLen, Math.ceil(((K - 1) * L) / M));
    mHi = Math.max(mLo, Math.min(outLen, Math.floor(((n - K) * L - 1) / M) + 1));
    if (!resamplePolyWasm(samples, bank, out, T, K, L, M, mLo, mHi)) mLo = mHi = outLen;
  }
  for (let m = 0; m < outLen; m++) {
    if (m === mLo && mHi > mLo) { m = mHi - 1; continue; }
    let i0: number;
    let p: number;
    if (exact) {
      const num = m * M;
      i0 = Math.floor(num / L);
      p = num - i0 * L;
    } else {
      const t = (m * M) / L;
      i0 = Math.floor(t);
      p = Math.round((t - i0) * P);
      if (p === P) {
        p = 0;
        i0++;
      }
    }
    const base = p * T;
    const j0 = i0 - K + 1;
    let acc = 0;
    if (j0 >= 0 && j0 + T <= n) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let k = 0;
      for (; k + 3 < T; k += 4) {
        a0 += bank[base + k]! * samples[j0 + k]!;
        a1 += bank[base + k + 1]! * samples[j0 + k + 1]!;
        a2 += bank[base + k + 2]! * samples[j0 + k + 2]!;
        a3 += bank[base + k + 3]! * samples[j0 + k + 3]!;
      }
      for (; k < T; k++) a0 += bank[base + k]! * samples[j0 + k]!;
      acc = a0 + a1 + (a2 + a3);
    } else {
      const kLo = Math.max(0, -j0);
      const kHi = Math.min(T, n - j0);
      for (let k = kLo; k < kHi; k++) acc += bank[base + k]! * samples[j0 + k]!;
    }
    out[m] = acc;
  }
  return out;
}
