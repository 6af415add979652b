/**
 * Batches over many machines on BullMQ (Redis): `enqueue` cuts the inputs into chunks (one BullMQ
 * job each, ids `chunk-1`, `chunk-2`, … in input order), `runWorker` predicts chunks on worker
 * threads and returns each chunk's lines as the job's result, `collectResults` writes the lines of
 * every finished chunk in chunk order, `queueStatus` counts.
 *
 * Exactly once: a chunk's lines exist only as its job's return value, stored by BullMQ when the job
 * completes under its lock. A worker killed mid-chunk stored nothing; its lock expires, BullMQ's
 * stalled-job check (run by the surviving workers) puts the chunk back, and another worker does
 * it whole. A bad input is an error line inside a completed chunk and is never retried; a chunk
 * that itself fails (a crashed worker pool) is retried `attempts` times, then its inputs come out
 * as error lines carrying the reason.
 */
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { describeError, SerError } from '../../util/errors.js';
import type { BatchInput } from './inputs.js';
import { createPredictor, type PredictOptions } from './predictor.js';
import type { BatchLine } from './run.js';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';

/** The payload of one chunk job. */
export interface ChunkData {
  items: BatchInput[];
  options: PredictOptions;
}

export interface QueueRef {
  /** redis://[user:password@]host:port[/db] */
  redis: string;
  /** Queue name (default 'ser'). */
  name?: string;
}

/** How a chunk job is retried: `attempts` for thrown errors; stalls (killed workers) are the worker's `maxStalledCount`. */
export const CHUNK_ATTEMPTS = 3;

function connection(ref: QueueRef, failFast: boolean): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(ref.redis);
  } catch {
    throw new SerError('cli/bad-option', `--redis must be a URL like redis://127.0.0.1:6379, got "${ref.redis}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new SerError('cli/bad-option', `--redis must start with redis:// or rediss://, got "${ref.redis}"`);
  // CLI commands give up after a few tries with a clear error; a worker keeps retrying (Redis may restart)
  return failFast ? { url: ref.redis, retryStrategy: (times: number) => (times > 3 ? null : 200), maxRetriesPerRequest: 2 } : { url: ref.redis };
}

const counterKey = (q: Queue) => `${q.opts.prefix ?? 'bull'}:${q.name}:ser-chunks`;

/**
 * The two plain Redis commands used beside BullMQ's own (PING, INCR). BullMQ's client interface
 * does not list them; the client is ioredis, which has them.
 */
async function redis(q: Queue): Promise<{ ping(): Promise<string>; incr(key: string): Promise<number> }> {
  const c = (await q.client) as unknown as { ping?: unknown; incr?: unknown };
  if (typeof c.ping !== 'function' || typeof c.incr !== 'function') throw new SerError('queue/client', 'the Redis client lacks PING/INCR (expected ioredis)');
  return c as { ping(): Promise<string>; incr(key: string): Promise<number> };
}

/** Opens the queue and checks that Redis answers (SerError `queue/no-redis` if not). */
export async function openQueue(ref: QueueRef): Promise<Queue<ChunkData, BatchLine[]>> {
  const q = new Queue<ChunkData, BatchLine[]>(ref.name ?? 'ser', { connection: connection(ref, true) });
  q.on('error', () => undefined); // surfaced by the ping below
  try {
    await (await redis(q)).ping();
  } catch (e) {
    await q.close().catch(() => undefined);
    throw new SerError('queue/no-redis', `cannot reach Redis at ${ref.redis}: ${describeError(e)}`, { cause: e });
  }
  return q;
}

/** Enqueues the inputs in chunks of `chunkSize`; returns the counts. */
export async function enqueue(
  q: Queue<ChunkData, BatchLine[]>,
  inputs: AsyncIterable<BatchInput>,
  chunkSize: number,
  options: PredictOptions,
): Promise<{ inputs: number; chunks: number; firstChunk: number }> {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new SerError('cli/bad-option', `--chunk must be a positive integer, got ${chunkSize}`);
  const client = await redis(q);
  let items: BatchInput[] = [];
  let nInputs = 0, nChunks = 0, first = 0;
  let batch: Array<{ name: string; data: ChunkData; opts: { jobId: string } }> = [];
  const flushBatch = async () => {
    if (batch.length === 0) return;
    await q.addBulk(batch.map((b) => ({ ...b, opts: { ...b.opts, attempts: CHUNK_ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false } })));
    batch = [];
  };
  const cut = async () => {
    if (items.length === 0) return;
    const n = await client.incr(counterKey(q));
    if (first === 0) first = n;
    batch.push({ name: 'predict', data: { items, options }, opts: { jobId: `chunk-${n}` } });
    nChunks++;
    items = [];
    if (batch.length >= 100) await flushBatch();
  };
  for await (const i of inputs) {
    items.push(i);
    nInputs++;
    if (items.length >= chunkSize) await cut();
  }
  await cut();
  await flushBatch();
  return { inputs: nInputs, chunks: nChunks, firstChunk: first };
}

export interface QueueCounts {
  chunks: number;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

export async function queueStatus(q: Queue): Promise<QueueCounts> {
  const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children', 'completed', 'failed');
  const chunks = Number((await (await q.client).get(counterKey(q))) ?? 0);
  return {
    chunks,
    waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0) + (c['waiting-children'] ?? 0),
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    completed: c.completed ?? 0,
    failed: c.failed ?? 0,
  };
}

/** True when no chunk is waiting, delayed or being worked on. */
export const isSettled = (c: QueueCounts) => c.waiting + c.active + c.delayed === 0;

/**
 * Writes the lines of every finished chunk, chunk by chunk in enqueue order, to `out` (atomically:
 * a temp file renamed at the end) or to standard output. A failed chunk gives one error line per
 * input. Returns the counts, including chunks not finished yet (left out).
 */
export async function collectResults(q: Queue<ChunkData, BatchLine[]>, out?: string): Promise<{ lines: number; errors: number; pendingChunks: number; failedChunks: number }> {
  const chunks = Number((await (await q.client).get(counterKey(q))) ?? 0);
  const tmp = out ? `${out}.tmp-${process.pid}` : undefined;
  const stream = tmp ? createWriteStream(tmp) : process.stdout;
  const write = (l: BatchLine) =>
    new Promise<void>((resolve, reject) => {
      if (stream.write(JSON.stringify(l) + '\n')) resolve();
      else stream.once('drain', resolve).once('error', reject);
    });
  let lines = 0, errors = 0, pendingChunks = 0, failedChunks = 0;
  try {
    const page = 50;
    for (let from = 1; from <= chunks; from += page) {
      const ids = Array.from({ length: Math.min(page, chunks - from + 1) }, (_, k) => `chunk-${from + k}`);
      const jobs = await Promise.all(ids.map(async (id) => {
        const job = (await q.getJob(id)) as Job<ChunkData, BatchLine[]> | undefined;
        return { job, state: job ? await job.getState() : 'missing' };
      }));
      for (const { job, state } of jobs) {
        if (!job || state === 'missing' || state === 'unknown') continue; // removed (`queue clear`)
        if (state === 'completed') {
          for (const l of job.returnvalue ?? []) {
            await write(l);
            lines++;
            if (l.error !== undefined) errors++;
          }
        } else if (state === 'failed') {
          failedChunks++;
          for (const i of job.data.items) {
            await write({ file: i.file, error: i.error ?? `chunk ${job.id} failed after ${job.attemptsMade} attempts: ${job.failedReason}` });
            lines++;
            errors++;
          }
        } else pendingChunks++;
      }
    }
    if (tmp && out) {
      await new Promise<void>((resolve, reject) => (stream as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? reject(e) : resolve())));
      await rename(tmp, out);
    }
  } catch (e) {
    if (tmp) {
      (stream as ReturnType<typeof createWriteStream>).destroy();
      await rm(tmp, { force: true });
    }
    throw e;
  }
  return { lines, errors, pendingChunks, failedChunks };
}

