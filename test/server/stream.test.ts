/**
 * The WebSocket endpoint /api/stream on a real listening server (ws client): a normal stream, and the
 * hostile ones — garbage, a disconnect mid-stream, audio faster than real time, too many streams —
 * each ending with a clear error, nothing left running, and other clients unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { buildServer } from '../../src/server/app.js';
import { Classifier } from '../../src/infer/classifier.js';
import { speechTimeline } from '../../src/infer/timeline.js';
import { encodeWav16, makeTinyModelFolder, speechLike } from '../infer/helpers.js';

const RATE = 16000;

/** Speech 0.5–2.5 s and 4–6.5 s, 8 s in all. */
function twoUtterances(): Float32Array {
  const y = new Float32Array(RATE * 8);
  y.set(speechLike(2, RATE, 3), RATE / 2);
  y.set(speechLike(2.5, RATE, 4), RATE * 4);
  return y;
}

function s16(y: Float32Array): Buffer {
  const b = Buffer.alloc(y.length * 2);
  for (let i = 0; i < y.length; i++) b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(y[i]! * 32767))), 2 * i);
  return b;
}

interface Client {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
}

function connect(base: string, query: string): Client {
  const ws = new WebSocket(`${base}/api/stream${query}`);
  const messages: any[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
  const closed = new Promise<{ code: number; reason: string }>((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
  const opened = new Promise<void>((res, rej) => {
    ws.on('open', () => res());
    ws.on('error', rej);
  });
  return { ws, messages, closed, opened };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function health(base: string): Promise<any> {
  return (await fetch(`${base.replace('ws:', 'http:')}/api/health`)).json();
}

describe('WebSocket /api/stream', () => {
  let app: FastifyInstance;
  let clf: Classifier;
  let base: string;

  beforeAll(async () => {
    clf = await Classifier.load(await makeTinyModelFolder());
    // a high speed limit for the normal streams; the too-fast test builds its own server
    app = await buildServer({ classifier: clf, stream: { maxSpeed: 1000, burstSec: 1000, maxStreams: 3 } });
    base = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('http:', 'ws:');
  });

  afterAll(async () => {
    await app?.close();
    clf?.dispose();
  });

  it('streams raw PCM in small chunks: one event per speech segment, then the timeline of `predict --timeline`', async () => {
    const y = twoUtterances();
    const c = connect(base, `?encoding=s16le&rate=${RATE}`);
    await c.opened;
    const bytes = s16(y);
    // 1001-byte chunks: samples split across messages must be carried over
    for (let o = 0; o < bytes.length; o += 1001) c.ws.send(bytes.subarray(o, o + 1001));
    c.ws.send(JSON.stringify({ type: 'end' }));
    const closed = await c.closed;
    expect(closed.code).toBe(1000);
    expect(c.messages.map((m) => m.type)).toEqual(['ready', 'segment', 'segment', 'end']);
    const file = await speechTimeline(clf, { samples: Float32Array.from(y, (v) => Math.round(v * 32767) / 32768), sampleRate: RATE, channels: 1, source: 'x' });
    const expected = file.segments.filter((s) => s.speech);
    const got = c.messages.filter((m) => m.type === 'segment');
    expect(got.map((m) => [m.start, m.end, m.emotion])).toEqual(expected.map((s) => [s.start, s.end, s.emotion]));
    for (const m of got) expect(m.latencySec).toBeGreaterThan(0);
    expect(c.messages.at(-1).timeline.segments.length).toBe(file.segments.length);
    expect((await health(base)).streams.active).toBe(0);
  });

  it('accepts a WAV stream (header first)', async () => {
    const c = connect(base, '?encoding=wav');
    await c.opened;
    const wav = encodeWav16(twoUtterances(), RATE);
    c.ws.send(wav.subarray(0, 30)); // the header split over messages
    c.ws.send(wav.subarray(30));
    c.ws.send('{"type":"end"}');
    expect((await c.closed).code).toBe(1000);
    expect(c.messages.filter((m) => m.type === 'segment')).toHaveLength(2);
  });

  it('garbage: a text message that is not {"type":"end"}, a non-WAV header, a bad format → error event and close; others unaffected', async () => {
    const good = connect(base, `?encoding=s16le&rate=${RATE}`);
    await good.opened;
    const bytes = s16(twoUtterances());
    good.ws.send(bytes.subarray(0, bytes.length / 2));

    const text = connect(base, '?encoding=s16le');
    await text.opened;
    text.ws.send('hello');
    expect((await text.closed).code).toBe(1008);
    expect(text.messages.at(-1)).toMatchObject({ type: 'error', code: 'stream/bad-message' });

    const notWav = connect(base, '?encoding=wav');
    await notWav.opened;
    notWav.ws.send(Buffer.from('this is not a wav file at all'));
    expect((await notWav.closed).code).toBe(1008);
    expect(notWav.messages.at(-1)).toMatchObject({ type: 'error', code: 'audio/bad-wav' });

    const badFmt = connect(base, '?encoding=s16le&rate=12');
    expect((await badFmt.closed).code).toBe(1008);
    expect(badFmt.messages.at(-1)).toMatchObject({ type: 'error', code: 'audio/bad-format' });

    const nan = connect(base, `?encoding=f32le&rate=${RATE}`);
    await nan.opened;
    nan.ws.send(Buffer.from(new Float32Array([0, NaN, 0, 0]).buffer));
    expect((await nan.closed).code).toBe(1008);
    expect(nan.messages.at(-1)).toMatchObject({ type: 'error', code: 'audio/bad-samples' });

    // the first client goes on and finishes normally
    good.ws.send(bytes.subarray(bytes.length / 2));
    good.ws.send('{"type":"end"}');
    expect((await good.closed).code).toBe(1000);
    expect(good.messages.filter((m) => m.type === 'segment')).toHaveLength(2);
    expect((await health(base)).streams.active).toBe(0);
  });

  it('a client that disconnects mid-stream leaves nothing running; the next client is served', async () => {
    const c = connect(base, `?encoding=s16le&rate=${RATE}`);
    await c.opened;
    const bytes = s16(twoUtterances());
    c.ws.send(bytes.subarray(0, bytes.length / 3));
    c.ws.terminate(); // no close handshake
    await c.closed;
    for (let i = 0; i < 50 && (await health(base)).streams.active !== 0; i++) await sleep(20);
    expect((await health(base)).streams.active).toBe(0);
    const d = connect(base, `?encoding=s16le&rate=${RATE}`);
    await d.opened;
    d.ws.send(bytes);
    d.ws.send('{"type":"end"}');
    expect((await d.closed).code).toBe(1000);
    expect(d.messages.filter((m) => m.type === 'segment')).toHaveLength(2);
  });

  it('more streams than allowed: the extra one gets stream/busy, the others go on', async () => {
    const open = [0, 1, 2].map(() => connect(base, `?encoding=s16le&rate=${RATE}`));
    await Promise.all(open.map((c) => c.opened));
    const extra = connect(base, `?encoding=s16le&rate=${RATE}`);
    const closed = await extra.closed;
    expect(closed.code).toBe(1013);
    expect(extra.messages.at(-1)).toMatchObject({ type: 'error', code: 'stream/busy' });
    for (const c of open) {
      c.ws.send(s16(twoUtterances()));
      c.ws.send('{"type":"end"}');
    }
    for (const c of open) expect((await c.closed).code).toBe(1000);
    expect((await health(base)).streams.active).toBe(0);
  });

  it('audio faster than real time (beyond the burst allowance) → stream/too-fast; a live-paced client is unaffected', async () => {
    const strict = await buildServer({ classifier: clf, stream: { maxSpeed: 1.5, burstSec: 2 } });
    const url = (await strict.listen({ port: 0, host: '127.0.0.1' })).replace('http:', 'ws:');
    try {
      const live = connect(url, `?encoding=s16le&rate=${RATE}`);
      await live.opened;
      const fast = connect(url, `?encoding=s16le&rate=${RATE}`);
      await fast.opened;
      fast.ws.send(s16(twoUtterances())); // 8 s of audio at once
      const closed = await fast.closed;
      expect(closed.code).toBe(1008);
      expect(fast.messages.at(-1)).toMatchObject({ type: 'error', code: 'stream/too-fast' });
      expect(fast.messages.at(-1).message).toMatch(/faster than 1.5× real time/);
      // the live client sends 1 s of audio (within its burst) and ends normally
      live.ws.send(s16(speechLike(1, RATE, 2)));
      live.ws.send('{"type":"end"}');
      expect((await live.closed).code).toBe(1000);
      expect(live.messages.at(-1).type).toBe('end');
      expect((await health(url)).streams).toMatchObject({ active: 0, failed: 1, served: 1 });
    } finally {
      await strict.close();
    }
  });
});
