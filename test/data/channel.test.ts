/** Channel augmentation ops (data/augment.ts): each checked against what it must do to a signal. */
import { describe, expect, it } from 'vitest';
import {
  applyChannel, babble, bandLimit, clip, coloredNoise, compand, deviceResponse, gain, mixAtSnr, resampleThrough, telephone, type ChannelAugment,
} from '../../src/data/augment.js';
import { rfft } from '../../src/dsp/rfft.js';
import { createRng } from '../../src/util/rng.js';

const SR = 16000;
const tone = (f: number, n = SR, a = 0.5, sr = SR) => Float32Array.from({ length: n }, (_, i) => a * Math.sin((2 * Math.PI * f * i) / sr));
const power = (y: ArrayLike<number>, from = 0, to = y.length) => { let s = 0; for (let i = from; i < to; i++) s += (y[i] as number) ** 2; return s / (to - from); };
const db = (a: number, b: number) => 10 * Math.log10(a / b);
/** Power of `y` in [lo, hi) Hz (one real FFT over the whole signal, power of two length). */
function bandPower(y: Float32Array, lo: number, hi: number, sr = SR): number {
  const X = rfft(y);
  const n = y.length;
  let s = 0;
  for (let k = Math.ceil((lo * n) / sr); k < Math.min(n / 2, (hi * n) / sr); k++) s += X[2 * k]! ** 2 + X[2 * k + 1]! ** 2;
  return s;
}

describe('bandLimit', () => {
  it('keeps the pass band within 1 dB and removes the stop band by more than 20 dB', () => {
    // middle half of the signal: no filter start-up transient
    const pass = bandLimit(tone(1000), SR, 300, 3400);
    expect(Math.abs(db(power(pass, 4000, 12000), power(tone(1000), 4000, 12000)))).toBeLessThan(1);
    const low = bandLimit(tone(80), SR, 300, 3400);
    expect(db(power(low, 4000, 12000), power(tone(80), 4000, 12000))).toBeLessThan(-20);
    const high = bandLimit(tone(6500), SR, 300, 3400);
    expect(db(power(high, 4000, 12000), power(tone(6500), 4000, 12000))).toBeLessThan(-20);
  });
});

describe('deviceResponse', () => {
  // one fixed device: low cut 300 Hz, roll-off 4 kHz, one +8 dB resonance at 2.5 kHz (Q 2); gains relative to 1 kHz
  const fixed = { highpassHz: [300, 300], lowpassHz: [4000, 4000], resonances: [1, 1], resonanceDb: [8, 8], resonanceHz: [2500, 2500], resonanceQ: [2, 2] } as const;
  // a 1-kHz tone beside one at f (the output is rescaled to the input's peak, so gains are read as a ratio of the two)
  const rel = (f: number): number => {
    const y = Float32Array.from(tone(1000, 16384, 0.25), (v, i) => v + 0.25 * Math.sin((2 * Math.PI * f * i) / SR));
    const out = deviceResponse(y, SR, createRng(1), { ...fixed } as never);
    const ratio = (v: Float32Array) => db(bandPower(v, f - 30, f + 30), bandPower(v, 970, 1030));
    return ratio(out) - ratio(y);
  };
  it('cuts the lows and the top together and lifts the resonance, all on one copy', () => {
    expect(rel(100)).toBeLessThan(-12); // two octaves under a 12 dB/octave cut: ≈ −19 dB
    expect(rel(7000)).toBeLessThan(-6); // ≈ 0.8 octave over the roll-off: ≈ −9 dB
    expect(rel(2500)).toBeGreaterThan(5); // the resonance, less the roll-off's −1 dB there
    expect(rel(2500)).toBeLessThan(9);
  });
  it('is deterministic in the seed, keeps the peak, and draws other devices with other seeds', () => {
    const y = tone(1500);
    const a = deviceResponse(y, SR, createRng('d'));
    expect(deviceResponse(y, SR, createRng('d'))).toEqual(a);
    const peak = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(peak(a)).toBeCloseTo(peak(y), 5);
    const two = Float32Array.from(tone(1000, 16384, 0.25), (v, i) => v + 0.25 * Math.sin((2 * Math.PI * 6000 * i) / SR));
    const gains = Array.from({ length: 6 }, (_, k) => { const o = deviceResponse(two, SR, createRng(k)); return db(bandPower(o, 5970, 6030), bandPower(o, 970, 1030)); });
    expect(Math.max(...gains) - Math.min(...gains)).toBeGreaterThan(3);
  });
});

describe('compand (G.711 round trip)', () => {
  it('μ-law and A-law keep a sine within 8-bit companding error and quantise to at most 256 levels', () => {
    const y = tone(440, 8000);
    for (const law of ['mu', 'a'] as const) {
      const c = compand(y, law);
      const err = power(Float32Array.from(y, (v, i) => v - c[i]!));
      expect(db(power(y), err)).toBeGreaterThan(30); // ≈ 38 dB SNR for G.711 at this level
      expect(new Set(c).size).toBeLessThanOrEqual(256);
    }
  });
  it('small signals are quantised more finely than large ones (logarithmic steps)', () => {
    const levels = [...new Set(compand(Float32Array.from({ length: 20001 }, (_, i) => -1 + i / 10000), 'mu'))].sort((a, b) => a - b);
    const steps = levels.slice(1).map((v, i) => v - levels[i]!);
    expect(Math.min(...steps)).toBeLessThan(Math.max(...steps) / 50);
  });
});

