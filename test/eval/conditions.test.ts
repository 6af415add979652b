/** Test conditions (eval/conditions.ts): each makes what its name says. */
import { describe, expect, it } from 'vitest';
import { applyCondition, canBuild, CONDITIONS, EXTRA_CONDITIONS, hasSox, imageSourceRir, parseConditions, pinkNoiseKellet, reverberationTime, shoeboxRir } from '../../src/eval/conditions.js';
import { rfft } from '../../src/dsp/rfft.js';
import type { AudioData } from '../../src/audio/types.js';
import { createRng } from '../../src/util/rng.js';

const SR = 44100;
const tone = (f: number, n: number, sr = SR) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * f * i) / sr));
const audioOf = (samples: Float32Array, sampleRate = SR): AudioData => ({ samples, sampleRate, channels: 1, source: 'test' });
const power = (y: ArrayLike<number>) => { let s = 0; for (let i = 0; i < y.length; i++) s += (y[i] as number) ** 2; return s / y.length; };
const db = (a: number, b: number) => 10 * Math.log10(a / b);


describe('imageSourceRir', () => {
  it('reverberationTime measures an exponential decay exactly (T20 of e^(−6.9 t / RT))', () => {
    const sr = 8000;
    const h = Float32Array.from({ length: sr }, (_, i) => Math.exp((-Math.log(1000) * i) / (0.4 * sr)));
    expect(reverberationTime(h, sr)).toBeCloseTo(0.4, 2);
  });
  it('more absorption, shorter reverberation', () => {
    expect(reverberationTime(shoeboxRir(8000, 0.5, 1), 8000)).toBeLessThan(reverberationTime(shoeboxRir(8000, 0.1, 1), 8000));
  });
  it('imageSourceRir decays with the asked reverberation time (T20 within 10 %, measured on a longer response)', () => {
    for (const rt of [0.3, 0.5]) {
      const h = imageSourceRir(8000, rt);
      expect(h.length).toBe(Math.ceil(rt * 8000));
      // the truncated response's own T20 is a little shorter; the search used the 1.6× longer one
      const got = reverberationTime(h, 8000);
      expect(got).toBeGreaterThan(0.75 * rt);
      expect(got).toBeLessThan(1.1 * rt);
    }
  });
  it('starts with the direct path (1) and the first reflection is later and weaker', () => {
    const h = imageSourceRir(16000, 0.5);
    expect(h[0]).toBeCloseTo(1, 1);
    expect(Math.max(...h.subarray(5, 400))).toBeLessThan(1);
  });
});

describe('pinkNoiseKellet', () => {
  it('is pink: equal power per octave (within 1 dB) and unit RMS', () => {
    const n = 1 << 17;
    const y = pinkNoiseKellet(n, createRng(5));
    expect(power(y)).toBeCloseTo(1, 5);
    const X = rfft(y);
    const band = (lo: number, hi: number) => { let s = 0; for (let k = Math.ceil((lo * n) / SR); k < (hi * n) / SR; k++) s += X[2 * k]! ** 2 + X[2 * k + 1]! ** 2; return s; };
    expect(Math.abs(db(band(2000, 4000), band(500, 1000)))).toBeLessThan(1);
  });
});

