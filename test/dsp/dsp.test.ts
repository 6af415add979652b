import { describe, expect, it } from 'vitest';
import { hannWindow, padCenter } from '../../src/dsp/window.js';
import { rfft, irfft, realFft } from '../../src/dsp/rfft.js';
import { frameCount, padSignal } from '../../src/dsp/frame.js';
import { stft, istft, powerSpectrogram, transposeToBinMajor } from '../../src/dsp/stft.js';
import { SerError } from '../../src/util/errors.js';

const close = (a: ArrayLike<number>, b: number[], digits = 9) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i]!).toBeCloseTo(b[i]!, digits);
};

describe('hannWindow', () => {
  it('periodic (scipy get_window / librosa) and symmetric', () => {
    close(hannWindow(4), [0, 0.5, 1, 0.5]);
    close(hannWindow(5, false), [0, 0.5, 1, 0.5, 0]);
    close(hannWindow(1), [1]);
  });
  it('padCenter centres a shorter window', () => {
    close(padCenter(hannWindow(4), 8), [0, 0, 0, 0.5, 1, 0.5, 0, 0]);
  });
});

describe('fft', () => {
  it('rfft of 1..8 matches numpy.fft.rfft', () => {
    const X = rfft([1, 2, 3, 4, 5, 6, 7, 8]);
    // numpy: [36, -4+9.65685425j, -4+4j, -4+1.65685425j, -4]
    close(X, [36, 0, -4, 9.65685424949238, -4, 4, -4, 1.6568542494923797, -4, 0]);
  });
  it('irfft inverts rfft', () => {
    const x = [0.3, -1, 2, 0.25, 5, -3, 0, 1.5];
    close(irfft(rfft(x), 8), x, 12);
    const y = x.map((v) => v * 2 - 1);
    close(irfft(rfft(y), 8), y, 12);
  });
  it('rejects a size that is not a power of two', () => {
    expect(() => realFft(12)).toThrow(SerError);
  });
});

describe('frames', () => {
  it('counts frames like librosa', () => {
    expect(frameCount(182975, 2048, 512, true)).toBe(358);
    expect(frameCount(89830, 2048, 512, true)).toBe(176);
    expect(frameCount(4096, 2048, 512, false)).toBe(5);
    expect(() => frameCount(100, 2048, 512, false)).toThrow(/shorter than n_fft/);
  });
  it('pads by reflection like numpy', () => {
    close(padSignal([1, 2, 3, 4], 2, 3, 'reflect'), [3, 2, 1, 2, 3, 4, 3, 2, 1]);
    close(padSignal([1, 2], 1, 1), [0, 1, 2, 0]);
  });
});

describe('stft', () => {
  const n = 64, sr = 64;
  // a sine exactly on bin 8 of a 64-point FFT, amplitude 2
  const y = new Float32Array(1024);
  for (let i = 0; i < y.length; i++) y[i] = 2 * Math.sin((2 * Math.PI * 8 * i) / sr);

  it('a bin-centred sine: |X| = A·N/4 on its bin, A·N/8 beside it, ~0 elsewhere (interior frames)', () => {
    const S = stft(y, { nFft: n, hopLength: 16 });
    expect(S.bins).toBe(33);
    expect(S.frames).toBe(1 + Math.floor(1024 / 16));
    const t = 10, o = t * S.bins;
    const mag = (k: number) => Math.hypot(S.re[o + k]!, S.im[o + k]!);
    expect(mag(8)).toBeCloseTo(32, 4);
    expect(mag(7)).toBeCloseTo(16, 4);
    expect(mag(9)).toBeCloseTo(16, 4);
    expect(mag(0)).toBeLessThan(1e-4);
    expect(mag(20)).toBeLessThan(1e-4);
    const P = powerSpectrogram(y, { nFft: n, hopLength: 16 });
    expect(P.data[o + 8]!).toBeCloseTo(1024, 2);
    const M = powerSpectrogram(y, { nFft: n, hopLength: 16, power: 1 });
    expect(M.data[o + 8]!).toBeCloseTo(32, 4);
  });

  it('istft(stft(y)) reconstructs y (constant and reflect padding)', () => {
    for (const padMode of ['constant', 'reflect'] as const) {
      const S = stft(y, { nFft: n, hopLength: 16, padMode });
      const back = istft(S, { nFft: n, hopLength: 16, length: y.length });
      let err = 0;
      for (let i = 0; i < y.length; i++) err = Math.max(err, Math.abs(back[i]! - y[i]!));
      expect(err).toBeLessThan(1e-5);
    }
  });

  it('transposeToBinMajor gives librosa layout', () => {
    expect(Array.from(transposeToBinMajor(new Float32Array([1, 2, 3, 4, 5, 6]), 3, 2))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
