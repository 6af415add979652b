import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav, encodeWav, type WavEncoding } from '../../src/audio/wav.js';
import { SerError } from '../../src/util/errors.js';
import { AESDD_DIR, FIXTURES_DIR, HAVE_CORPUS } from '../corpus.js';
import { decodeFlac } from '../../src/audio/flac.js';

/** A deterministic test signal in [-1, 1]: a few sines plus the extremes. */
function signal(n: number, phase = 0): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.6 * Math.sin(0.05 * i + phase) + 0.3 * Math.sin(0.31 * i + 2 * phase);
  x[0] = 1;
  x[1] = -1;
  return x;
}

/** What a PCM round-trip must give back: round(x·2^(b-1)) / 2^(b-1), clamped. */
function quantize(x: Float32Array, bits: number): Float32Array {
  const s = 2 ** (bits - 1);
  return Float32Array.from(x, (v) => Math.max(-s, Math.min(s - 1, Math.round(v * s))) / s + 0); // + 0: no -0
}

function expectCode(f: () => unknown, code: string, mention = 'test.wav'): SerError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SerError);
    expect((e as SerError).code).toBe(code);
    expect((e as SerError).message).toContain(mention);
    return e as SerError;
  }
  throw new Error(`expected SerError ${code}, nothing was thrown`);
}

function u32(b: Uint8Array, off: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(off, v, true);
}
function u16(b: Uint8Array, off: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint16(off, v, true);
}

const PCM: Array<[WavEncoding, number]> = [
  ['pcm8', 8],
  ['pcm16', 16],
  ['pcm24', 24],
  ['pcm32', 32],
];

describe('decodeWav: encodings round-trip exactly', () => {
  const x = signal(1000);
  for (const extensible of [false, true]) {
    for (const [enc, bits] of PCM) {
      it(`${enc}${extensible ? ' (WAVE_FORMAT_EXTENSIBLE)' : ''}`, () => {
        const a = decodeWav(encodeWav(x, 22050, { encoding: enc, extensible }), 'test.wav');
        expect(a.sampleRate).toBe(22050);
        expect(a.channels).toBe(1);
        expect(a.source).toBe('test.wav');
        expect(Array.from(a.samples)).toEqual(Array.from(quantize(x, bits)));
      });
    }
    for (const enc of ['float32', 'float64'] as const) {
      it(`${enc}${extensible ? ' (WAVE_FORMAT_EXTENSIBLE)' : ''}`, () => {
        const y = Float32Array.from(x, (v) => v * 1.5); // floats may exceed ±1 and must be kept
        const a = decodeWav(encodeWav(y, 8000, { encoding: enc, extensible }), 'test.wav');
        expect(Array.from(a.samples)).toEqual(Array.from(y));
      });
    }
  }

  it('8-bit PCM is unsigned with 128 as zero', () => {
    const b = encodeWav(new Float32Array([0, 0.5, -1]), 8000, { encoding: 'pcm8' });
    expect(Array.from(b.subarray(b.length - 4, b.length - 1))).toEqual([128, 192, 0]);
    expect(Array.from(decodeWav(b, 'test.wav').samples)).toEqual([0, 0.5, -1]);
  });

  it('24-bit PCM sign-extends', () => {
    const b = encodeWav(new Float32Array([-1 / 8388608, 0.5, -0.5]), 8000, { encoding: 'pcm24' });
    expect(Array.from(decodeWav(b, 'test.wav').samples)).toEqual([-1 / 8388608, 0.5, -0.5]);
  });
});

describe('decodeWav: G.711', () => {
  const g711 = (tag: number, bytes: number[]): Uint8Array => {
    const b = encodeWav(new Float32Array(bytes.length), 8000, { encoding: 'pcm8' });
    u16(b, 20, tag);
    b.set(bytes, b.length - bytes.length - (bytes.length & 1));
    return b;
  };
  it('μ-law (tag 7): 0xFF → 0, 0x80 → +32124, 0x00 → −32124, 0x7F → 0, 0xFE → +8', () => {
    const a = decodeWav(g711(7, [0xff, 0x80, 0x00, 0x7f, 0xfe]), 'test.wav');
    expect(Array.from(a.samples, (v) => v * 32768)).toEqual([0, 32124, -32124, 0, 8]);
  });
  it('A-law (tag 6): 0xD5 → +8, 0x55 → −8, 0xAA → +32256, 0x2A → −32256', () => {
    const a = decodeWav(g711(6, [0xd5, 0x55, 0xaa, 0x2a]), 'test.wav');
    expect(Array.from(a.samples, (v) => v * 32768)).toEqual([8, -8, 32256, -32256]);
  });
});