describe('applyCondition', () => {
  const y = tone(1000, SR);
  it('original is the input; 16k and 48k change the rate and keep the duration', async () => {
    const a = audioOf(y);
    expect(await applyCondition('original', a, { seed: 's' })).toBe(a);
    const a16 = await applyCondition('16k', a, { seed: 's' });
    expect(a16.sampleRate).toBe(16000);
    expect(a16.samples.length).toBe(16000);
    const a48 = await applyCondition('48k', a, { seed: 's' });
    expect(a48.sampleRate).toBe(48000);
    expect(a48.samples.length).toBe(48000);
  });
  it('pink-10db and babble-10db add noise at 10 dB SNR; quiet-30db is 30 dB down', async () => {
    const a = audioOf(y);
    for (const c of ['pink-10db', 'babble-10db'] as const) {
      const out = await applyCondition(c, a, { seed: 's', babblePool: [tone(230, 30000), tone(310, 20000)] });
      expect(db(power(y), power(Float32Array.from(out.samples, (v, i) => v - y[i]!)))).toBeCloseTo(10, 4);
    }
    expect(db(power((await applyCondition('quiet-30db', a, { seed: 's' })).samples), power(y))).toBeCloseTo(-30, 6);
  });
  it('clipped-6db cuts the file flat at half its peak amplitude (−6 dB), nothing else', async () => {
    const out = (await applyCondition('clipped-6db', audioOf(y), { seed: 's' })).samples;
    let peak = 0;
    for (const v of y) peak = Math.max(peak, Math.abs(v));
    const c = peak * 10 ** (-6 / 20);
    expect(Math.max(...out.map(Math.abs))).toBeCloseTo(c, 6);
    y.forEach((v, i) => expect(out[i]).toBe(Math.abs(v) <= c ? v : Math.fround(Math.sign(v) * c)));
  });
  it('babble without a pool is a clear error', async () => {
    await expect(applyCondition('babble-10db', audioOf(y), { seed: 's' })).rejects.toThrow(/other utterances/);
  });
  it('is deterministic in the seed', async () => {
    const a = await applyCondition('pink-10db', audioOf(y), { seed: 'k' });
    const b = await applyCondition('pink-10db', audioOf(y), { seed: 'k' });
    expect(a.samples).toEqual(b.samples);
  });
  it('reverb-0.5s keeps the length and the peak, and smears a click over ~0.5 s', async () => {
    const click = new Float32Array(SR);
    click[100] = 1;
    const out = await applyCondition('reverb-0.5s', audioOf(click), { seed: 's' });
    expect(out.samples.length).toBe(SR);
    expect(Math.max(...out.samples.map(Math.abs))).toBeCloseTo(1, 5);
    const tail = out.samples.subarray(100 + 0.1 * SR, 100 + 0.3 * SR);
    expect(power(tail)).toBeGreaterThan(0);
  });
  it.skipIf(!hasSox())('telephone: 8 kHz, nothing above 3.4 kHz (sox)', async () => {
    const t5 = tone(5000, SR);
    const mix = Float32Array.from(tone(1000, SR), (v, i) => v + t5[i]!);
    const out = await applyCondition('telephone', audioOf(mix), { seed: 's' });
    expect(out.sampleRate).toBe(8000);
    const n = 4096;
    const X = rfft(out.samples.subarray(2000, 2000 + n));
    const bin = (f: number) => Math.hypot(X[2 * Math.round((f * n) / 8000)]!, X[2 * Math.round((f * n) / 8000) + 1]!);
    expect(bin(1000)).toBeGreaterThan(100 * bin(3900));
    // repeatable: the 8-bit μ-law's dither is seeded the same every time (sox -R)
    const again = await applyCondition('telephone', audioOf(mix), { seed: 's' });
    expect(Array.from(again.samples)).toEqual(Array.from(out.samples));
  });
  it.skipIf(!hasSox())('mp3-64k round-trips through an MP3 encoder and keeps the tone (sox)', async () => {
    const out = await applyCondition('mp3-64k', audioOf(y), { seed: 's' });
    expect(Math.abs(out.samples.length - SR)).toBeLessThan(3000);
    expect(Math.abs(db(power(out.samples.subarray(5000, 35000)), power(y)))).toBeLessThan(1);
  });
});

