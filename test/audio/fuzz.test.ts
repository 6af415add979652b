/**
 * Fuzz: thousands of mutated and truncated WAV and FLAC files (generated here, plus real corpus
 * FLAC when present). Every input must decode to finite samples or throw a SerError — no other
 * exception, bounded output. Every input that decodes then goes through the feature pipeline
 * (`extractFeatures`) with the seed log-mel params (noise reduction + log-mel) and with the
 * bundled model's params (utterance statistics): finite values of the right shape, or a
 * SerError. Process memory (RSS) must stay bounded. Seeded, so every run tries the same inputs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAudio } from '../../src/audio/decode.js';
import { decodeFlac } from '../../src/audio/flac.js';
import { encodeWav, type WavEncoding } from '../../src/audio/wav.js';
import type { AudioData } from '../../src/audio/types.js';
import { DEFAULT_FEATURE_PARAMS, type FeatureParams } from '../../src/features/params.js';
import { extractFeatures } from '../../src/features/pipeline.js';
import type { Spectrogram } from '../../src/features/types.js';
import { isSerError } from '../../src/util/errors.js';
import { createRng, type Rng } from '../../src/util/rng.js';
import { AESDD_DIR, HAVE_CORPUS, noteCorpusSkip } from '../corpus.js';
import { encodeFlac } from './flac-encoder.js';
import { aiff } from './aiff-encoder.js';

function u32(b: Uint8Array, off: number, v: number): void {
  if (off + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(off, v >>> 0, true);
}
function u16(b: Uint8Array, off: number, v: number): void {
  if (off + 2 <= b.length) new DataView(b.buffer, b.byteOffset).setUint16(off, v & 0xffff, true);
}

const LIES = [0, 1, 2, 3, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** One random mutation of `src` (a fresh array). `fields` are header offsets worth corrupting. */
function mutate(src: Uint8Array, rng: Rng, fields: number[]): Uint8Array {
  let b = src.slice();
  const kind = rng.int(7);
  const n = 1 + rng.int(8);
  switch (kind) {
    case 0: // random byte flips anywhere
      for (let i = 0; i < n; i++) b[rng.int(b.length)] = rng.int(256);
      break;
    case 1: // bit flips in the first 128 bytes (headers)
      for (let i = 0; i < n; i++) {
        const at = rng.int(Math.min(128, b.length));
        b[at] = b[at]! ^ (1 << rng.int(8));
      }
      break;
    case 2: // header field corruption / size-field lies
      for (let i = 0; i < 1 + rng.int(3); i++) {
        const at = fields[rng.int(fields.length)]!;
        const v = rng.chance(0.6) ? LIES[rng.int(LIES.length)]! : Math.floor(rng.next() * 4294967296);
        if (rng.chance(0.5)) u32(b, at, v);
        else u16(b, at, v);
      }
      break;
    case 3: // truncation
      b = b.slice(0, rng.int(b.length));
      break;
    case 4: // truncation + corruption
      b = b.slice(0, rng.int(b.length));
      for (let i = 0; i < n && b.length > 0; i++) b[rng.int(b.length)] = rng.int(256);
      break;
    case 5: {
      // delete or duplicate a span
      const at = rng.int(b.length);
      const len = 1 + rng.int(64);
      const head = b.subarray(0, at);
      const tail = rng.chance(0.5) ? b.subarray(Math.min(b.length, at + len)) : b.subarray(at);
      const dup = tail.length < b.length - at ? new Uint8Array(0) : b.subarray(at, at + len);
      const out = new Uint8Array(head.length + dup.length + tail.length);
      out.set(head);
      out.set(dup, head.length);
      out.set(tail, head.length + dup.length);
      b = out;
      break;
    }
    default: // random garbage after a valid header prefix
      for (let i = 12 + rng.int(40); i < b.length; i++) b[i] = rng.int(256);
  }
  return b;
}

