import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAudio, decodeAudioSync, sniffFormat } from '../../src/audio/decode.js';
import { loadAudio } from '../../src/audio/load.js';
import { encodeWav } from '../../src/audio/wav.js';
import { SerError } from '../../src/util/errors.js';
import { FIXTURES_DIR } from '../corpus.js';
import { encodeFlac } from './flac-encoder.js';
import { aiff } from './aiff-encoder.js';

async function expectCode(p: Promise<unknown> | (() => unknown), code: string, mention: string): Promise<SerError> {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SerError);
    expect((e as SerError).code).toBe(code);
    expect((e as SerError).message).toContain(mention);
    return e as SerError;
  }
  throw new Error(`expected SerError ${code}, nothing was thrown`);
}

const ascii = (s: string, pad = 64): Uint8Array => {
  const b = new Uint8Array(Math.max(pad, s.length));
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
};


describe('sniffFormat (magic bytes, never the name)', () => {
  it('recognises the common containers', () => {
    expect(sniffFormat(encodeWav(new Float32Array(4), 8000))).toBe('wav');
    expect(sniffFormat(encodeFlac([[1, 2, 3]]))).toBe('flac');
    expect(sniffFormat(ascii('OggS'))).toBe('ogg');
    expect(sniffFormat(ascii('\0\0\0\x20ftypM4A '))).toBe('mp4');
    expect(sniffFormat(ascii('FORM\0\0\0\0AIFF'))).toBe('aiff');
    expect(sniffFormat(ascii('ID3\x03\0\0\0\0\0\0'))).toBe('mp3');
    expect(sniffFormat(new Uint8Array([0xff, 0xfb, 0x90, 0x64]))).toBe('mp3');
    expect(sniffFormat(new Uint8Array([0xff, 0xf1, 0x50, 0x80]))).toBe('aac');
    expect(sniffFormat(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3]))).toBe('webm');
    expect(sniffFormat(ascii('hello world'))).toBe(null);
    expect(sniffFormat(new Uint8Array(0))).toBe(null);
  });
});

describe('decodeAudio / decodeAudioSync', () => {
  it('WAV and FLAC decode the same samples both ways', async () => {
    const ch = [[0, 1000, -1000, 32767, -32768, 5]];
    const flac = encodeFlac(ch, { sampleRate: 16000, order: 1 });
    const wav = encodeWav(Float32Array.from(ch[0]!, (v) => v / 32768), 16000);
    const want = ch[0]!.map((v) => v / 32768);
    for (const b of [flac, wav]) {
      expect(Array.from((await decodeAudio(b, 'x')).samples)).toEqual(want);
      expect(Array.from(decodeAudioSync(b, 'x').samples)).toEqual(want);
    }
  });
  it('other formats go through audio-decode (AIFF, mono and stereo downmix)', async () => {
    const x = [0, 1000, -1000, 32767, -32768, 5, 16384];
    const a = await decodeAudio(aiff([x], 16000), 't.aiff');
    expect(a.sampleRate).toBe(16000);
    expect(a.channels).toBe(1);
    expect(Array.from(a.samples)).toEqual(x.map((v) => v / 32768));
    const y = x.map((v) => -v >> 1);
    const s = await decodeAudio(aiff([x, y], 22050), 't.aiff');
    expect(s.channels).toBe(2);
    expect(Array.from(s.samples)).toEqual(x.map((v, i) => (v + y[i]!) / 65536));
    await expectCode(() => decodeAudioSync(aiff([x], 16000), 't.aiff'), 'audio/unsupported-encoding', 't.aiff');
  });
  it('empty, unknown and async-only inputs', async () => {
    await expectCode(decodeAudio(new Uint8Array(0), 'e.wav'), 'audio/empty', 'e.wav');
    await expectCode(decodeAudio(ascii('just some text, not audio at all'), 't.mp3'), 'audio/not-audio', 't.mp3');
    await expectCode(() => decodeAudioSync(ascii('OggS'), 'a.ogg'), 'audio/unsupported-encoding', 'a.ogg');
  });
  it('a header-only MP3 / AAC (audio-decode returns nothing) is a SerError naming the file', async () => {
    const inputs: Array<[string, Uint8Array]> = [
      ['frame-header.mp3', new Uint8Array([0xff, 0xfb, 0x90, 0x64])],
      ['tag-only.mp3', ascii('ID3\x03\0\0\0\0\0\x10', 26)],
      ['adts-header.aac', new Uint8Array([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc])],
    ];
    for (const [name, b] of inputs) {
      const e = await decodeAudio(b, name).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(SerError);
      expect(['audio/no-data', 'audio/unreadable']).toContain((e as SerError).code);
      expect((e as SerError).message).toContain(name);
    }
  });
});

describe('loadAudio', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ser-audio-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads WAV and FLAC by content, whatever the extension', async () => {
    const x = Float32Array.from({ length: 800 }, (_, i) => Math.round(8000 * Math.sin(i / 9)) / 32768);
    writeFileSync(join(dir, 'a.flac'), encodeWav(x, 22050)); // a WAV named .flac
    writeFileSync(join(dir, 'b.wav'), encodeFlac([Array.from(x, (v) => v * 32768)], { sampleRate: 22050 }));
    for (const f of ['a.flac', 'b.wav']) {
      const a = await loadAudio(join(dir, f));
      expect(a.source).toBe(join(dir, f));
      expect(a.sampleRate).toBe(22050);
      expect(Array.from(a.samples)).toEqual(Array.from(x));
    }
  });
  it('a missing path, a directory, an empty file: errors naming the path', async () => {
    const missing = join(dir, 'nope.wav');
    await expectCode(loadAudio(missing), 'audio/not-found', missing);
    const sub = join(dir, 'sub.wav');
    mkdirSync(sub);
    await expectCode(loadAudio(sub), 'audio/is-directory', sub);
    const empty = join(dir, 'empty.wav');
    writeFileSync(empty, new Uint8Array(0));
    await expectCode(loadAudio(empty), 'audio/empty', empty);
    await expectCode(loadAudio(join(dir, 'a.flac', 'x.wav')), 'audio/not-found', 'x.wav');
  });
  it.skipIf(!existsSync(join(FIXTURES_DIR, 's05 (3).wav')))('the header-only corpus file s05 (3).wav: no-data naming it', async () => {
    const p = join(FIXTURES_DIR, 's05 (3).wav');
    await expectCode(loadAudio(p), 'audio/no-data', 's05 (3).wav');
    expect(readFileSync(p).length).toBe(36);
  });
});

describe('decodeAudio accepts a Node Buffer (what fs and HTTP hand over)', () => {
  it('WAV, FLAC and AIFF from Buffers that are views into a larger pool', async () => {
    const x = [0, 1000, -1000, 32767, -32768, 5];
    for (const bytes of [encodeWav(Float32Array.from(x, (v) => v / 32768), 16000), encodeFlac([x], { sampleRate: 16000 }), aiff([x], 16000)]) {
      const pool = Buffer.alloc(bytes.length + 13);
      pool.set(bytes, 7);
      const a = await decodeAudio(pool.subarray(7, 7 + bytes.length), 'buf');
      expect(Array.from(a.samples)).toEqual(x.map((v) => v / 32768));
    }
  });
});