describe('extra conditions', () => {
  const sr = 16000;
  const toneAt = (f: number, n: number) => tone(f, n, sr);
  const a = (y: Float32Array) => audioOf(y, sr);
  /** Level of frequency f in y (dB, relative), from one 4096-point window. */
  const level = (y: Float32Array, rate: number, f: number) => {
    const n = 4096;
    const X = rfft(y.subarray(2000, 2000 + n));
    const k = Math.round((f * n) / rate);
    return 20 * Math.log10(Math.hypot(X[2 * k]!, X[2 * k + 1]!));
  };
  it('white-5db adds noise at 5 dB SNR, deterministic in the seed', async () => {
    const y = toneAt(500, sr);
    const out = await applyCondition('white-5db', a(y), { seed: 's' });
    expect(db(power(y), power(Float32Array.from(out.samples, (v, i) => v - y[i]!)))).toBeCloseTo(5, 4);
    expect((await applyCondition('white-5db', a(y), { seed: 's' })).samples).toEqual(out.samples);
  });
  it('reverb-1s: a click rings about twice as long as in reverb-0.5s (T20 of the output 0.9–1.1 s)', async () => {
    const click = new Float32Array(2 * sr);
    click[0] = 1;
    const long = (await applyCondition('reverb-1s', a(click), { seed: 's' })).samples;
    const short = (await applyCondition('reverb-0.5s', a(click), { seed: 's' })).samples;
    expect(reverberationTime(long, sr)).toBeGreaterThan(0.9);
    expect(reverberationTime(long, sr)).toBeLessThan(1.1);
    expect(reverberationTime(long, sr) / reverberationTime(short, sr)).toBeGreaterThan(1.8);
  });
  it.skipIf(!canBuild('amr-nb'))('amr-nb: 8 kHz through the AMR-NB codec, the tone kept (within 3 dB), repeatable (sox)', async () => {
    const y = toneAt(700, sr);
    const out = await applyCondition('amr-nb', a(y), { seed: 's' });
    expect(out.sampleRate).toBe(8000);
    expect(Math.abs(out.samples.length - 8000)).toBeLessThan(400);
    expect(Math.abs(db(power(out.samples.subarray(1000, 7000)), power(y)))).toBeLessThan(3);
    expect(Array.from((await applyCondition('amr-nb', a(y), { seed: 's' })).samples)).toEqual(Array.from(out.samples));
  });
  it.skipIf(!canBuild('small-mic'))('small-mic: lows cut, 3 kHz raised, highs cut, relative to 1 kHz (sox)', async () => {
    const fs = [100, 1000, 3000, 7500];
    const parts = fs.map((f) => toneAt(f, sr));
    const y = Float32Array.from(parts[0]!, (_, i) => parts.reduce((s, p) => s + p[i]! / 4, 0));
    const out = (await applyCondition('small-mic', a(y), { seed: 's' })).samples;
    const gainAt = (f: number) => level(out, sr, f) - level(y, sr, f);
    expect(gainAt(100) - gainAt(1000)).toBeLessThan(-6);
    expect(gainAt(3000) - gainAt(1000)).toBeGreaterThan(4);
    expect(gainAt(7500) - gainAt(1000)).toBeLessThan(-6);
  });
  // each microphone: its low cut, its peaks (and the webcam's dip) and its top roll-off, relative to 1 kHz (2 kHz for the speakerphone, whose low cut is near 1 kHz)
  for (const [cond, ref, checks] of [
    ['headset-mic', 1000, [[60, '<', -6], [4500, '>', 4], [9000, '<', -3]]],
    ['speakerphone', 2500, [[200, '<', -12], [1800, '>', 3], [7000, '<', -6]]],
    ['webcam-mic', 2000, [[80, '<', -6], [900, '<', -2.5], [5500, '>', 6]]],
  ] as const) {
    it.skipIf(!canBuild(cond))(`${cond}: ${checks.map(([f, op, g]) => `${f} Hz ${op} ${g} dB`).join(', ')}, relative to ${ref} Hz (sox)`, async () => {
      const fs = [ref, ...checks.map(([f]) => f)];
      const rate = 32000;
      const parts = fs.map((f) => tone(f, rate, rate));
      const y = Float32Array.from(parts[0]!, (_, i) => parts.reduce((s, p) => s + p[i]! / fs.length, 0));
      const out = (await applyCondition(cond, audioOf(y, rate), { seed: 's' })).samples;
      const gainAt = (f: number) => level(out, rate, f) - level(y, rate, f);
      for (const [f, op, g] of checks) {
        if (op === '<') expect(gainAt(f) - gainAt(ref), `${f} Hz`).toBeLessThan(g);
        else expect(gainAt(f) - gainAt(ref), `${f} Hz`).toBeGreaterThan(g);
      }
    });
  }
  it.skipIf(!canBuild('agc'))('agc squeezes a 30-dB step in level to less than 15 dB (sox)', async () => {
    const loud = toneAt(440, sr);
    const quiet = Float32Array.from(toneAt(440, sr), (v) => v * 10 ** (-30 / 20));
    const y = new Float32Array(2 * sr);
    y.set(loud, 0);
    y.set(quiet, sr);
    const out = (await applyCondition('agc', a(y), { seed: 's' })).samples;
    const step = db(power(out.subarray(0.5 * sr, sr)), power(out.subarray(1.5 * sr, 2 * sr)));
    expect(step).toBeGreaterThan(0);
    expect(step).toBeLessThan(15);
  });
  it('parse from their own list: all, a list, and names of the other list refused', () => {
    expect(parseConditions(true, EXTRA_CONDITIONS)).toEqual(EXTRA_CONDITIONS.filter(canBuild));
    expect(parseConditions('white-5db,reverb-1s', EXTRA_CONDITIONS)).toEqual(['white-5db', 'reverb-1s']);
    expect(() => parseConditions('pink-10db', EXTRA_CONDITIONS)).toThrow(/unknown condition 'pink-10db'.*known: amr-nb/);
    expect(() => parseConditions('white-5db')).toThrow(/unknown condition 'white-5db'/);
  });
});

describe('parseConditions', () => {
  it('all or a list; unknown names are an error naming the known ones', () => {
    expect(parseConditions('original,16k')).toEqual(['original', '16k']);
    expect(parseConditions(true).length).toBe(hasSox() ? CONDITIONS.length : CONDITIONS.length - 2);
    expect(() => parseConditions('original,underwater')).toThrow(/unknown condition 'underwater'.*known: original/);
  });
});
if (!hasSox()) console.warn('\n[sox tests skipped] telephone and mp3-64k conditions need sox with MP3 support (apt-get install sox libsox-fmt-mp3)\n');