/** The bundled model's feature params (utterance statistics) and its input length. */
const MODEL_META = JSON.parse(readFileSync(join(import.meta.dirname, '../../models/default/metadata.json'), 'utf8')) as {
  featureParams: FeatureParams;
  archOptions: { rows: number };
};
const PIPELINES: { name: string; params: FeatureParams; shape: (a: AudioData) => { nMels: number; frames: number } }[] = [
  {
    name: 'log-mel',
    params: DEFAULT_FEATURE_PARAMS,
    // centred frames at the native rate: 1 + floor(samples / hop) (AudioData samples are mono)
    shape: (a) => ({ nMels: DEFAULT_FEATURE_PARAMS.nMels, frames: 1 + Math.floor(a.samples.length / DEFAULT_FEATURE_PARAMS.hopLength) }),
  },
  { name: 'utterance-stats', params: MODEL_META.featureParams, shape: () => ({ nMels: MODEL_META.archOptions.rows, frames: 1 }) },
];
/** Decoded audio is cut to this many seconds (and at most 3 s at 48 kHz) before the pipeline. */
const PIPE_MAX_SECONDS = 3;
const RSS_LIMIT = 1.5 * 1024 ** 3;
let peakRss = process.memoryUsage.rss();
let pipeTotal = 0;
const sampleRss = (): void => { peakRss = Math.max(peakRss, process.memoryUsage.rss()); };

interface Tally {
  tried: number;
  decoded: number;
  errors: Map<string, number>;
  bad: string[];
  /** Decoded inputs run through each feature pipeline, and how those ended. */
  piped: number;
  pipeOk: Map<string, number>;
  pipeErrors: Map<string, number>;
}

const bump = (m: Map<string, number>, k: string): void => { m.set(k, (m.get(k) ?? 0) + 1); };

/** `a` cut to a few seconds (samples are mono). */
function capped(a: AudioData): AudioData {
  const max = Math.floor(Math.min(a.sampleRate, 48000) * PIPE_MAX_SECONDS);
  return a.samples.length <= max ? a : { ...a, samples: a.samples.subarray(0, max) };
}



/** Runs a decoded input through both feature pipelines; anything but finite right-shaped output or a SerError is bad. */
function pipeline(t: Tally, label: string, decoded: AudioData): void {
  const a = capped(decoded);
  t.piped++;
  pipeTotal++;
  for (const p of PIPELINES) {
    let out: Spectrogram;
    try {
      out = extractFeatures(a, p.params);
    } catch (e) {
      if (isSerError(e)) bump(t.pipeErrors, `${p.name} ${e.code}`);
      else t.bad.push(`${label} ${p.name}: ${String((e as Error)?.stack ?? e)}`);
      continue;
    }
    const want = p.shape(a);
    if (out.nMels !== want.nMels || out.frames !== want.frames || out.data.length !== want.nMels * want.frames) {
      t.bad.push(`${label} ${p.name}: shape ${out.nMels}×${out.frames} (${out.data.length} values), expected ${want.nMels}×${want.frames} (${a.samples.length} samples, ${a.channels} ch, ${a.sampleRate} Hz)`);
      continue;
    }
    const i = out.data.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) t.bad.push(`${label} ${p.name}: non-finite value ${out.data[i]} at ${i} (${a.samples.length} samples, ${a.sampleRate} Hz)`);
    else bump(t.pipeOk, p.name);
  }
  sampleRss();
}

function check(t: Tally, label: string, input: Uint8Array, run: () => AudioData): void;
function check(t: Tally, label: string, input: Uint8Array, run: () => Promise<AudioData>): Promise<void>;
function check(t: Tally, label: string, input: Uint8Array, run: () => AudioData | Promise<AudioData>): void | Promise<void> {
  t.tried++;
  const ok = (a: AudioData): void => {
    t.decoded++;
    if (!(a.sampleRate > 0) || !(a.channels > 0) || a.samples.length === 0) t.bad.push(`${label}: bad AudioData fields`);
    // Bounded output: never more samples than a 16:1 blow-up of the input (+ one max FLAC block).
    if (a.samples.length > input.length * 16 + 65536) t.bad.push(`${label}: ${a.samples.length} samples from ${input.length} bytes`);
    for (let i = 0; i < a.samples.length; i++) {
      if (!Number.isFinite(a.samples[i]!)) {
        t.bad.push(`${label}: non-finite sample ${i}`);
        return;
      }
    }
    if (a.sampleRate > 0 && a.channels > 0 && a.samples.length > 0) pipeline(t, label, a);
  };
  const err = (e: unknown): void => {
    if (isSerError(e) && e.code.startsWith('audio/') && e.message.includes('fuzz-input')) {
      t.errors.set(e.code, (t.errors.get(e.code) ?? 0) + 1);
    } else t.bad.push(`${label}: ${isSerError(e) ? `${e.code} ${e.message}` : String((e as Error)?.stack ?? e)}`);
  };
  try {
    const r = run();
    if (r instanceof Promise) return r.then(ok, err);
    ok(r);
  } catch (e) {
    err(e);
  }
}

