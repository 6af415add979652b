/**
 * Short-time Fourier transform and its inverse with librosa's conventions (centred frames,
 * periodic Hann window, unnormalised FFT). Spectra here are FRAME-MAJOR: bin `k` of frame `t`
 * is at index `t * bins + k` (each frame contiguous, which is what the hot loops want);
 * `transposeToBinMajor` gives librosa's [bins][frames] layout.
 */
import { SerError } from '../util/errors.js';
import { realFft } from './rfft.js';
import { frameCount, padSignal, type PadMode } from './frame.js';
import { hannWindow, padCenter } from './window.js';

export interface StftOptions {
  nFft?: number;
  hopLength?: number;
  /** null/undefined means nFft. */
  winLength?: number | null;
  center?: boolean;
  padMode?: PadMode;
}

/** A complex STFT, frame-major: re/im of bin k in frame t at `t * bins + k`. */
export interface ComplexStft {
  re: Float32Array;
  im: Float32Array;
  bins: number;
  frames: number;
}

/** A real (magnitude or power) STFT, frame-major: `t * bins + k`. */
export interface RealStft {
  data: Float32Array;
  bins: number;
  frames: number;
}

function resolve(opts: StftOptions) {
  const nFft = opts.nFft ?? 2048;
  const hopLength = opts.hopLength ?? 512;
  const winLength = opts.winLength ?? nFft;
  const center = opts.center ?? true;
  const padMode = opts.padMode ?? 'constant';
  if (!Number.isInteger(hopLength) || hopLength < 1) throw new SerError('dsp/bad-hop', `hop_length must be a positive integer, got ${hopLength}`);
  if (winLength > nFft) throw new SerError('dsp/bad-window', `win_length ${winLength} exceeds n_fft ${nFft}`);
  const window = padCenter(hannWindow(winLength, true), nFft);
  return { nFft, hopLength, center, padMode, window };
}

/**
 * Runs `visit(t, re, im)` for every STFT frame with bins [0, maxBins) of its spectrum (the
 * FFT's output buffers, valid only during the call). The shared frame loop of `stft` and
 * `powerSpectrogram`; windowing, padding and the FFT's bit-reversal happen in one pass.
 */
export function forEachStftFrameSplit(y: ArrayLike<number>, opts: StftOptions, maxBins: number, visit: (t: number, re: Float64Array, im: Float64Array) => void): { frames: number; bins: number } {
  const { nFft, hopLength, center, padMode, window } = resolve(opts);
  const frames = frameCount(y.length, nFft, hopLength, center);
  const half = center ? nFft >> 1 : 0;
  const fft = realFft(nFft);
  const bins = Math.min(fft.bins, maxBins);
  const padded = center && padMode === 'reflect' ? padSignal(y, half, half, 'reflect') : null;
  for (let t = 0; t < frames; t++) {
    if (padded) fft.forwardWindowed(padded, t * hopLength, window, 0, padded.length, bins);
    else fft.forwardWindowed(y, t * hopLength - half, window, 0, y.length, bins);
    visit(t, fft.outRe, fft.outIm);
  }
  return { frames, bins };
}

/**
 * Runs `visit(t, spectrum)` for every STFT frame, `spectrum` being an interleaved re/im buffer
 * (bins 0..nFft/2; valid only during the call).
 */
export function forEachStftFrame(y: ArrayLike<number>, opts: StftOptions, visit: (t: number, spectrum: Float64Array) => void): { frames: number; bins: number } {
  const nFft = opts.nFft ?? 2048;
  const spec = new Float64Array(2 * nFft);
  return forEachStftFrameSplit(y, opts, Infinity, (t, re, im) => {
    for (let k = 0; k < re.length; k++) { spec[2 * k] = re[k]!; spec[2 * k + 1] = im[k]!; }
    visit(t, spec);
  });
}

