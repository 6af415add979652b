import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFlac, isFlac } from '../../src/audio/flac.js';
import { SerError } from '../../src/util/errors.js';
import { createRng } from '../../src/util/rng.js';
import { AESDD_DIR, HAVE_CORPUS, noteCorpusSkip } from '../corpus.js';
import { encodeFlac, type FlacEncodeOptions } from './flac-encoder.js';

/** Integer test channels within `bps` bits (a sine plus seeded noise), multiples of 2^wasted. */
function makeChannels(nCh: number, n: number, bps: number, wasted = 0, seed = 1): number[][] {
  const rng = createRng(seed);
  const amp = 2 ** (bps - 1);
  const out: number[][] = [];
  for (let c = 0; c < nCh; c++) {
    const x: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = 0.6 * Math.sin(0.02 * i * (c + 1)) + 0.05 * rng.normal();
      let q = Math.max(-amp, Math.min(amp - 1, Math.round(v * amp)));
      q = Math.floor(q / 2 ** wasted) * 2 ** wasted;
      x.push(q);
    }
    if (n > 2) {
      x[1] = -amp; // the extremes
      x[2] = amp - 2 ** wasted;
    }
    out.push(x);
  }
  return out;
}

/** What decodeFlac must return: the mean of the channels, scaled by 2^-(bps-1). */
function expected(ch: number[][], bps: number): number[] {
  const scale = 1 / 2 ** (bps - 1);
  return ch[0]!.map((_, i) => {
    let s = 0;
    for (const c of ch) s += c[i]!;
    return Math.fround((s * scale) / ch.length);
  });
}

function check(ch: number[][], opts: FlacEncodeOptions): void {
  const bytes = encodeFlac(ch, opts);
  expect(isFlac(bytes)).toBe(true);
  const a = decodeFlac(bytes, 'test.flac');
  expect(a.channels).toBe(ch.length);
  expect(a.sampleRate).toBe(opts.sampleRate ?? 44100);
  expect(a.samples.length).toBe(ch[0]!.length);
  expect(Array.from(a.samples)).toEqual(expected(ch, opts.bps ?? 16));
}

function expectCode(f: () => unknown, codes: string[]): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SerError);
    expect(codes).toContain((e as SerError).code);
    expect((e as SerError).message).toContain('test.flac');
    return (e as SerError).code;
  }
  throw new Error(`expected SerError ${codes.join('|')}, nothing was thrown`);
}

describe('decodeFlac: subframe types (synthetic files from a test encoder)', () => {
  const mono = makeChannels(1, 3000, 16);
  it('VERBATIM', () => check(mono, { subframe: 'verbatim' }));
  it('CONSTANT', () => check([new Array(2500).fill(-1234)], { subframe: 'constant' }));
  for (let order = 0; order <= 4; order++) it(`FIXED order ${order}`, () => check(mono, { subframe: 'fixed', order }));
  for (const order of [1, 2, 3, 8, 11, 12, 13, 20, 32]) {
    it(`LPC order ${order}`, () => check(mono, { subframe: 'lpc', order }));
  }
  it('Rice: 5-bit parameters, partition orders 0–6, escape partitions', () => {
    for (const partitionOrder of [0, 3, 6]) {
      check(mono, { riceParamBits: 5, partitionOrder, order: 3, blockSize: 1024 });
      check(mono, { escape: true, partitionOrder, order: 2, blockSize: 1024 });
      check(mono, { escape: true, riceParamBits: 5, partitionOrder, subframe: 'lpc', order: 8, blockSize: 1024 });
    }
  });
  it('wasted bits', () => {
    for (const wasted of [1, 3, 7]) {
      const ch = makeChannels(1, 2000, 16, wasted);
      check(ch, { wasted, subframe: 'fixed', order: 2 });
      check(ch, { wasted, subframe: 'lpc', order: 8 });
      check(ch, { wasted, subframe: 'verbatim' });
    }
  });
});

describe('decodeFlac: channels, bit depths, headers', () => {
  for (const mode of ['independent', 'left-side', 'side-right', 'mid-side'] as const) {
    it(`stereo ${mode}`, () => {
      const ch = makeChannels(2, 2500, 16, 0, 7);
      check(ch, { mode, subframe: 'fixed', order: 2 });
      check(ch, { mode, subframe: 'lpc', order: 12 });
    });
  }
  it('3 to 8 independent channels', () => {
    for (const n of [3, 6, 8]) check(makeChannels(n, 700, 16, 0, n), { order: 1 });
  });
  for (const bps of [8, 12, 16, 20, 24]) {
    it(`${bps}-bit, mono and mid-side, LPC 32 (wide arithmetic at 24-bit)`, () => {
      check(makeChannels(1, 2000, bps), { bps, subframe: 'lpc', order: 32 });
      check(makeChannels(2, 2000, bps, 0, 3), { bps, mode: 'mid-side', subframe: 'lpc', order: 12 });
    });
  }
  it('bit depth and sample rate taken from STREAMINFO or the frame header (every code)', () => {
    const ch = makeChannels(1, 1500, 16);
    for (const sampleRate of [8000, 11025, 22050, 44100, 48000, 96000, 37000, 123450]) {
      check(ch, { sampleRate, explicitHeader: true });
      check(ch, { sampleRate, explicitHeader: false });
    }
  });
  it('block sizes: coded, 8-bit and 16-bit explicit, a short last block', () => {
    const ch = makeChannels(1, 5000, 16);
    for (const blockSize of [192, 576, 4608, 256, 4096, 100, 1000, 5000]) check(ch, { blockSize });
  });
  it('frame numbers over 127 use multi-byte coding', () => {
    check(makeChannels(1, 192 * 300, 16), { blockSize: 192, order: 1 });
  });
  it('an unknown total sample count (0 in STREAMINFO) decodes all frames', () => {
    const ch = makeChannels(1, 3000, 16);
    const a = decodeFlac(encodeFlac(ch, { totalSamples: 0 }), 'test.flac');
    expect(Array.from(a.samples)).toEqual(expected(ch, 16));
  });
  it('STREAMINFO total shorter than the stream: output stops at the total', () => {
    const ch = makeChannels(1, 3000, 16);
    const a = decodeFlac(encodeFlac(ch, { totalSamples: 2000 }), 'test.flac');
    expect(Array.from(a.samples)).toEqual(expected(ch, 16).slice(0, 2000));
  });
});