describe('decodeWav: channels and chunks', () => {
  it('downmixes multi-channel audio to the mean of the channels', () => {
    const l = new Float32Array([0.5, -0.25, 0.75, 0]);
    const r = new Float32Array([0.25, 0.25, -1, 0.125]);
    const c = new Float32Array([0, 0.5, 0.5, -0.5]);
    const a = decodeWav(encodeWav([l, r], 44100, { encoding: 'float32' }), 'test.wav');
    expect(a.channels).toBe(2);
    expect(Array.from(a.samples)).toEqual([0.375, 0, -0.125, 0.0625]);
    const b = decodeWav(encodeWav([l, r, c], 44100, { encoding: 'pcm16' }), 'test.wav');
    expect(b.channels).toBe(3);
    expect(Array.from(b.samples)).toEqual([0.25, 0.5 / 3, 0.25 / 3, -0.375 / 3].map(Math.fround));
  });

  it('skips unknown chunks, including odd-sized ones with a pad byte', () => {
    const x = signal(101);
    const extra = [
      { id: 'LIST', data: new Uint8Array([1, 2, 3]) }, // odd: padded
      { id: 'fact', data: new Uint8Array(4) },
      { id: 'bext', data: new Uint8Array(7) },
    ];
    const a = decodeWav(encodeWav(x, 16000, { encoding: 'pcm16', extraChunks: extra }), 'test.wav');
    expect(Array.from(a.samples)).toEqual(Array.from(quantize(x, 16)));
  });

  it('reads a float fmt chunk of 16 bytes (no cbSize)', () => {
    const x = signal(50);
    const std = encodeWav(x, 44100, { encoding: 'float32' }); // fmt is 18 bytes
    const b = new Uint8Array(std.length - 2);
    b.set(std.subarray(0, 36));
    b.set(std.subarray(38), 36);
    u32(b, 16, 16);
    u32(b, 4, b.length - 8);
    expect(Array.from(decodeWav(b, 'test.wav').samples)).toEqual(Array.from(x));
  });

  it('any sample rate', () => {
    for (const sr of [1, 7350, 96000, 384000]) {
      expect(decodeWav(encodeWav(signal(10), sr), 'test.wav').sampleRate).toBe(sr);
    }
  });

  it('clamps a data chunk that claims 4 GB to the whole frames present', () => {
    const x = signal(100);
    const b = encodeWav([x, x], 8000, { encoding: 'pcm16' });
    u32(b, 40, 0xffffffff);
    expect(decodeWav(b, 'test.wav').samples.length).toBe(100);
    // cut mid-frame: 2 bytes of a 4-byte frame are dropped
    const cut = b.subarray(0, b.length - 2);
    const a = decodeWav(cut, 'test.wav');
    expect(a.samples.length).toBe(99);
    expect(Array.from(a.samples)).toEqual(Array.from(quantize(x, 16).subarray(0, 99)));
  });

  it('reads an unfinalised stream (RIFF and data sizes left at 0 or 0xFFFFFFFF)', () => {
    const x = signal(40);
    for (const [riffSize, dataSize] of [[0, 0], [0xffffffff, 0], [0xffffffff, 0xffffffff]]) {
      const b = encodeWav(x, 8000, { encoding: 'pcm16' });
      u32(b, 4, riffSize!);
      u32(b, 40, dataSize!);
      expect(Array.from(decodeWav(b, 'test.wav').samples)).toEqual(Array.from(quantize(x, 16)));
    }
  });

  it('reads RF64 with a ds64 chunk', () => {
    const x = signal(64);
    const std = encodeWav(x, 8000, { encoding: 'pcm16' });
    // RF64 layout: RF64, -1, WAVE, ds64(28), fmt, data(-1)
    const ds64 = new Uint8Array(8 + 28);
    ds64.set([0x64, 0x73, 0x36, 0x34]);
    u32(ds64, 4, 28);
    u32(ds64, 8 + 8, 128); // data size low word
    const b = new Uint8Array(std.length + ds64.length);
    b.set(std.subarray(0, 12));
    b.set(ds64, 12);
    b.set(std.subarray(12), 12 + ds64.length);
    b.set([0x52, 0x46, 0x36, 0x34]); // RF64
    u32(b, 4, 0xffffffff);
    u32(b, 12 + ds64.length + 24 + 4, 0xffffffff); // data size field
    expect(Array.from(decodeWav(b, 'test.wav').samples)).toEqual(Array.from(quantize(x, 16)));
  });
});

