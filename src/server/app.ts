/**
 * The HTTP API (Fastify) and the static web app.
 *
 *   POST /api/predict   raw audio body (audio/* or application/octet-stream) or a multipart upload
 *                       → the JSON line of `ser predict --json` (`?segments=SEC[&hop=SEC]` adds a timeline)
 *   GET  /api/health    liveness + load figures, answers while predictions run
 *   GET  /api/model     labels and metadata (incl. metrics) of the loaded model
 *   GET  /              the web app (dist/webapp), model files at /model/…, tfjs wasm at /wasm/…
 *
 * Limits: body size (413), audio duration (413), concurrent predictions + queue (429 when full),
 * per-request timeout (504). No request value is ever used as a filesystem path.
 */
import { readFile } from 'node:fs/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { sniffFormat } from '../audio/decode.js';
import { Classifier } from '../infer/classifier.js';
import { decodeAudio } from '../infer/node-deps.js';
import { describeError, isSerError } from '../util/errors.js';
import { Gate } from './limiter.js';
import { WorkerPool } from './pool.js';
import { predictLine, type PredictJob } from './predict-line.js';
import { staticFiles, type StaticFile } from './static.js';

/** Options of `buildServer`; every limit has a visible default. */
export interface ServerOptions {
  /** Model folder (default: the bundled models/default). Ignored when `classifier` is given. */
  modelDir?: string;
  /** An already loaded classifier (tests, benchmarks). */
  classifier?: Classifier;
  maxBodyMb?: number;
  maxDurationSec?: number;
  /** Predictions running at once. */
  maxConcurrent?: number;
  /** Predictions allowed to wait for a slot; more → 429. */
  maxQueue?: number;
  /** Per-request deadline (queueing + decoding + prediction) → 504. */
  timeoutMs?: number;
  /** Longest allowed timeline window count (guards `?segments=` against tiny values). */
  maxWindows?: number;
  /**
   * Prediction worker threads (default: maxConcurrent when loading from a folder, 0 = predict on
   * the event loop, the default when `classifier` is given).
   */
  workers?: number;
  /** Fastify logger on/off. */
  logger?: boolean;
}

export const SERVER_DEFAULTS = {
  maxBodyMb: 25,
  maxDurationSec: 120,
  maxConcurrent: 2,
  maxQueue: 8,
  timeoutMs: 30_000,
  maxWindows: 2000,
} as const;

/** An HTTP error with a status code; the message goes to the client as `{"error"}`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Status code for a SerError raised while decoding / predicting user audio. */
function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (isSerError(e)) {
    if (e.code === 'audio/too-long') return 413;
    if (e.code === 'infer/too-many-windows') return 400;
    if (e.code.startsWith('audio/') || e.code.startsWith('infer/')) return 422;
    return 500;
  }
  return 500;
}

/** Parses the optional `minConfidence` query value: a number in [0, 1] (default 0). */
function confidenceQuery(v: unknown): number {
  if (v === undefined || v === '') return 0;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new HttpError(400, `query parameter "minConfidence" must be a number between 0 and 1, got "${String(v)}"`);
  return n;
}

/** Parses an optional positive number query value. */
function positive(v: unknown, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new HttpError(400, `query parameter "${name}" must be a positive number of seconds, got "${String(v)}"`);
  return n;
}

/** A display name for the upload: only echoed in the JSON, never used as a path. */
function cleanName(name: unknown): string {
  let s = typeof name === 'string' ? name : '';
  try {
    s = decodeURIComponent(s);
  } catch {
    /* not URI-encoded: keep as sent */
  }
  // eslint-disable-next-line no-control-regex
  const c = s.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 200);
  return c || 'upload';
}