/** librosa's `stft(y, n_fft, hop_length, win_length, window='hann', center, pad_mode)`, frame-major. */
export function stft(y: ArrayLike<number>, opts: StftOptions = {}): ComplexStft {
  const nFft = opts.nFft ?? 2048;
  const bins = (nFft >> 1) + 1;
  const total = frameCount(y.length, nFft, opts.hopLength ?? 512, opts.center ?? true);
  const re = new Float32Array(total * bins), im = new Float32Array(total * bins);
  const { frames } = forEachStftFrameSplit(y, opts, bins, (t, sr, si) => {
    const o = t * bins;
    for (let k = 0; k < bins; k++) { re[o + k] = sr[k]!; im[o + k] = si[k]!; }
  });
  return { re, im, bins, frames };
}

/**
 * |stft|^power (librosa's `_spectrogram`; power 2 by default), frame-major. `maxBins` keeps only
 * bins [0, maxBins) (e.g. those a mel filterbank uses): same values, less work and memory.
 */
export function powerSpectrogram(y: ArrayLike<number>, opts: StftOptions & { power?: number; maxBins?: number } = {}): RealStft {
  const nFft = opts.nFft ?? 2048;
  const power = opts.power ?? 2;
  const bins = Math.min((nFft >> 1) + 1, opts.maxBins ?? Infinity);
  const frames = frameCount(y.length, nFft, opts.hopLength ?? 512, opts.center ?? true);
  const data = new Float32Array(frames * bins);
  forEachStftFrameSplit(y, opts, bins, (t, sr, si) => {
    const o = t * bins;
    if (power === 2) {
      for (let k = 0; k < bins; k++) { const a = sr[k]!, b = si[k]!; data[o + k] = a * a + b * b; }
    } else if (power === 1) {
      for (let k = 0; k < bins; k++) { const a = sr[k]!, b = si[k]!; data[o + k] = Math.sqrt(a * a + b * b); }
    } else {
      for (let k = 0; k < bins; k++) { const a = sr[k]!, b = si[k]!; data[o + k] = Math.pow(a * a + b * b, power / 2); }
    }
  });
  return { data, bins, frames };
}

/**
 * librosa's `istft` (window-sum normalised overlap-add). `length` trims/pads the output to
 * exactly that many samples; by default it is `nFft/2`-trimmed like librosa (center=true).
 */
export function istft(spec: ComplexStft, opts: StftOptions & { length?: number } = {}): Float32Array {
  const { nFft, hopLength, center, window } = resolve(opts);
  if (spec.bins !== (nFft >> 1) + 1) throw new SerError('dsp/bad-shape', `istft: spectrum has ${spec.bins} bins, n_fft ${nFft} needs ${(nFft >> 1) + 1}`);
  const frames = spec.frames;
  const fullLen = nFft + hopLength * (frames - 1);
  const acc = new Float64Array(fullLen);
  const norm = new Float64Array(fullLen);
  const fft = realFft(nFft);
  const bins = spec.bins;
  for (let t = 0; t < frames; t++) {
    const x = fft.inverse(spec.re, spec.im, t * bins);
    const o = t * hopLength;
    for (let i = 0; i < nFft; i++) { acc[o + i]! += x[i]! * window[i]!; norm[o + i]! += window[i]! * window[i]!; }
  }
  const start = center ? nFft >> 1 : 0;
  const len = opts.length ?? (center ? fullLen - 2 * start : fullLen);
  const out = new Float32Array(len);
  const tiny = 1.1754943508222875e-38; // librosa: tiny(float32)
  for (let i = 0; i < len; i++) {
    const j = start + i;
    if (j >= fullLen) break;
    const nv = norm[j]!;
    out[i] = nv > tiny ? acc[j]! / nv : acc[j]!;
  }
  return out;
}

/** Frame-major [frames][bins] → librosa's bin-major [bins][frames]. */
export function transposeToBinMajor(data: Float32Array, bins: number, frames: number): Float32Array {
  const out = new Float32Array(bins * frames);
  for (let t = 0; t < frames; t++) for (let k = 0; k < bins; k++) out[k * frames + t] = data[t * bins + k]!;
  return out;
}
