/**
 * What happens to a spectrogram between the feature cache and the network: spectrogram-domain
 * augmentation (dB values, before normalisation, as in the study), per-utterance
 * normalisation, resizing to a fixed frame count, mixup and soft targets. Pure functions; all
 * randomness comes from the `Rng` passed in, so a seed reproduces every epoch exactly.
 */
import type { Spectrogram } from '../features/types.js';
import { normalizeSpectrogram } from '../features/normalize.js';
import { hzToMel, melToHz } from '../features/mel.js';
import type { Rng } from '../util/rng.js';
import type { Normalization, OfflineAugment, OnlineAugment } from './recipes.js';

/** A copy of a spectrogram (own memory). */
export function cloneSpectrogram(s: Spectrogram): Spectrogram {
  return { data: new Float32Array(s.data), nMels: s.nMels, frames: s.frames };
}

/** (S − mean) / std over the whole spectrogram (the study); a constant input becomes all zeros. */
export { standardizeUtterance, standardizeBands } from '../features/normalize.js';

/** Applies a recipe's normalisation. */
export function normalize(s: Spectrogram, mode: Normalization): Spectrogram {
  return normalizeSpectrogram(s, mode);
}

/**
 * Resamples the time axis to `frames` columns by linear interpolation (endpoints aligned), the
 * way the study brought long utterances to 256 frames.
 */
export function interpolateTime(s: Spectrogram, frames: number): Spectrogram {
  const { nMels, frames: n, data } = s;
  const out = new Float32Array(nMels * frames);
  if (n === 0) return { data: out, nMels, frames };
  for (let t = 0; t < frames; t++) {
    const x = frames > 1 ? (t * (n - 1)) / (frames - 1) : 0;
    const i0 = Math.floor(x);
    const i1 = Math.min(n - 1, i0 + 1);
    const w = x - i0;
    for (let m = 0; m < nMels; m++) {
      const row = m * n;
      out[m * frames + t] = (data[row + i0] as number) * (1 - w) + (data[row + i1] as number) * w;
    }
  }
  return { data: out, nMels, frames };
}

/** Zero-pads on the right up to `frames` (a no-op copy when already that long). */
export function padTime(s: Spectrogram, frames: number, value = 0): Spectrogram {
  const { nMels, frames: n, data } = s;
  const out = new Float32Array(nMels * frames).fill(value);
  const keep = Math.min(n, frames);
  for (let m = 0; m < nMels; m++) out.set(data.subarray(m * n, m * n + keep), m * frames);
  return { data: out, nMels, frames };
}

/** The study's resize to a fixed frame count: zero-pad when shorter, interpolate along time when longer. */
export function resizeFrames(s: Spectrogram, frames = 256): Spectrogram {
  return s.frames <= frames ? padTime(s, frames) : interpolateTime(s, frames);
}

// ---- augmentation ops (dB domain) -------------------------------------------------------

/** Adds Gaussian noise of standard deviation `std`, in place. */
export function addNoise(s: Spectrogram, std: number, rng: Rng): Spectrogram {
  for (let i = 0; i < s.data.length; i++) s.data[i] = (s.data[i] as number) + std * rng.normal();
  return s;
}

/** Sets `width` mel bands starting at `start` to `value`, in place. */
export function maskFrequency(s: Spectrogram, start: number, width: number, value = 0): Spectrogram {
  const end = Math.min(s.nMels, start + width);
  for (let m = Math.max(0, start); m < end; m++) s.data.fill(value, m * s.frames, (m + 1) * s.frames);
  return s;
}

/** Sets `width` frames starting at `start` to `value` in every band, in place. */
export function maskTime(s: Spectrogram, start: number, width: number, value = 0): Spectrogram {
  const a = Math.max(0, start);
  const b = Math.min(s.frames, start + width);
  for (let m = 0; m < s.nMels; m++) s.data.fill(value, m * s.frames + a, m * s.frames + b);
  return s;
}

/** Centre frequencies (Hz) of `nMels` Slaney mel bands between fmin and fmax. */
export function melCenters(nMels: number, fmin: number, fmax: number): Float64Array {
  const lo = hzToMel(fmin);
  const hi = hzToMel(fmax);
  const c = new Float64Array(nMels);
  for (let i = 0; i < nMels; i++) c[i] = melToHz(lo + ((hi - lo) * (i + 1)) / (nMels + 1));
  return c;
}