/** Removes the queue's jobs and chunk counter. */
export async function clearQueue(q: Queue): Promise<void> {
  await q.obliterate({ force: true });
  await (await q.client).del(counterKey(q));
}

export interface WorkerOptions extends QueueRef {
  model?: string;
  jobs: number;
  /** Lock of a chunk, renewed every half of it; a killed worker's chunk is taken over after about this long. */
  lockMs?: number;
  /** How often this worker looks for stalled chunks (default lockMs / 2). */
  stalledMs?: number;
  /** Exit once the queue has nothing waiting or active. */
  untilEmpty?: boolean;
  log?: (msg: string) => void;
}

/**
 * Runs a worker until SIGINT/SIGTERM (finishing its chunks first) or, with `untilEmpty`, until the
 * queue is settled. Up to `jobs` chunks at a time, each on one prediction thread.
 */
export async function runWorker(o: WorkerOptions): Promise<{ chunks: number; inputs: number }> {
  const log = o.log ?? ((m: string) => process.stderr.write(`ser worker: ${m}\n`));
  const predictor = await createPredictor(o.model, o.jobs, {}, true);
  const lockDuration = o.lockMs ?? 30_000;
  let chunks = 0, inputs = 0;
  const worker = new Worker<ChunkData, BatchLine[]>(
    o.name ?? 'ser',
    async (job) => {
      const t0 = performance.now();
      log(`${job.id} started (${job.data.items.length} inputs, attempt ${job.attemptsMade + 1})`);
      const lines: BatchLine[] = [];
      for (const item of job.data.items) {
        if (item.error !== undefined) lines.push({ file: item.file, error: item.error });
        else {
          try {
            lines.push(await predictor.predict(item.file, job.data.options));
          } catch (e) {
            lines.push({ file: item.file, error: describeError(e) });
          }
        }
      }
      chunks++;
      inputs += lines.length;
      log(`${job.id} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return lines;
    },
    {
      connection: connection(o, false),
      concurrency: o.jobs,
      lockDuration,
      stalledInterval: o.stalledMs ?? Math.max(500, Math.round(lockDuration / 2)),
      maxStalledCount: 3,
      autorun: false,
    },
  );
  worker.on('error', (e) => log(`error: ${describeError(e)}`));
  worker.on('failed', (job, e) => log(`${job?.id ?? '?'} failed: ${describeError(e)}`));
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= worker.close().then(() => predictor.close()));
  const onSignal = () => void stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let poll: NodeJS.Timeout | undefined;
  if (o.untilEmpty) {
    const q = new Queue(o.name ?? 'ser', { connection: connection(o, false) });
    poll = setInterval(() => {
      queueStatus(q)
        .then((c) => {
          if (isSettled(c)) {
            clearInterval(poll);
            void q.close();
            void stop();
          }
        })
        .catch(() => undefined);
    }, 1000);
  }
  log(`waiting for chunks on queue "${o.name ?? 'ser'}" at ${o.redis} with ${o.jobs} job${o.jobs > 1 ? 's' : ''}`);
  const running = worker.run();
  await running;
  await stop();
  if (poll) clearInterval(poll);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  log(`stopped after ${chunks} chunks (${inputs} inputs)`);
  return { chunks, inputs };
}