const list = (m: Map<string, number>): string => [...m].sort().map(([c, n]) => `${c} ${n}`).join(', ') || 'none';

function report(name: string, t: Tally): void {
  sampleRss();
  console.log(`[fuzz] ${name}: ${t.tried} inputs tried, ${t.decoded} decoded, errors: ${list(t.errors)}`);
  console.log(`[fuzz] ${name}: ${t.piped} decoded inputs through the feature pipeline; ok: ${list(t.pipeOk)}; SerErrors: ${list(t.pipeErrors)}; peak RSS so far ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  expect(t.pipeOk.size + t.pipeErrors.size > 0 || t.piped === 0).toBe(true);
  expect(peakRss).toBeLessThan(RSS_LIMIT);
}

const newTally = (): Tally => ({ tried: 0, decoded: 0, errors: new Map(), bad: [], piped: 0, pipeOk: new Map(), pipeErrors: new Map() });

afterAll(() => {
  sampleRss();
  console.log(`[fuzz] total: ${pipeTotal} decoded inputs through both feature pipelines; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (limit ${(RSS_LIMIT / 2 ** 20).toFixed(0)} MiB)`);
});

describe('fuzz: the feature pipeline on unmutated inputs (shape expectations are right)', () => {
  it('a clean tone gives finite log-mel and utterance-stats features of the expected shapes', () => {
    const sr = 16000;
    const a: AudioData = { samples: Float32Array.from({ length: sr }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 220 * i) / sr) + 0.05 * Math.sin(i * 1.7)), sampleRate: sr, channels: 1, source: 'tone' };
    const t = newTally();
    pipeline(t, 'tone', a);
    expect(t.bad).toEqual([]);
    expect([...t.pipeOk]).toEqual([['log-mel', 1], ['utterance-stats', 1]]);
    expect(PIPELINES[0]!.shape(a)).toEqual({ nMels: 128, frames: 32 });
  });

  it('a 2 s clip with 3 source channels: frames follow the mono sample count', () => {
    const sr = 16000;
    const a: AudioData = { samples: Float32Array.from({ length: 2 * sr }, (_, i) => 0.3 * Math.sin(i / 5)), sampleRate: sr, channels: 3, source: 'tone3' };
    const out = extractFeatures(a, DEFAULT_FEATURE_PARAMS);
    expect([out.nMels, out.frames]).toEqual([128, 63]);
  });

  // Finite but huge samples (a damaged float WAV) overflow the float32 power spectrum without peak
  // normalisation; the pipeline refuses them instead of returning NaN features.
  it('huge finite samples are refused with features/non-finite, not turned into NaN features', () => {
    const sr = 16000;
    const a: AudioData = { samples: Float32Array.from({ length: 4000 }, (_, i) => 1e30 * Math.sin(i / 3)), sampleRate: sr, channels: 1, source: 'huge' };
    expect(() => extractFeatures(a, MODEL_META.featureParams)).toThrow(/huge: the features are not finite/);
    try { extractFeatures(a, MODEL_META.featureParams); } catch (e) { expect(isSerError(e) && e.code).toBe('features/non-finite'); }
  });
});

describe('fuzz: decodeAudio never throws anything but a SerError', () => {
  it('2400 mutated/truncated WAVs of every encoding', async () => {
    const rng = createRng('wav-fuzz');
    const bases: Uint8Array[] = [];
    const encs: WavEncoding[] = ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'];
    for (const encoding of encs) {
      for (const nCh of [1, 2]) {
        const ch = Array.from({ length: nCh }, (_, c) => Float32Array.from({ length: 150 }, (_, i) => 0.7 * Math.sin(i / (5 + c))));
        bases.push(encodeWav(ch, 8000 * (1 + nCh), { encoding, extensible: nCh === 2, extraChunks: nCh === 2 ? [{ id: 'LIST', data: new Uint8Array(5) }] : [] }));
      }
    }
    // RIFF size, fmt size, tag, channels, rate, byte rate, block align, bits, cbSize/ext fields, data size.
    const fields = [4, 16, 20, 22, 24, 28, 32, 34, 36, 38, 40, 44, 46, 60, 64, 68, 72];
    const t = newTally();
    for (let i = 0; i < 2400; i++) {
      const base = bases[i % bases.length]!;
      const input = mutate(base, rng, fields);
      await check(t, `wav #${i}`, input, () => decodeAudio(input, 'fuzz-input'));
    }
    report('WAV', t);
    expect(t.bad).toEqual([]);
    expect(t.tried).toBe(2400);
    expect(t.decoded).toBeGreaterThan(100); // many mutations leave a decodable file
    expect(t.errors.size).toBeGreaterThan(4); // and many different failure reasons
  });

  it('1200 mutated/truncated synthetic FLACs, with and without CRC checks', async () => {
    const rng = createRng('flac-fuzz');
    const mk = (nCh: number, seed: number): number[][] => {
      const r = createRng(seed);
      return Array.from({ length: nCh }, (_, c) => Array.from({ length: 1500 }, (_, i) => Math.round(9000 * Math.sin(i / (7 + c)) + 300 * r.normal())));
    };
    const bases = [
      encodeFlac(mk(1, 1), { subframe: 'lpc', order: 8, blockSize: 512 }),
      encodeFlac(mk(2, 2), { mode: 'mid-side', subframe: 'fixed', order: 2, blockSize: 384 }),
      encodeFlac(mk(2, 3), { mode: 'left-side', subframe: 'lpc', order: 12, riceParamBits: 5, blockSize: 1024 }),
      encodeFlac(mk(1, 4), { subframe: 'verbatim', blockSize: 256, bps: 24 }),
      encodeFlac(mk(3, 5), { escape: true, partitionOrder: 3, blockSize: 576 }),
    ];
    // metadata header/length, STREAMINFO block sizes, rate/channels/bps, total samples, first frame header.
    const fields = [4, 5, 6, 8, 10, 12, 18, 19, 20, 21, 22, 24, 42, 43, 44, 45, 46];
    const t = newTally();
    const raw = newTally();
    for (let i = 0; i < 1200; i++) {
      const input = mutate(bases[i % bases.length]!, rng, fields);
      await check(t, `flac #${i}`, input, () => decodeAudio(input, 'fuzz-input'));
      check(raw, `flac (no CRC) #${i}`, input, () => decodeFlac(input, 'fuzz-input', { verifyCrc: false }));
    }
    report('FLAC (CRC checked)', t);
    report('FLAC (CRC not checked)', raw);
    expect(t.bad).toEqual([]);
    expect(raw.bad).toEqual([]);
    expect(t.tried + raw.tried).toBe(2400);
  });
});