/**
 * Warps the mel axis by a frequency `ratio` (2^(semitones/12)): band m takes the value found
 * at frequency centre(m) / ratio, linearly interpolated between bands (edges held). A
 * spectrogram-domain stand-in for pitch shifting / vocal-tract-length perturbation.
 */
export function warpMel(s: Spectrogram, ratio: number, fmin: number, fmax: number): Spectrogram {
  const { nMels, frames, data } = s;
  const centres = melCenters(nMels, fmin, fmax);
  const lo = hzToMel(fmin);
  const hi = hzToMel(fmax);
  const out = new Float32Array(data.length);
  for (let m = 0; m < nMels; m++) {
    const src = hzToMel((centres[m] as number) / ratio);
    let x = ((src - lo) / (hi - lo)) * (nMels + 1) - 1; // fractional band index
    x = Math.max(0, Math.min(nMels - 1, x));
    const i0 = Math.floor(x);
    const i1 = Math.min(nMels - 1, i0 + 1);
    const w = x - i0;
    const o = m * frames;
    const r0 = i0 * frames;
    const r1 = i1 * frames;
    for (let t = 0; t < frames; t++) out[o + t] = (data[r0 + t] as number) * (1 - w) + (data[r1 + t] as number) * w;
  }
  return { data: out, nMels, frames };
}

/** Adds a per-band offset in dB (length nMels) to every frame, in place. */
export function addBandOffsets(s: Spectrogram, offsets: ArrayLike<number>): Spectrogram {
  for (let m = 0; m < s.nMels; m++) {
    const v = offsets[m] as number;
    const o = m * s.frames;
    for (let t = 0; t < s.frames; t++) s.data[o + t] = (s.data[o + t] as number) + v;
  }
  return s;
}

/** Spectral tilt: slope dB per octave around 1 kHz, as per-band offsets. */
export function tiltOffsets(nMels: number, dbPerOctave: number, fmin: number, fmax: number): Float32Array {
  const c = melCenters(nMels, fmin, fmax);
  const out = new Float32Array(nMels);
  for (let m = 0; m < nMels; m++) out[m] = dbPerOctave * Math.log2(Math.max(c[m] as number, 50) / 1000);
  return out;
}

/** Semitones of a pitch-shift draw, rounded to 0.5 (so waveform-shifted features can be cached). */
export function drawSemitones(range: number, rng: Rng): number {
  return Math.round(rng.uniform(-range, range) * 2) / 2;
}

/**
 * One augmented copy the study's way: pitch shift, Gaussian noise, frequency mask, time mask, each
 * applied independently with probability `aug.p`. `shifted(semitones)` returns the features of the
 * pitch-shifted audio (waveform mode); without it the mel axis is warped instead.
 */
export async function augmentOffline(
  s: Spectrogram,
  aug: OfflineAugment,
  rng: Rng,
  fmax: number,
  shifted?: (semitones: number) => Promise<Spectrogram>,
): Promise<Spectrogram> {
  let x = cloneSpectrogram(s);
  let semis = 0;
  if (rng.chance(aug.p)) {
    semis = drawSemitones(aug.pitchSemitones, rng);
    if (semis !== 0 && shifted) x = cloneSpectrogram(await shifted(semis));
  }
  return studyOps(x, aug, rng, shifted ? 0 : semis, fmax);
}

/** The study's ops after the pitch draw: mel-axis pitch warp (if `semis`), noise, frequency and time masks. */
function studyOps(x: Spectrogram, aug: Pick<OfflineAugment, 'p' | 'noiseStd' | 'freqMask' | 'timeMask'>, rng: Rng, semis: number, fmax: number): Spectrogram {
  if (semis !== 0) x = warpMel(x, 2 ** (semis / 12), 0, fmax);
  if (rng.chance(aug.p)) addNoise(x, aug.noiseStd, rng);
  if (rng.chance(aug.p)) {
    const F = Math.floor(rng.uniform(aug.freqMask[0], aug.freqMask[1] + 1));
    const f = rng.int(F + 1);
    maskFrequency(x, rng.int(Math.max(1, x.nMels - f)), f);
  }
  if (rng.chance(aug.p)) {
    const T = Math.floor(rng.uniform(aug.timeMask[0], aug.timeMask[1] + 1));
    const t = Math.min(rng.int(T + 1), x.frames);
    maskTime(x, rng.int(Math.max(1, x.frames - t)), t);
  }
  return x;
}