describe('telephone and resampleThrough', () => {
  it('a telephone line passes 1 kHz and removes 5 kHz', () => {
    const y1 = telephone(tone(1000), SR);
    const y5 = telephone(tone(5000), SR);
    expect(y1.length).toBe(SR);
    expect(Math.abs(db(power(y1, 4000, 12000), power(tone(1000), 4000, 12000)))).toBeLessThan(2);
    expect(db(power(y5, 4000, 12000), power(tone(5000), 4000, 12000))).toBeLessThan(-30);
  });
  it('resampleThrough(8000) keeps 2 kHz and removes 6 kHz, same length', () => {
    const a = resampleThrough(tone(2000), SR, 8000);
    const b = resampleThrough(tone(6000), SR, 8000);
    expect(a.length).toBe(SR);
    expect(Math.abs(db(power(a, 4000, 12000), power(tone(2000), 4000, 12000)))).toBeLessThan(1);
    expect(db(power(b, 4000, 12000), power(tone(6000), 4000, 12000))).toBeLessThan(-30);
  });
});

describe('coloredNoise', () => {
  const n = 1 << 16;
  it('has unit RMS and the asked spectral slope (per-octave power: white +3 dB, pink 0 dB, brown −3 dB)', () => {
    for (const [exp, slope] of [[0, 3], [1, 0], [2, -3]] as const) {
      const y = coloredNoise(n, SR, exp, createRng(7));
      expect(power(y)).toBeCloseTo(1, 5);
      const perOctave = db(bandPower(y, 2000, 4000), bandPower(y, 1000, 2000));
      expect(Math.abs(perOctave - slope)).toBeLessThan(0.6);
    }
  });
  it('is the same for the same seed', () => {
    expect(coloredNoise(1000, SR, 1, createRng(3))).toEqual(coloredNoise(1000, SR, 1, createRng(3)));
  });
});

describe('mixAtSnr, babble, gain', () => {
  it('mixes noise at exactly the asked SNR', () => {
    const y = tone(500);
    const noise = coloredNoise(SR, SR, 0, createRng(1));
    const mixed = mixAtSnr(y, noise, 10);
    const added = Float32Array.from(mixed, (v, i) => v - y[i]!);
    expect(db(power(y), power(added))).toBeCloseTo(10, 6);
  });
  it('babble sums the asked number of unit-RMS talkers from the pool', () => {
    const pool = [tone(200, 3000), tone(300, 5000), tone(450, 7000)];
    const b = babble(pool, 8000, 1, createRng(2));
    expect(power(b)).toBeCloseTo(1, 1);
    expect(babble([], 100, 3, createRng(2))).toEqual(new Float32Array(100));
  });
  it('gain scales by 10^(dB/20)', () => {
    expect(gain(Float32Array.of(1, -0.5), -20)[0]).toBeCloseTo(0.1, 7);
  });
});

describe('clip (an overdriven recorder)', () => {
  const y = Float32Array.of(0, 0.1, -0.3, 0.8, -1, 0.45);
  it('hard: cuts flat at headroomDb below the peak and leaves smaller samples as they are', () => {
    const c = 10 ** (-6 / 20); // 6 dB below a peak of 1
    const out = clip(y, 6);
    expect([...out]).toEqual([0, 0.1, -0.3, c, -c, 0.45].map(Math.fround));
  });
  it('soft: c·tanh(x / c), below c everywhere, odd and monotonic', () => {
    const c = 10 ** (-12 / 20) * 1;
    const out = clip(y, 12, true);
    out.forEach((v, i) => expect(v).toBeCloseTo(c * Math.tanh(y[i]! / c), 6));
    expect(Math.max(...out.map(Math.abs))).toBeLessThan(c);
  });
  it('returns silence unchanged, as a copy', () => {
    const z = new Float32Array(4);
    expect(clip(z, 6)).toEqual(z);
    expect(clip(z, 6)).not.toBe(z);
  });
});

describe('applyChannel', () => {
  const aug: ChannelAugment = {
    reverb: { p: 0.5, rt60: [0.2, 0.6], wet: [0.2, 0.5] },
    eq: { p: 0.5 },
    device: { p: 0.5 },
    noise: { p: 0.5, snrDb: [5, 20], exponent: [0, 2] },
    clip: { p: 0.5, headroomDb: [3, 15], soft: 0.5 },
    telephone: { p: 0.5, jitter: 0.1 },
    codec: { p: 0.5, cutoffHz: [3500, 7000] },
    resample: { p: 0.5, rates: [8000] },
    gain: { p: 0.5, maxDb: 10 },
  };
  it('is deterministic in the seed, keeps the length, never changes its input', () => {
    const y = tone(300);
    const copy = new Float32Array(y);
    const a = applyChannel(y, SR, aug, createRng('x'));
    expect(applyChannel(y, SR, aug, createRng('x'))).toEqual(a);
    expect(a.length).toBe(y.length);
    expect(y).toEqual(copy);
    const outs = Array.from({ length: 8 }, (_, s) => applyChannel(y, SR, aug, createRng(s)));
    expect(new Set(outs.map((o) => o[1234]!.toFixed(6))).size).toBeGreaterThan(1);
  });
  it('with every probability 0 returns an equal copy', () => {
    const off = Object.fromEntries(Object.entries(aug).map(([k, v]) => [k, { ...v, p: 0 }])) as ChannelAugment;
    const y = tone(300);
    const out = applyChannel(y, SR, off, createRng(1));
    expect(out).toEqual(y);
    expect(out).not.toBe(y);
  });
});