/** Builds the Fastify app (not listening yet): `await app.listen({ port, host })` or `app.inject(…)`. */
export async function buildServer(opts: ServerOptions = {}): Promise<FastifyInstance> {
  const o = { ...SERVER_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as Required<
    Omit<ServerOptions, 'modelDir' | 'classifier'>
  > &
    ServerOptions;
  const bodyLimit = Math.max(1, Math.round(o.maxBodyMb * 1024 * 1024));
  const clf = opts.classifier ?? (await Classifier.load(opts.modelDir));
  const nWorkers = opts.workers ?? (opts.classifier ? 0 : o.maxConcurrent);
  let pool: WorkerPool | null = null;
  if (nWorkers > 0) {
    pool = new WorkerPool(nWorkers, clf.dir || opts.modelDir || '');
    await pool.ready();
  }
  // with workers, never run more predictions at once than there are workers
  const gate = new Gate(pool ? Math.min(o.maxConcurrent, nWorkers) : o.maxConcurrent, o.maxQueue);
  const files: Map<string, StaticFile> = staticFiles(clf.dir || opts.modelDir || null);
  const started = Date.now();
  const counters = { served: 0, failed: 0, rejected: 0, timedOut: 0 };

  // requestTimeout bounds slow uploads (the prediction deadline starts once the body is in)
  const app = Fastify({ logger: o.logger ?? false, bodyLimit, requestTimeout: o.timeoutMs + 30_000 });
  await app.register(multipart, { limits: { fileSize: bodyLimit, files: 1, fields: 10, fieldSize: 1024, parts: 12 } });
  app.addContentTypeParser(/^audio\/.*/, { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    let status = err.statusCode ?? statusOf(err);
    let message = describeError(err);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.code === 'FST_REQ_FILE_TOO_LARGE' || (status === 413 && !isSerError(err))) {
      status = 413;
      message = `the upload is larger than the limit of ${o.maxBodyMb} MB`;
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
      message = `unsupported content-type; send the audio as audio/*, application/octet-stream or multipart/form-data`;
    } else if (status >= 500) {
      counters.failed++;
    }
    reply.code(status).send({ error: message });
  });

  app.get('/api/health', async () => ({
    status: 'ok',
    workers: nWorkers,
    uptimeSec: Math.round((Date.now() - started) / 1000),
    running: gate.running,
    queued: gate.queued,
    ...counters,
  }));

  app.get('/api/model', async () => ({
    labels: clf.labels,
    metadata: clf.metadata,
    metrics: (clf.metadata as { metrics?: unknown }).metrics ?? null,
    limits: { maxBodyMb: o.maxBodyMb, maxDurationSec: o.maxDurationSec, maxConcurrent: o.maxConcurrent, maxQueue: o.maxQueue, timeoutMs: o.timeoutMs },
  }));

  /** Reads the audio bytes and a display name from a raw or multipart request. */
  async function readUpload(req: FastifyRequest): Promise<{ bytes: Uint8Array; name: string }> {
    if (req.isMultipart()) {
      const part = await req.file();
      if (!part) throw new HttpError(400, 'multipart request without a file part (send the audio in a field named "file")');
      const buf = await part.toBuffer();
      return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), name: cleanName(part.filename) };
    }
    const body = req.body;
    if (!Buffer.isBuffer(body)) {
      throw new HttpError(415, 'send the audio as the raw body (content-type audio/* or application/octet-stream) or as multipart/form-data');
    }
    const header = req.headers['x-filename'];
    return { bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), name: cleanName(Array.isArray(header) ? header[0] : header) };
  }

  app.post('/api/predict', async (req: FastifyRequest<{ Querystring: Record<string, string> }>, reply: FastifyReply) => {
    const t0 = performance.now();
    const segments = positive(req.query.segments, 'segments');
    const hop = positive(req.query.hop, 'hop');
    const minConfidence = confidenceQuery(req.query.minConfidence);
    const { bytes, name } = await readUpload(req);
    if (bytes.length === 0) throw new HttpError(400, 'the request body is empty; send the audio bytes');
    // bytes of no known format fail at once, without waiting for a prediction slot
    if (sniffFormat(bytes) === null) await decodeAudio(bytes, name);
    const slot = gate.tryAcquire();
    if (!slot) {
      counters.rejected++;
      reply.header('retry-after', '1');
      throw new HttpError(429, `server busy: ${gate.running} predictions running and ${gate.queued} waiting; retry shortly`);
    }
    const abort = new AbortController();
    const timeoutError = () => new HttpError(504, `prediction took longer than the ${o.timeoutMs} ms limit`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort(timeoutError());
        reject(timeoutError());
      }, Math.max(0, o.timeoutMs - (performance.now() - t0)));
    });
    const job: PredictJob = { bytes, name, segments, hop, maxDurationSec: o.maxDurationSec, maxWindows: o.maxWindows, minConfidence };
    const work = (async () => {
      const release = await slot;
      try {
        if (abort.signal.aborted) return null;
        if (pool) return await pool.run(job, abort.signal);
        return await predictLine(clf, job, () => {
          if (abort.signal.aborted || performance.now() - t0 > o.timeoutMs) throw timeoutError();
        });
      } finally {
        release();
      }
    })();
    work.catch(() => undefined); // a late failure after a timeout must not become an unhandled rejection
    try {
      const line = await Promise.race([work, deadline]);
      counters.served++;
      return line;
    } catch (e) {
      if (e instanceof HttpError && e.status === 504) counters.timedOut++;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  });

  app.get('/*', async (req, reply) => {
    const url = req.url.split('?')[0];
    const f = files.get(url);
    if (!f) {
      reply.code(404);
      return { error: `not found: ${url.slice(0, 200)}` };
    }
    reply.header('content-type', f.type);
    reply.header('cache-control', 'no-cache');
    return reply.send(await readFile(f.path));
  });

  app.addHook('onClose', async () => {
    await pool?.close();
    if (!opts.classifier) clf.dispose();
  });
  return app;
}
