/**
 * What inference needs from the modules below it (audio, features, model), in one place.
 * Browser-safe: no node: imports here.
 *
 * TEMPORARY: while src/audio, src/features and src/model are being written, this file holds small
 * private stand-ins with the same contracts (WAV-only decoding, a plain log-mel without noise
 * reduction, direct model input preparation). Each is replaced by a re-export once the real
 * module lands, so the rest of src/infer never changes.
 */
import FFT from 'fft.js';
import type * as tfTypes from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { AudioData } from '../audio/types.js';
import type { FeatureParams } from '../features/params.js';
import type { Spectrogram } from '../features/types.js';
import { SerError } from '../util/errors.js';

/** The part of a model folder's metadata.json inference reads. */
export interface InferMetadata {
  labels: string[];
  featureParams: FeatureParams;
  arch?: string;
  [key: string]: unknown;
}

/** A loaded model folder. */
export interface LoadedModel {
  model: LayersModel;
  metadata: InferMetadata;
}

// ---------------------------------------------------------------------------------------------
// audio (stand-in for src/audio/load.ts decodeAudio and src/audio/normalize.ts isSilent)

/** True when the loudest sample is below `thresholdDb` dBFS (peak). */
export function isSilent(samples: Float32Array, thresholdDb = -60): boolean {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]);
    if (a > peak) peak = a;
  }
  return peak === 0 || 20 * Math.log10(peak) < thresholdDb;
}

/** Decodes WAV bytes (PCM 8/16/24/32, float 32/64) into mono AudioData. */
export async function decodeAudio(bytes: Uint8Array, source: string): Promise<AudioData> {
  return decodeWavStandIn(bytes, source);
}

function decodeWavStandIn(bytes: Uint8Array, source: string): AudioData {
  if (bytes.length === 0) throw new SerError('audio/empty', `${source}: the file is empty`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]);
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new SerError('audio/not-audio', `${source}: not a WAV file (only WAV is supported by this build)`);
  }
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  let data: Uint8Array | null = null;
  while (off + 8 <= bytes.length) {
    const id = tag(off);
    const size = dv.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ' && body + 16 <= bytes.length) {
      let format = dv.getUint16(body, true);
      if (format === 0xfffe && size >= 26) format = dv.getUint16(body + 24, true);
      fmt = { format, channels: dv.getUint16(body + 2, true), rate: dv.getUint32(body + 4, true), bits: dv.getUint16(body + 14, true) };
    } else if (id === 'data') {
      data = bytes.subarray(body, Math.min(bytes.length, body + size));
    }
    off = body + size + (size & 1);
  }
  if (!fmt) throw new SerError('audio/bad-header', `${source}: WAV has no fmt chunk`);
  if (!data) throw new SerError('audio/no-data', `${source}: WAV has no data chunk`);
  if (fmt.channels === 0 || fmt.rate === 0) throw new SerError('audio/bad-header', `${source}: zero channels or sample rate`);
  const bps = fmt.bits / 8;
  const frames = Math.floor(data.length / (bps * fmt.channels));
  const ddv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < fmt.channels; c++) {
      const o = (i * fmt.channels + c) * bps;
      let v: number;
      if (fmt.format === 3) v = bps === 4 ? ddv.getFloat32(o, true) : ddv.getFloat64(o, true);
      else if (bps === 1) v = (ddv.getUint8(o) - 128) / 128;
      else if (bps === 2) v = ddv.getInt16(o, true) / 32768;
      else if (bps === 3) v = (((ddv.getUint8(o + 2) << 24) | (ddv.getUint8(o + 1) << 16) | (ddv.getUint8(o) << 8)) >> 8) / 8388608;
      else v = ddv.getInt32(o, true) / 2147483648;
      sum += v;
    }
    out[i] = sum / fmt.channels;
  }
  return { samples: out, sampleRate: fmt.rate, channels: fmt.channels, source };
}

// ---------------------------------------------------------------------------------------------
// features (stand-in for src/features extractFeatures / standardize; no noise reduction)

function hzToMelSlaney(f: number): number {
  const fsp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fsp;
  const logstep = Math.log(6.4) / 27;
  return f >= minLogHz ? minLogMel + Math.log(f / minLogHz) / logstep : f / fsp;
}
function melToHzSlaney(m: number): number {
  const fsp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fsp;
  const logstep = Math.log(6.4) / 27;
  return m >= minLogMel ? minLogHz * Math.exp(logstep * (m - minLogMel)) : fsp * m;
}

