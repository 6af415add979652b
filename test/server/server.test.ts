/** The HTTP API through fastify's inject: health, predict raw + multipart, 4xx cases, limits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { Classifier } from '../../src/infer/classifier.js';
import { EMOTIONS } from '../../src/util/labels.js';
import { encodeWav16, makeTinyModelFolder, speechLike } from '../infer/helpers.js';

function multipartBody(field: string, filename: string, bytes: Uint8Array, boundary = 'XyZboundary42') {
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: audio/wav\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { payload: Buffer.concat([head, Buffer.from(bytes), tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('HTTP API', () => {
  let clf: Classifier;
  let app: FastifyInstance;
  const wav = encodeWav16(speechLike(1.5), 16000);
  beforeAll(async () => {
    clf = await Classifier.load(await makeTinyModelFolder());
    app = await buildServer({ classifier: clf, maxBodyMb: 0.2, maxDurationSec: 5 });
  });
  afterAll(async () => {
    await app.close();
    clf.dispose();
  });

  it('GET /api/health answers ok', async () => {
    const r = await app.inject({ method: 'GET', url: '/api/health' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'ok', running: 0, queued: 0 });
  });

  it('GET /api/model lists the labels and metadata', async () => {
    const r = await app.inject({ method: 'GET', url: '/api/model' });
    expect(r.statusCode).toBe(200);
    expect(r.json().labels).toEqual([...EMOTIONS]);
    expect(r.json().metadata.arch).toBe('cnn3');
  });

  it('POST /api/predict with a raw body returns the predict --json line', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/predict', payload: Buffer.from(wav), headers: { 'content-type': 'audio/wav', 'x-filename': 'clip.wav' } });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    const expected = await clf.predictSamples(speechLike(1.5), 16000);
    expect(Object.keys(body).sort()).toEqual(['confidence', 'durationSec', 'emotion', 'file', 'probabilities']);
    expect(body.confidence).toBeCloseTo(expected.confidence, 3);
    expect(body.file).toBe('clip.wav');
    expect(body.durationSec).toBeCloseTo(1.5, 6);
    expect(body.emotion).toBe(expected.emotion);
    for (const k of EMOTIONS) expect(body.probabilities[k]).toBeCloseTo(expected.probabilities[k], 3);
  });

  it('POST /api/predict accepts application/octet-stream and a multipart upload alike', async () => {
    const raw = await app.inject({ method: 'POST', url: '/api/predict', payload: Buffer.from(wav), headers: { 'content-type': 'application/octet-stream' } });
    const mp = await app.inject({ method: 'POST', url: '/api/predict', ...multipartBody('file', 'up.wav', wav) });
    expect(raw.statusCode).toBe(200);
    expect(mp.statusCode).toBe(200);
    expect(raw.json().file).toBe('upload');
    expect(mp.json().file).toBe('up.wav');
    expect(mp.json().probabilities).toEqual(raw.json().probabilities);
  });

  it('?minConfidence answers "uncertain" below it and keeps the probabilities; a bad value is a 400', async () => {
    const hi = await app.inject({ method: 'POST', url: '/api/predict?minConfidence=1', payload: Buffer.from(wav), headers: { 'content-type': 'audio/wav' } });
    const lo = await app.inject({ method: 'POST', url: '/api/predict?minConfidence=0', payload: Buffer.from(wav), headers: { 'content-type': 'audio/wav' } });
    expect(hi.statusCode).toBe(200);
    expect(hi.json().emotion).toBe('uncertain');
    expect(hi.json().probabilities).toEqual(lo.json().probabilities);
    expect(EMOTIONS as readonly string[]).toContain(lo.json().emotion);
    const bad = await app.inject({ method: 'POST', url: '/api/predict?minConfidence=1.5', payload: Buffer.from(wav), headers: { 'content-type': 'audio/wav' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/minConfidence.*between 0 and 1/);
  });

  it('?segments adds a timeline', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/predict?segments=0.5', payload: Buffer.from(wav), headers: { 'content-type': 'audio/wav' } });
    expect(r.statusCode).toBe(200);
    expect(r.json().timeline.map((w: { start: number }) => w.start)).toEqual([0, 0.5, 1]);
  });

  it('rejects bad input with 4xx JSON errors that say what is wrong', async () => {
    const cases: Array<[string, Record<string, string>, Buffer | string, number, RegExp]> = [
      ['/api/predict', { 'content-type': 'audio/wav' }, Buffer.from('not a wav at all'), 422, /not a WAV|not-audio|audio/i],
      ['/api/predict', { 'content-type': 'audio/wav' }, Buffer.from(encodeWav16(new Float32Array(16000), 16000)), 422, /silent/],
      ['/api/predict', { 'content-type': 'audio/wav' }, Buffer.from(encodeWav16(speechLike(0.01), 16000)), 422, /too short/],
      ['/api/predict', { 'content-type': 'text/plain' }, 'hello', 415, /content-type/],
      ['/api/predict', { 'content-type': 'application/json' }, '{"a":1}', 415, /raw body|multipart/],
      ['/api/predict?segments=-1', { 'content-type': 'audio/wav' }, Buffer.from(wav), 400, /segments/],
      ['/api/predict', { 'content-type': 'application/octet-stream' }, Buffer.alloc(0), 400, /empty/],
    ];
    for (const [url, headers, payload, status, msg] of cases) {
      const r = await app.inject({ method: 'POST', url, headers, payload });
      expect(r.statusCode, `${url} ${headers['content-type']}`).toBe(status);
      expect(r.json().error).toMatch(msg);
    }
  });

  it('400 for a multipart request without a file part', async () => {
    const boundary = 'b0undary';
    const payload = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${boundary}--\r\n`);
    const r = await app.inject({ method: 'POST', url: '/api/predict', payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatch(/without a file part/);
  });

  it('413 for a body over the size limit (raw and multipart) and for audio over the duration limit', async () => {
    const big = Buffer.from(encodeWav16(speechLike(8), 16000)); // 256 kB > 0.2 MB
    const r1 = await app.inject({ method: 'POST', url: '/api/predict', payload: big, headers: { 'content-type': 'audio/wav' } });
    expect(r1.statusCode).toBe(413);
    expect(r1.json().error).toMatch(/larger than the limit/);
    const r2 = await app.inject({ method: 'POST', url: '/api/predict', ...multipartBody('file', 'big.wav', big) });
    expect(r2.statusCode).toBe(413);
    const long = Buffer.from(encodeWav16(speechLike(6, 8000), 8000)); // 96 kB, 6 s > 5 s
    const r3 = await app.inject({ method: 'POST', url: '/api/predict', payload: long, headers: { 'content-type': 'audio/wav' } });
    expect(r3.statusCode).toBe(413);
    expect(r3.json().error).toMatch(/longer than the limit of 5 s/);
  });

  it('404 JSON for unknown static paths; no path traversal', async () => {
    for (const url of ['/nope.js', '/../package.json', '/model/../../package.json', '/wasm/%2e%2e/package.json']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(404);
    }
  });
});

describe('HTTP API under load', () => {
  it('429 when slots and queue are full, health answers meanwhile, the rest succeed', async () => {
    const clf = await Classifier.load(await makeTinyModelFolder());
    const app = await buildServer({ classifier: clf, maxConcurrent: 1, maxQueue: 1 });
    const wav = Buffer.from(encodeWav16(speechLike(2), 16000));
    const reqs = Array.from({ length: 6 }, () => app.inject({ method: 'POST', url: '/api/predict', payload: wav, headers: { 'content-type': 'audio/wav' } }));
    const health = app.inject({ method: 'GET', url: '/api/health' });
    const res = await Promise.all(reqs);
    const codes = res.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 200, 429, 429, 429, 429]);
    expect(res.find((r) => r.statusCode === 429)!.json().error).toMatch(/server busy/);
    expect((await health).statusCode).toBe(200);
    const h = await app.inject({ method: 'GET', url: '/api/health' });
    expect(h.json()).toMatchObject({ running: 0, queued: 0, served: 2, rejected: 4 });
    await app.close();
    clf.dispose();
  });

  it('504 when a request exceeds its deadline; the server keeps serving', async () => {
    const clf = await Classifier.load(await makeTinyModelFolder());
    const app = await buildServer({ classifier: clf, timeoutMs: 1 });
    const wav = Buffer.from(encodeWav16(speechLike(3), 16000));
    const r = await app.inject({ method: 'POST', url: '/api/predict', payload: wav, headers: { 'content-type': 'audio/wav' } });
    expect(r.statusCode).toBe(504);
    expect(r.json().error).toMatch(/longer than the 1 ms limit/);
    expect((await app.inject({ method: 'GET', url: '/api/health' })).json()).toMatchObject({ status: 'ok', timedOut: 1 });
    await app.close();
    clf.dispose();
  });
});

describe('HTTP API with prediction worker threads (from dist/)', () => {
  it('answers like the in-process path; a timed-out job is killed and health keeps answering', async () => {
    const dir = await makeTinyModelFolder();
    const clf = await Classifier.load(dir);
    const app = await buildServer({ modelDir: dir, workers: 2, maxConcurrent: 2 });
    const wav = Buffer.from(encodeWav16(speechLike(2), 16000));
    const [a, b] = await Promise.all([0, 1].map(() => app.inject({ method: 'POST', url: '/api/predict', payload: wav, headers: { 'content-type': 'audio/wav' } })));
    expect(a.statusCode).toBe(200);
    expect(b.json()).toEqual(a.json());
    const expected = await clf.predictSamples(speechLike(2), 16000);
    for (const k of EMOTIONS) expect(a.json().probabilities[k]).toBeCloseTo(expected.probabilities[k], 5);
    const bad = await app.inject({ method: 'POST', url: '/api/predict', payload: Buffer.from('nope'), headers: { 'content-type': 'audio/wav' } });
    expect(bad.statusCode).toBe(422);
    const h = await app.inject({ method: 'GET', url: '/api/health' });
    expect(h.json()).toMatchObject({ status: 'ok', workers: 2, served: 2 });
    await app.close();

    const slow = await buildServer({ modelDir: dir, workers: 1, timeoutMs: 5 });
    const long = Buffer.from(encodeWav16(speechLike(20), 16000));
    const r = await slow.inject({ method: 'POST', url: '/api/predict', payload: long, headers: { 'content-type': 'audio/wav' } });
    expect(r.statusCode).toBe(504);
    expect((await slow.inject({ method: 'GET', url: '/api/health' })).json()).toMatchObject({ status: 'ok', timedOut: 1, running: 0 });
    await slow.close();
    clf.dispose();
  });
});