/** One on-the-fly augmented copy (a new array; the input is not touched). */
export function augmentOnline(s: Spectrogram, aug: OnlineAugment, rng: Rng, fmax: number): Spectrogram {
  let x = cloneSpectrogram(s);
  if (aug.study) {
    const semis = rng.chance(aug.study.p) ? drawSemitones(aug.study.pitchSemitones, rng) : 0;
    x = studyOps(x, aug.study, rng, semis, fmax);
  }
  if (aug.speed && rng.chance(aug.speed.p)) {
    const f = rng.uniform(1 - aug.speed.range, 1 + aug.speed.range);
    x = interpolateTime(x, Math.max(1, Math.round(x.frames / f)));
  }
  if (aug.warp && rng.chance(aug.warp.p)) x = warpMel(x, 2 ** (rng.uniform(-aug.warp.semitones, aug.warp.semitones) / 12), 0, fmax);
  if (aug.tilt && rng.chance(aug.tilt.p)) {
    addBandOffsets(x, tiltOffsets(x.nMels, rng.uniform(-aug.tilt.maxDbPerOctave, aug.tilt.maxDbPerOctave), 0, fmax));
  }
  if (aug.eq && rng.chance(aug.eq.p)) {
    const k = Math.max(2, aug.eq.bands);
    const g = Array.from({ length: k }, () => rng.uniform(-aug.eq!.maxDb, aug.eq!.maxDb));
    const off = new Float32Array(x.nMels);
    for (let m = 0; m < x.nMels; m++) {
      const p = (m / Math.max(1, x.nMels - 1)) * (k - 1);
      const i = Math.min(k - 2, Math.floor(p));
      const w = p - i;
      off[m] = (g[i] as number) * (1 - w) + (g[i + 1] as number) * w;
    }
    addBandOffsets(x, off);
  }
  if (aug.gain && rng.chance(aug.gain.p)) {
    const g = rng.uniform(-aug.gain.maxDb, aug.gain.maxDb);
    for (let i = 0; i < x.data.length; i++) x.data[i] = (x.data[i] as number) + g;
  }
  if (aug.noise && rng.chance(aug.noise.p)) addNoise(x, aug.noise.std, rng);
  if (aug.specAugment && rng.chance(aug.specAugment.p)) {
    // masks are set to the utterance mean so they survive normalisation as "nothing here"
    let mean = 0;
    for (let i = 0; i < x.data.length; i++) mean += x.data[i] as number;
    mean /= Math.max(1, x.data.length);
    const sa = aug.specAugment;
    for (let i = 0; i < sa.freqMasks; i++) {
      const f = rng.int(sa.maxFreq + 1);
      maskFrequency(x, rng.int(Math.max(1, x.nMels - f)), f, mean);
    }
    for (let i = 0; i < sa.timeMasks; i++) {
      const t = rng.int(Math.floor(sa.maxTimeFraction * x.frames) + 1);
      maskTime(x, rng.int(Math.max(1, x.frames - t)), t, mean);
    }
  }
  return x;
}

/** A Beta(a, a) sample via two Gamma draws (Marsaglia–Tsang), for mixup. */
export function sampleBeta(a: number, rng: Rng): number {
  const x = sampleGamma(a, rng);
  const y = sampleGamma(a, rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}

function sampleGamma(k: number, rng: Rng): number {
  if (k < 1) return sampleGamma(k + 1, rng) * Math.pow(Math.max(rng.next(), 1e-12), 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(Math.max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** lambda · a + (1 − lambda) · b, with b cropped / zero-padded to a's frame count. */
export function mixSpectrograms(a: Spectrogram, b: Spectrogram, lambda: number): Spectrogram {
  const bb = b.frames === a.frames ? b : padTime(b, a.frames);
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = lambda * (a.data[i] as number) + (1 - lambda) * (bb.data[i] as number);
  return { data: out, nMels: a.nMels, frames: a.frames };
}

/** Soft targets (b × k, row-major): one-hot with label smoothing eps (eps/k everywhere, 1 − eps + eps/k on the label). */
export function softTargets(labels: readonly number[], k: number, smoothing = 0): Float32Array {
  const t = new Float32Array(labels.length * k).fill(smoothing / k);
  for (let i = 0; i < labels.length; i++) t[i * k + (labels[i] as number)] = 1 - smoothing + smoothing / k;
  return t;
}