describe('decodeWav: broken files fail with a SerError naming the file', () => {
  const good = (): Uint8Array => encodeWav(signal(20), 8000, { encoding: 'pcm16' });
  it('empty', () => expectCode(() => decodeWav(new Uint8Array(0), 'test.wav'), 'audio/empty'));
  it('random bytes', () => {
    const b = Uint8Array.from({ length: 300 }, (_, i) => (i * 7919 + 13) & 0xff);
    expectCode(() => decodeWav(b, 'test.wav'), 'audio/not-audio');
  });
  it('a RIFF header cut short', () => expectCode(() => decodeWav(good().subarray(0, 7), 'test.wav'), 'audio/truncated'));
  it('header cut before the data chunk', () => expectCode(() => decodeWav(good().subarray(0, 40), 'test.wav'), 'audio/truncated'));
  it('zero channels', () => {
    const b = good();
    u16(b, 22, 0);
    expectCode(() => decodeWav(b, 'test.wav'), 'audio/bad-header');
  });
  it('zero sample rate', () => {
    const b = good();
    u32(b, 24, 0);
    expect(expectCode(() => decodeWav(b, 'test.wav'), 'audio/bad-header').message).toMatch(/sample rate/);
  });
  it('zero block align', () => {
    const b = good();
    u16(b, 32, 0);
    expect(expectCode(() => decodeWav(b, 'test.wav'), 'audio/bad-header').message).toMatch(/block align/);
  });
  it('missing fmt chunk', () => {
    const b = good();
    b.set([0x4a, 0x55, 0x4e, 0x4b], 12); // 'JUNK'
    expectCode(() => decodeWav(b, 'test.wav'), 'audio/bad-header');
  });
  it('missing data chunk', () => {
    const b = good().slice(0, 36);
    u32(b, 4, 28);
    expectCode(() => decodeWav(b, 'test.wav'), 'audio/no-data');
  });
  it('an empty data chunk', () => expectCode(() => decodeWav(encodeWav(new Float32Array(0), 8000), 'test.wav'), 'audio/no-data'));
  it('unsupported encodings', () => {
    const b = good();
    u16(b, 20, 2); // MS ADPCM
    expectCode(() => decodeWav(b, 'test.wav'), 'audio/unsupported-encoding');
    const c = good();
    u16(c, 34, 12); // 12-bit PCM
    expectCode(() => decodeWav(c, 'test.wav'), 'audio/unsupported-encoding');
    const d = encodeWav(signal(4), 8000, { extensible: true });
    d[46 + 3] = 0x99; // unknown subformat GUID
    expectCode(() => decodeWav(d, 'test.wav'), 'audio/unsupported-encoding');
  });
  it('NaN or Infinity samples in a float WAV', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const x = signal(10);
      x[5] = bad;
      expectCode(() => decodeWav(encodeWav(x, 8000, { encoding: 'float32' }), 'test.wav'), 'audio/non-finite');
      expectCode(() => decodeWav(encodeWav(x, 8000, { encoding: 'float64' }), 'test.wav'), 'audio/non-finite');
    }
  });
});

const HAVE_FIXTURES = existsSync(FIXTURES_DIR);
if (!HAVE_FIXTURES) console.warn(`[fixture tests skipped] no ${FIXTURES_DIR}`);
describe.skipIf(!HAVE_FIXTURES)('decodeWav: real AESDD originals (../shared/fixtures)', () => {
  const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES_DIR, name)));
  it('a01 (1).wav: 32-bit float with a 16-byte fmt chunk', () => {
    const a = decodeWav(read('a01 (1).wav'), 'a01 (1).wav');
    expect(a.sampleRate).toBe(44100);
    expect(a.channels).toBe(1);
    expect(a.samples.length).toBe(0xb2afc / 4);
    let peak = 0;
    for (const v of a.samples) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeGreaterThan(0.01);
    expect(peak).toBeLessThanOrEqual(1);
  });
  it('h05 (3) pcm24.wav: 24-bit PCM, WAVE_FORMAT_EXTENSIBLE', () => {
    const a = decodeWav(read('h05 (3) pcm24.wav'), 'h05 (3) pcm24.wav');
    expect(a.sampleRate).toBe(44100);
    expect(a.samples.length).toBe(0x5fae4 / 3);
    for (const v of a.samples) expect(Number.isInteger(v * 8388608)).toBe(true);
  });
  it('s05 (3).wav: header only, no data chunk', () => {
    expectCode(() => decodeWav(read('s05 (3).wav'), 's05 (3).wav'), 'audio/no-data', 's05 (3).wav');
  });
});

describe.skipIf(!HAVE_FIXTURES || !HAVE_CORPUS)('WAV originals load like their corpus FLAC conversions', () => {
  for (const [wav, flac] of [
    ['a01 (1).wav', 'a01 (1).flac'],
    ['h05 (3) pcm24.wav', 'h05 (3).flac'],
  ]) {
    it(`${wav} ≈ ${flac} (within the 16-bit conversion's dither, < 2 LSB)`, () => {
      const w = decodeWav(new Uint8Array(readFileSync(join(FIXTURES_DIR, wav))), wav);
      const f = decodeFlac(new Uint8Array(readFileSync(join(AESDD_DIR, flac))), flac);
      expect(w.sampleRate).toBe(f.sampleRate);
      expect(w.samples.length).toBe(f.samples.length);
      let maxDiff = 0;
      for (let i = 0; i < w.samples.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w.samples[i]! - f.samples[i]!));
      expect(maxDiff * 32768).toBeLessThan(2);
    });
  }
});

describe('decodeWav: input views', () => {
  it('reads a Uint8Array that is a view at an odd offset into a larger buffer', () => {
    const x = signal(77);
    const wav = encodeWav(x, 8000, { encoding: 'pcm24' });
    const big = new Uint8Array(wav.length + 11);
    big.set(wav, 5);
    const a = decodeWav(big.subarray(5, 5 + wav.length), 'test.wav');
    expect(Array.from(a.samples)).toEqual(Array.from(quantize(x, 24)));
  });
});