/** Log-mel spectrogram [nMels, frames] of `audio` with `params` (stand-in; peak-normalises only). */
export function extractFeatures(audio: AudioData, params: FeatureParams): Spectrogram {
  const { nFft, hopLength, nMels } = params;
  const sr = audio.sampleRate;
  let y = audio.samples;
  if (params.preprocess === 'seed') {
    let peak = 0;
    for (let i = 0; i < y.length; i++) peak = Math.max(peak, Math.abs(y[i]));
    if (peak > 0) y = y.map((v) => v / peak);
  }
  const pad = params.center ? nFft >> 1 : 0;
  const padded = new Float32Array(y.length + 2 * pad);
  padded.set(y, pad);
  const frames = 1 + Math.floor((padded.length - nFft) / hopLength);
  if (frames < 1) throw new SerError('audio/too-short', `${audio.source}: too short for one analysis frame`);
  const nBins = nFft / 2 + 1;
  const win = new Float32Array(nFft);
  for (let i = 0; i < nFft; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nFft);
  // mel filterbank
  const fmax = params.fmax ?? sr / 2;
  const melMin = hzToMelSlaney(params.fmin);
  const melMax = hzToMelSlaney(fmax);
  const melPts = Array.from({ length: nMels + 2 }, (_, i) => melToHzSlaney(melMin + ((melMax - melMin) * i) / (nMels + 1)));
  const fb = new Float32Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const lo = melPts[m], ce = melPts[m + 1], hi = melPts[m + 2];
    const enorm = 2 / (hi - lo);
    for (let k = 0; k < nBins; k++) {
      const f = (k * sr) / nFft;
      const w = Math.max(0, Math.min((f - lo) / (ce - lo), (hi - f) / (hi - ce)));
      fb[m * nBins + k] = w * enorm;
    }
  }
  const fft = new FFT(nFft);
  const frame = new Array<number>(nFft);
  const spec = fft.createComplexArray() as number[];
  const power = new Float32Array(nBins);
  const out = new Float32Array(nMels * frames);
  for (let t = 0; t < frames; t++) {
    for (let i = 0; i < nFft; i++) frame[i] = padded[t * hopLength + i] * win[i];
    fft.realTransform(spec, frame);
    for (let k = 0; k < nBins; k++) power[k] = spec[2 * k] ** 2 + spec[2 * k + 1] ** 2;
    for (let m = 0; m < nMels; m++) {
      let s = 0;
      const row = m * nBins;
      for (let k = 0; k < nBins; k++) s += fb[row + k] * power[k];
      out[m * frames + t] = s;
    }
  }
  let max = 0;
  for (let i = 0; i < out.length; i++) max = Math.max(max, out[i]);
  const ref = 10 * Math.log10(Math.max(params.amin, params.ref === 'max' ? max : params.ref));
  let dbMax = -Infinity;
  for (let i = 0; i < out.length; i++) {
    out[i] = 10 * Math.log10(Math.max(params.amin, out[i])) - ref;
    dbMax = Math.max(dbMax, out[i]);
  }
  if (params.topDb !== null) for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i], dbMax - params.topDb);
  return { data: out, nMels, frames };
}

/** (S - mean) / std over the whole spectrogram (std 0 → only the mean removed). */
export function standardize(spec: Spectrogram): Spectrogram {
  const d = spec.data;
  let mean = 0;
  for (let i = 0; i < d.length; i++) mean += d[i];
  mean /= d.length || 1;
  let v = 0;
  for (let i = 0; i < d.length; i++) v += (d[i] - mean) ** 2;
  const std = Math.sqrt(v / (d.length || 1));
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = std > 0 ? (d[i] - mean) / std : d[i] - mean;
  return { data: out, nMels: spec.nMels, frames: spec.frames };
}

// ---------------------------------------------------------------------------------------------
// model input (stand-in for src/model makeBatch)

/**
 * The model's input tensors for one standardised spectrogram: `[1, rows, T, 1]`, padded/cropped to a
 * fixed frame count when the model has one, plus a `[1, T]` mask when the model takes two inputs.
 */
export function makeModelInput(model: LayersModel, spec: Spectrogram): tfTypes.Tensor | tfTypes.Tensor[] {
  const shape = model.inputs[0].shape;
  const fixedT = typeof shape[2] === 'number' ? (shape[2] as number) : null;
  const T = fixedT ?? spec.frames;
  const data = new Float32Array(spec.nMels * T);
  const n = Math.min(T, spec.frames);
  for (let r = 0; r < spec.nMels; r++) data.set(spec.data.subarray(r * spec.frames, r * spec.frames + n), r * T);
  const x = tf.tensor4d(data, [1, spec.nMels, T, 1]);
  if (model.inputs.length < 2) return x;
  const mask = new Float32Array(T);
  mask.fill(1, 0, n);
  return [x, tf.tensor2d(mask, [1, T])];
}

/** Sets the tfjs backend for inference ('cpu' in this stand-in; the model module brings wasm). */
export async function initBackend(name: 'wasm' | 'cpu' = 'cpu'): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend(name);
  await tf.ready();
  return tf.getBackend();
}
