/** The buffer-reusing paths added for speed give exactly the results of the allocating ones. */
import { describe, expect, it } from 'vitest';
import { reduceNoise } from '../../src/audio/denoise.js';
import { peakNormalize } from '../../src/audio/normalize.js';
import { powerToDb, spectrogramToDb } from '../../src/features/db.js';
import { melSpectrogram } from '../../src/features/melspec.js';
import { featureParams } from '../../src/features/params.js';
import { extractFeatures, preprocessAudio } from '../../src/features/pipeline.js';
import type { AudioData } from '../../src/audio/types.js';
import { SerError } from '../../src/util/errors.js';

/** A tone burst in deterministic noise: 0.6 s at 16 kHz. */
function tone(freq: number, seed: number, sr = 16000, seconds = 0.6): Float32Array {
  const n = Math.round(sr * seconds);
  const y = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const noise = (s / 1073741824 - 1) * 0.05;
    const env = i > n / 4 && i < (3 * n) / 4 ? 0.5 : 0;
    y[i] = env * Math.sin((2 * Math.PI * freq * i) / sr) + noise;
  }
  return y;
}

const audio = (samples: Float32Array, sr = 16000): AudioData => ({ samples, sampleRate: sr, channels: 1, source: 'synthetic' });

describe('reduceNoise into a caller buffer', () => {
  it('fills and returns `into` with exactly the values of a fresh call', () => {
    const y = tone(440, 1);
    const fresh = reduceNoise(y, 16000);
    const into = new Float32Array(y.length).fill(7);
    const got = reduceNoise(y, 16000, {}, into);
    expect(got).toBe(into);
    expect(Array.from(got)).toEqual(Array.from(fresh));
  });
  it('rejects a buffer of the wrong length or one sharing the input memory', () => {
    const y = tone(440, 2);
    expect(() => reduceNoise(y, 16000, {}, new Float32Array(y.length - 1))).toThrow(SerError);
    expect(() => reduceNoise(y, 16000, {}, y)).toThrow(/share memory/);
  });
});

describe('reduceNoise scratch reuse', () => {
  it('gives the same output for a signal before and after processing other signals (chunked and short-padding paths too)', () => {
    const a = tone(440, 5);
    const loud = Float32Array.from(tone(1000, 6, 16000, 1.5), (v) => v * 40);
    for (const opts of [{}, { chunkSize: 4096, padding: 3000 }, { padding: 100 }]) {
      const first = reduceNoise(a, 16000, opts);
      reduceNoise(loud, 16000, opts);
      reduceNoise(loud, 16000, { chunkSize: 2048 });
      expect(Array.from(reduceNoise(a, 16000, opts))).toEqual(Array.from(first));
    }
  });
});

describe('powerToDb in place', () => {
  it('gives the same values whether it writes a new array or overwrites its input', () => {
    const S = Float32Array.from({ length: 500 }, (_, i) => Math.exp(-i / 20) * (1 + (i % 7)));
    const fresh = powerToDb(S);
    const copy = S.slice();
    const got = spectrogramToDb({ data: copy, nMels: 5, frames: 100 }, {}, true);
    expect(got.data).toBe(copy);
    expect(Array.from(got.data)).toEqual(Array.from(fresh));
    expect(() => powerToDb(S, {}, new Float32Array(3))).toThrow(SerError);
  });
});

describe('extractFeatures with the reused noise-gate buffer', () => {
  it('equals the public preprocessAudio + melSpectrogram + powerToDb path, call after call', () => {
    const params = featureParams({ preprocess: 'seed', sampleRate: null });
    const a = audio(tone(440, 3)), b = audio(tone(880, 4, 16000, 0.4));
    const ref = (x: AudioData) => {
      const { samples, sampleRate } = preprocessAudio(x, params);
      const mel = melSpectrogram(samples, { sr: sampleRate, nFft: params.nFft, hopLength: params.hopLength, nMels: params.nMels, fmax: params.fmax });
      return powerToDb(mel.data, { ref: params.ref, amin: params.amin, topDb: params.topDb });
    };
    const fa = extractFeatures(a, params);
    const fb = extractFeatures(b, params); // reuses (and overwrites) the scratch buffer
    expect(Array.from(fa.data)).toEqual(Array.from(ref(a)));
    expect(Array.from(fb.data)).toEqual(Array.from(ref(b)));
    // the samples themselves: in-place normalisation == audio/normalize's peakNormalize
    const den = reduceNoise(a.samples, 16000);
    expect(Array.from(preprocessAudio(a, params).samples)).toEqual(Array.from(peakNormalize(den)));
  });
});
