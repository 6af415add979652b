/**
 * Per-utterance statistics of a log-mel spectrogram plus pitch / energy statistics — one fixed
 * length vector per file, the input of the `ser-mlp` model. A port of the research prototype
 * (its `utt_feats` and `aug_d`, not part of this repository): mel-axis warp (augmentation),
 * band pooling, active frames, per-utterance level normalisation, per-band statistics.
 */
import { realFft } from '../dsp/rfft.js';
import { hannWindow } from '../dsp/window.js';
import { SerError } from '../util/errors.js';
import type { PitchTrack } from './pitch.js';
import type { Spectrogram } from './types.js';

/** Per-utterance level normalisation: 'p95' subtracts the utterance's 95th-percentile dB (over active frames, all bands). */
export type LevelNorm = 'p95' | 'none';

export interface UtteranceStatsOptions {
  /** Bands after pooling adjacent mel bands (must divide nMels). */
  bands?: number;
  levelNorm?: LevelNorm;
  /** A frame is active when its loudest band is within this many dB of the utterance's loudest frame. */
  activeDb?: number;
  /** Mel-axis warp factor applied to the log-mel (before pooling) and to F0; 1 = none. */
  melWarp?: number;
  /** Append the band levels' temporal modulation (`MODULATION_GROUPS` × `MODULATION_EDGES_HZ` shares, then a spread per band; see `modulationStats`). */
  modulation?: boolean;
  /** Frames per second of the spectrogram (sample rate / hop); used by `modulation`. */
  frameRate?: number;
}

/** Number of pitch / energy statistics appended after the band statistics. */
export const PITCH_STATS = 13;
/** Statistics per band: mean, std, p10, p90, mean |delta|, std delta. */
export const BAND_STATS = 6;

/** Acoustic band groups of the modulation statistics (each the mean of bands / 8 adjacent pooled bands). */
export const MODULATION_GROUPS = 8;
/** Edges of the octave modulation bands, Hz: 0.5–1, 1–2, …, 16–32. */
export const MODULATION_EDGES_HZ: readonly number[] = [0.5, 1, 2, 4, 8, 16, 32];

/** Length of the vector `utteranceStats` returns for `bands` bands (with the modulation statistics when `modulation`). */
export function utteranceStatsLength(bands = 32, modulation = false): number {
  return BAND_STATS * bands + PITCH_STATS + (modulation ? MODULATION_GROUPS * (MODULATION_EDGES_HZ.length - 1) + bands : 0);
}

/** dB below the utterance's loud (95th-percentile) level that `noiseFloor` maps to 0. */
export const NOISE_FLOOR_RANGE_DB = 40;

/**
 * How close an utterance's quiet moments come to its loud level, from its statistics vector (p95 level
 * normalisation): the mean over bands of the band's 10th-percentile level over active frames, as
 * 1 + dB / 40 — about 0 for studio speech (quiet frames 40 dB down), 0.5 with steady noise 10 dB below the
 * speech, 1 when nothing is quieter than the loud level. A covariate of the calibration (model/calibration).
 */
export function noiseFloor(stats: ArrayLike<number>, bands = 32): number {
  if (stats.length !== utteranceStatsLength(bands, false) && stats.length !== utteranceStatsLength(bands, true)) {
    throw new SerError('features/bad-input', `noiseFloor: a statistics vector of ${bands} bands has ${utteranceStatsLength(bands)} or ${utteranceStatsLength(bands, true)} values, got ${stats.length}`);
  }
  let s = 0;
  for (let b = 0; b < bands; b++) s += stats[2 * bands + b] as number;
  return 1 + s / bands / NOISE_FLOOR_RANGE_DB;
}

/** numpy's `percentile(x, q)` (linear interpolation) of a SORTED array. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (q / 100) * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  const a = sorted[i] as number;
  return i + 1 < n ? a + f * ((sorted[i + 1] as number) - a) : a;
}

/** numpy's `percentile(x, q)` with linear interpolation (copies `x`; see `percentileInPlace`). */
export function percentile(x: ArrayLike<number>, q: number): number {
  return percentileInPlace(Float64Array.from(x), q);
}

/**
 * numpy's `percentile(x, q)` (linear interpolation) by selection instead of a full sort: the
 * two order statistics around the position are exactly the values a sort would give. Reorders
 * `x` (no NaN expected).
 */