describe('fuzz: the audio-decode path (AIFF)', () => {
  it('300 mutated/truncated AIFFs through decodeAudio', async () => {
    const rng = createRng('aiff-fuzz');
    const bases = [
      aiff([Array.from({ length: 400 }, (_, i) => Math.round(9000 * Math.sin(i / 7)))], 16000),
      aiff([Array.from({ length: 300 }, (_, i) => (i * 97) % 20000), Array.from({ length: 300 }, (_, i) => -i)], 44100),
    ];
    // FORM size, COMM size/channels/frames/bits/rate, SSND size/offset.
    const fields = [4, 16, 20, 22, 26, 28, 30, 42, 46, 50];
    const t = newTally();
    for (let i = 0; i < 300; i++) {
      const input = mutate(bases[i % bases.length]!, rng, fields);
      await check(t, `aiff #${i}`, input, () => decodeAudio(input, 'fuzz-input'));
    }
    report('AIFF (audio-decode)', t);
    expect(t.bad).toEqual([]);
  });
});

noteCorpusSkip('fuzzing real FLAC files');
describe.skipIf(!HAVE_CORPUS)('fuzz: real AESDD FLAC files', () => {
  it('300 mutated/truncated corpus FLACs, with and without CRC checks', async () => {
    const rng = createRng('corpus-fuzz');
    const files = readdirSync(AESDD_DIR).filter((f) => f.endsWith('.flac')).sort();
    const bases = [0, 1, 2].map((k) => new Uint8Array(readFileSync(join(AESDD_DIR, files[Math.floor((k * files.length) / 3)]!))));
    const fields = [4, 5, 6, 8, 10, 12, 18, 19, 20, 21, 22, 24];
    const t = newTally();
    const raw = newTally();
    for (let i = 0; i < 300; i++) {
      const input = mutate(bases[i % bases.length]!, rng, fields);
      await check(t, `corpus #${i}`, input, () => decodeAudio(input, 'fuzz-input'));
      check(raw, `corpus (no CRC) #${i}`, input, () => decodeFlac(input, 'fuzz-input', { verifyCrc: false }));
    }
    report('corpus FLAC (CRC checked)', t);
    report('corpus FLAC (CRC not checked)', raw);
    expect(t.bad).toEqual([]);
    expect(raw.bad).toEqual([]);
  });
});