describe('decodeFlac: damaged files', () => {
  const good = encodeFlac(makeChannels(2, 1200, 16, 0, 5), { mode: 'mid-side', blockSize: 512 });
  it('every truncation is a SerError (truncated; not-audio when even the marker is cut)', () => {
    for (let cut = 0; cut < good.length; cut++) {
      const code = expectCode(() => decodeFlac(good.subarray(0, cut), 'test.flac'), ['audio/empty', 'audio/not-audio', 'audio/truncated']);
      if (cut >= 4) expect(code).toBe('audio/truncated');
    }
  });
  it('flipped bits in the audio are caught by the CRCs', () => {
    const rng = createRng(3);
    for (let t = 0; t < 200; t++) {
      const b = good.slice();
      const at = 42 + rng.int(b.length - 42);
      b[at] = b[at]! ^ (1 << rng.int(8));
      expectCode(() => decodeFlac(b, 'test.flac'), ['audio/unreadable', 'audio/truncated']);
    }
  });
  it('bad headers', () => {
    expectCode(() => decodeFlac(new Uint8Array(0), 'test.flac'), ['audio/empty']);
    expectCode(() => decodeFlac(new TextEncoder().encode('RIFF....WAVE'), 'test.flac'), ['audio/not-audio']);
    const noFrames = good.subarray(0, 42);
    expectCode(() => decodeFlac(noFrames, 'test.flac'), ['audio/truncated']);
    const rate0 = good.slice();
    rate0[18] = 0;
    rate0[19] = 0;
    rate0[20] = rate0[20]! & 0x0f;
    expectCode(() => decodeFlac(rate0, 'test.flac'), ['audio/bad-header']);
    const bps32 = good.slice();
    bps32[20] = bps32[20]! | 1;
    bps32[21] = bps32[21]! | 0xf0;
    expectCode(() => decodeFlac(bps32, 'test.flac'), ['audio/unsupported-encoding']);
  });
});

noteCorpusSkip('FLAC parity with audio-decode');
describe.skipIf(!HAVE_CORPUS)('decodeFlac: bit-exact with audio-decode on the AESDD corpus', () => {
  it('every sample of 12 corpus files (integer sample values equal)', async () => {
    const decode = (await import('audio-decode')).default as unknown as (b: Uint8Array) => Promise<{ channelData: Float32Array[]; sampleRate: number }>;
    const all = readdirSync(AESDD_DIR).filter((f) => f.endsWith('.flac')).sort();
    const pick = Array.from({ length: 12 }, (_, i) => all[Math.floor((i * all.length) / 12)]!);
    let samples = 0;
    const bytesOf = pick.map((f) => new Uint8Array(readFileSync(join(AESDD_DIR, f))));
    for (let k = 0; k < pick.length; k++) {
      const f = pick[k]!;
      const bytes = bytesOf[k]!;
      const a = decodeFlac(bytes, f);
      const b = await decode(bytes.slice());
      expect(a.sampleRate).toBe(b.sampleRate);
      expect(b.channelData.length).toBe(1);
      const ref = b.channelData[0]!;
      expect(a.samples.length).toBe(ref.length);
      // audio-decode scales 16-bit by 1/32767, we by 1/32768 (like libsndfile/soundfile and
      // librosa): compare the integer sample values, which must be identical.
      let bad = 0;
      for (let i = 0; i < ref.length; i++) if (Math.round(ref[i]! * 32767) !== a.samples[i]! * 32768) bad++;
      expect(bad).toBe(0);
      samples += ref.length;
    }
    // Second pass, warm: wall-clock per file for each decoder (provisional: shared, loaded CPU).
    let oursMs = 0;
    let theirsMs = 0;
    for (const bytes of bytesOf) {
      let t = performance.now();
      decodeFlac(bytes, 'x');
      oursMs += performance.now() - t;
      const copy = bytes.slice();
      t = performance.now();
      await decode(copy);
      theirsMs += performance.now() - t;
    }
    console.log(
      `[flac parity] ${pick.length} files, ${samples} samples identical. Warm timing (provisional): ` +
        `ours ${(oursMs / pick.length).toFixed(2)} ms/file, audio-decode ${(theirsMs / pick.length).toFixed(2)} ms/file`,
    );
  });
});