export function percentileInPlace(x: Float64Array, q: number): number {
  const n = x.length;
  if (n === 0) return Number.NaN;
  const pos = (q / 100) * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  const a = selectKth(x, i);
  if (i + 1 >= n) return a;
  let b = Infinity;
  for (let j = i + 1; j < n; j++) { const v = x[j] as number; if (v < b) b = v; }
  return a + f * (b - a);
}

/** Hoare quickselect (median-of-three pivot): afterwards x[k] is the k-th smallest, x[< k] ≤ x[k] ≤ x[> k]. Returns x[k]. */
function selectKth(x: Float64Array, k: number): number {
  let lo = 0, hi = x.length - 1;
  while (hi > lo) {
    if (hi - lo < 16) {
      for (let i = lo + 1; i <= hi; i++) {
        const v = x[i] as number;
        let j = i - 1;
        while (j >= lo && (x[j] as number) > v) { x[j + 1] = x[j] as number; j--; }
        x[j + 1] = v;
      }
      break;
    }
    const mid = (lo + hi) >> 1;
    const a = x[lo] as number, b = x[mid] as number, c = x[hi] as number;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo, j = hi;
    while (i <= j) {
      while ((x[i] as number) < pivot) i++;
      while ((x[j] as number) > pivot) j--;
      if (i <= j) { const t = x[i] as number; x[i] = x[j] as number; x[j] = t; i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return x[k] as number;
}

function meanOf(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] as number;
  return x.length ? s / x.length : Number.NaN;
}

/** Population standard deviation (numpy `std`, ddof 0). */
function stdOf(x: ArrayLike<number>): number {
  const m = meanOf(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += ((x[i] as number) - m) ** 2;
  return x.length ? Math.sqrt(s / x.length) : Number.NaN;
}

/**
 * Warps the mel axis: output band i takes the (linearly interpolated) value at band i / factor,
 * clipped to the band range. factor > 1 moves energy up (as a higher voice would). 1 = a copy.
 */
export function melWarp(spec: Spectrogram, factor = 1): Spectrogram {
  const { nMels: M, frames: T, data } = spec;
  if (factor === 1) return { data: new Float32Array(data), nMels: M, frames: T };
  const out = new Float32Array(M * T);
  for (let i = 0; i < M; i++) {
    const src = Math.min(M - 1, Math.max(0, i / factor));
    const i0 = Math.floor(src);
    const i1 = Math.min(i0 + 1, M - 1);
    const w = src - i0;
    for (let t = 0; t < T; t++) out[i * T + t] = (data[i0 * T + t] as number) * (1 - w) + (data[i1 * T + t] as number) * w;
  }
  return { data: out, nMels: M, frames: T };
}

/** Averages groups of nMels / bands adjacent rows (numpy `L.reshape(bands, -1, T).mean(1)`). */
export function poolBands(spec: Spectrogram, bands = 32): Spectrogram {
  const { nMels: M, frames: T, data } = spec;
  if (!Number.isInteger(bands) || bands < 1 || M % bands !== 0) {
    throw new SerError('features/bad-param', `feature parameter statsBands: must divide nMels (${M}), got ${bands}`);
  }
  const g = M / bands;
  if (g === 1) return { data: new Float32Array(data), nMels: M, frames: T };
  const out = new Float64Array(bands * T);
  for (let b = 0; b < bands; b++) {
    for (let k = 0; k < g; k++) {
      const row = (b * g + k) * T;
      for (let t = 0; t < T; t++) out[b * T + t] += data[row + t] as number;
    }
  }
  const o32 = new Float32Array(bands * T);
  for (let i = 0; i < o32.length; i++) o32[i] = (out[i] as number) / g;
  return { data: o32, nMels: bands, frames: T };
}

/** Regression delta over ±2 frames with edge padding: (−2x[t−2] − x[t−1] + x[t+1] + 2x[t+2]) / 10, per row. */
export function delta5(spec: Spectrogram): Float64Array {
  const { nMels: M, frames: T, data } = spec;
  const out = new Float64Array(M * T);
  const at = (r: number, t: number): number => data[r * T + Math.min(T - 1, Math.max(0, t))] as number;
  for (let r = 0; r < M; r++) {
    for (let t = 0; t < T; t++) out[r * T + t] = (-2 * at(r, t - 2) - at(r, t - 1) + at(r, t + 1) + 2 * at(r, t + 2)) / 10;
  }
  return out;
}

/**
 * How the band levels move in time — rhythm and articulation that per-band means and spreads miss
 * (modulation spectral features, as in Wu, Falk & Chan 2011, on the dB band envelopes):
 * - for each of `MODULATION_GROUPS` groups of adjacent bands, the group's mean dB envelope over all
 *   frames (floored `floorDb` below the loudest frame, so silences do not dominate), mean removed,
 *   Hann-windowed and zero-padded to a power of two; its power spectrum summed in the octave
 *   modulation bands `MODULATION_EDGES_HZ`; each band's share of the 0.5–32 Hz total as
 *   log10(share + 1e-4) — group-major, `MODULATION_GROUPS × 6` values, level-free by construction;
 * - per band, the standard deviation over active frames t ≥ 2 of the level change L[t] − L[t−2].
 * `L` is the pooled (and warped) log-mel, `frameMax` its loudest band per frame, `active` the active frames.
 */
export function modulationStats(L: Spectrogram, frameMax: ArrayLike<number>, active: readonly number[], frameRate: number, floorDb = 60): Float64Array {
  const { nMels: B, frames: T, data } = L;
  if (B % MODULATION_GROUPS !== 0) throw new SerError('features/bad-param', `modulation statistics need statsBands divisible by ${MODULATION_GROUPS}, got ${B}`);
  if (!(frameRate > 0)) throw new SerError('features/bad-param', `modulation statistics need a positive frame rate, got ${frameRate}`);
  const per = B / MODULATION_GROUPS;
  const nb = MODULATION_EDGES_HZ.length - 1;
  const out = new Float64Array(MODULATION_GROUPS * nb + B);
  let emax = -Infinity;
  for (let t = 0; t < T; t++) emax = Math.max(emax, frameMax[t] as number);
  let N = 4;
  while (N < T) N *= 2;
  const fft = realFft(N);
  const x = new Float64Array(N);
  const win = hannWindow(T, false);
  const band = new Float64Array(nb);
  for (let g = 0; g < MODULATION_GROUPS; g++) {
    x.fill(0);
    let m = 0;
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let b = g * per; b < (g + 1) * per; b++) s += data[b * T + t] as number;
      x[t] = Math.max(s / per, emax - floorDb);
      m += x[t] as number;
    }
    m /= T;
    for (let t = 0; t < T; t++) x[t] = ((x[t] as number) - m) * (win[t] as number);
    fft.forward(x);
    band.fill(0);
    for (let k = 1; k < fft.bins; k++) {
      const f = (k * frameRate) / N;
      if (f >= (MODULATION_EDGES_HZ[nb] as number)) break;
      let j = nb - 1;
      while (j >= 0 && f < (MODULATION_EDGES_HZ[j] as number)) j--;
      if (j < 0) continue;
      band[j] = (band[j] as number) + (fft.outRe[k] as number) ** 2 + (fft.outIm[k] as number) ** 2;
    }
    let total = 1e-9;
    for (const v of band) total += v;
    for (let j = 0; j < nb; j++) out[g * nb + j] = Math.log10((band[j] as number) / total + 1e-4);
  }
  const from = active.filter((t) => t >= 2);
  const d = new Float64Array(from.length);
  for (let b = 0; b < B; b++) {
    from.forEach((t, i) => { d[i] = (data[b * T + t] as number) - (data[b * T + t - 2] as number); });
    out[MODULATION_GROUPS * nb + b] = from.length ? stdOf(d) : 0;
  }
  return out;
}

/**
 * The utterance statistics vector (length `utteranceStatsLength(bands, modulation)`), exactly the prototype's:
 * warp the log-mel (and F0) by `melWarp`, pool to `bands` bands, keep active frames (frame max
 * dB > utterance max − activeDb; all frames if fewer than 5), subtract the p95 level, then per band
 * [mean | std | p10 | p90 | mean|Δ| | std Δ] (blocks of `bands` values in that order; Δ over all
 * frames, taken at active ones), then 13 pitch/energy statistics: std log2 F0, p5 and p95 of log2 F0
 * minus its median, p95 − p5 range, mean and std |ΔF0| (log2), voiced fraction, active fraction,
 * mean / std / p10 of frame RMS dB relative to the loudest active frame, median log2 F0, frames / 86
 * (≈ seconds at 44.1 kHz, hop 512). F0 uses voiced active frames (150 Hz if ≤ 3). With `modulation`,
 * `modulationStats` follows (needs `frameRate`).
 * `logMelDb` rows are mel bands; `pitch` must have one entry per frame.
 */
export function utteranceStats(logMelDb: Spectrogram, pitch: Pick<PitchTrack, 'f0' | 'voicing' | 'rms' | 'threshold'>, opts: UtteranceStatsOptions = {}): Float32Array {
  const { bands = 32, levelNorm = 'p95', activeDb = 40, melWarp: factor = 1, modulation = false, frameRate } = opts;
  const T = logMelDb.frames;
  if (pitch.f0.length !== T || pitch.voicing.length !== T || pitch.rms.length !== T) {
    throw new SerError('features/bad-input', `utteranceStats: pitch track has ${pitch.f0.length} frames but the spectrogram has ${T}`);
  }
  if (!(factor > 0)) throw new SerError('features/bad-param', `feature parameter melWarp: must be positive, got ${factor}`);
  const L = poolBands(factor === 1 ? logMelDb : melWarp(logMelDb, factor), bands);
  const B = L.nMels;
  // active frames
  const e = new Float64Array(T).fill(-Infinity);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) e[t] = Math.max(e[t] as number, L.data[b * T + t] as number);
  let emax = -Infinity;
  for (let t = 0; t < T; t++) emax = Math.max(emax, e[t] as number);
  let act: number[] = [];
  for (let t = 0; t < T; t++) if ((e[t] as number) > emax - activeDb) act.push(t);
  if (act.length < 5) act = Array.from({ length: T }, (_, t) => t);
  const A = act.length;
  // active frames, level normalised
  const La = new Float64Array(B * A);
  for (let b = 0; b < B; b++) for (let j = 0; j < A; j++) La[b * A + j] = L.data[b * T + (act[j] as number)] as number;
  if (levelNorm === 'p95') {
    const p95 = percentileInPlace(Float64Array.from(La), 95);
    for (let i = 0; i < La.length; i++) La[i] = (La[i] as number) - p95;
  }
  const dAll = delta5(L);
  const out = new Float32Array(utteranceStatsLength(B, modulation));
  const row = new Float64Array(A);
  const drow = new Float64Array(A);
  const absd = new Float64Array(A);
  const sel = new Float64Array(A);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < A; j++) {
      row[j] = La[b * A + j] as number;
      const d = dAll[b * T + (act[j] as number)] as number;
      drow[j] = d;
      absd[j] = Math.abs(d);
    }
    out[b] = meanOf(row);
    out[B + b] = stdOf(row);
    sel.set(row);
    out[2 * B + b] = percentileInPlace(sel, 10);
    out[3 * B + b] = percentileInPlace(sel, 90);
    out[4 * B + b] = meanOf(absd);
    out[5 * B + b] = stdOf(drow);
  }
  // pitch / energy
  const isAct = new Uint8Array(T);
  for (const t of act) isAct[t] = 1;
  const lfList: number[] = [];
  let voicedCount = 0;
  for (let t = 0; t < T; t++) {
    if ((pitch.voicing[t] as number) > pitch.threshold && isAct[t]) {
      voicedCount++;
      lfList.push(Math.log2((pitch.f0[t] as number) * factor));
    }
  }
  const lf = voicedCount > 3 ? Float64Array.from(lfList) : new Float64Array(4).fill(Math.log2(150));
  const lfSorted = Float64Array.from(lf).sort();
  const med = percentileSorted(lfSorted, 50);
  const p5 = percentileSorted(lfSorted, 5);
  const p95 = percentileSorted(lfSorted, 95);
  const dlf = lf.length > 1 ? Float64Array.from({ length: lf.length - 1 }, (_, i) => (lf[i + 1] as number) - (lf[i] as number)) : new Float64Array(1);
  const ra = Float64Array.from(act, (t) => 20 * Math.log10((pitch.rms[t] as number) + 1e-6));
  let rmax = -Infinity;
  for (const v of ra) rmax = Math.max(rmax, v);
  for (let i = 0; i < ra.length; i++) ra[i] = (ra[i] as number) - rmax;
  const pe = [
    stdOf(lf), p5 - med, p95 - med, p95 - p5, meanOf(dlf.map(Math.abs)), stdOf(dlf),
    voicedCount / T, A / T, meanOf(ra), stdOf(ra), percentile(ra, 10),
    med, T / 86,
  ];
  out.set(pe, BAND_STATS * B);
  if (modulation) {
    if (frameRate === undefined) throw new SerError('features/bad-param', 'utteranceStats: modulation statistics need frameRate');
    out.set(modulationStats(L, e, act, frameRate), BAND_STATS * B + PITCH_STATS);
  }
  return out;
}
