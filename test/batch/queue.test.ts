/**
 * Many machines on one: redis-server on loopback, two `ser worker` processes, 1 000 inputs (some
 * broken) enqueued with `ser queue add`; one worker is SIGKILLed mid-chunk. Every input must come
 * out exactly once, broken ones as errors, with the same lines as a single-process `ser predict`.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModelFolder } from '../infer/helpers.js';
import { makeArchive, parseLines, ser, serBackground, sleep, type Archive } from './helpers.js';
import { HAVE_REDIS, startRedis } from '../../src/cli/batch/redis-server.js';

const HAVE_DIST = existsSync(join(__dirname, '../../dist/cli/index.js'));
if (!HAVE_REDIS) console.warn('SKIPPED test/batch/queue.test.ts: redis-server is not installed (apt-get install redis-server)');

describe.skipIf(!HAVE_DIST || !HAVE_REDIS)('ser queue + ser worker on Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let dir: string;
  let model: string;
  let archive: Archive;
  beforeAll(async () => {
    redis = await startRedis();
    model = await makeTinyModelFolder();
    dir = mkdtempSync(join(tmpdir(), 'ser-queue-'));
    archive = makeArchive(dir, 1000, 25);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a worker killed mid-chunk loses nothing; every input once; same lines as one process', async () => {
    const add = await ser(['queue', 'add', '--redis', redis.url, '--manifest', archive.manifest, '--chunk', '20']);
    expect(add.stderr).toBe('');
    expect(add.stdout).toContain('queued 1000 inputs in 50 chunks (chunk-1 … chunk-50)');
    const status = await ser(['queue', 'status', '--redis', redis.url, '--json']);
    expect(JSON.parse(status.stdout)).toEqual({ chunks: 50, waiting: 50, active: 0, delayed: 0, completed: 0, failed: 0 });

    const workerArgs = ['worker', '--redis', redis.url, '--model', model, '--jobs', '1', '--lock-ms', '2000', '--stalled-ms', '500'];
    const a = serBackground(workerArgs);
    const b = serBackground([...workerArgs, '--until-empty']);
    // kill A once it has finished two chunks and is inside a third
    let victim: string | undefined;
    for (let t = 0; t < 6000 && !victim; t++) {
      await sleep(10);
      const started = [...a.stderr().matchAll(/(chunk-\d+) started/g)].map((m) => m[1]!);
      const done = new Set([...a.stderr().matchAll(/(chunk-\d+) done/g)].map((m) => m[1]!));
      if (done.size >= 2) victim = started.find((c) => !done.has(c));
    }
    expect(victim).toBeDefined();
    a.proc.kill('SIGKILL');
    await a.exited;
    expect(a.stderr()).not.toContain(`${victim} done`);

    const res = await ser(['queue', 'results', '--redis', redis.url, '--wait', '--out', join(dir, 'results.jsonl')]);
    expect(res.code).toBe(1); // error lines present
    expect(res.stderr).toMatch(/1000 result lines \(40 errors\)/);
    expect(await b.exited).toBe(0); // --until-empty
    expect(b.stderr()).toMatch(new RegExp(`${victim} started \\(20 inputs, attempt \\d\\)`)); // taken over

    const lines = parseLines(readFileSync(join(dir, 'results.jsonl'), 'utf8'));
    expect(lines.map((l) => l.file)).toEqual(archive.files); // each once, in enqueue order
    for (const l of lines) expect(l.error !== undefined).toBe(archive.bad.has(l.file));

    const single = await ser(['predict', '--manifest', archive.manifest, '--model', model, '--json', '--no-progress']);
    expect(parseLines(single.stdout)).toEqual(lines);

    const after = await ser(['queue', 'status', '--redis', redis.url, '--json']);
    expect(JSON.parse(after.stdout)).toEqual({ chunks: 50, waiting: 0, active: 0, delayed: 0, completed: 50, failed: 0 });
  });

  it('clear empties the queue; a wrong Redis URL is a clear error', async () => {
    const c = await ser(['queue', 'clear', '--redis', redis.url]);
    expect(c.stdout).toContain('cleared');
    const s = await ser(['queue', 'status', '--redis', redis.url, '--json']);
    expect(JSON.parse(s.stdout)).toEqual({ chunks: 0, waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
    const bad = await ser(['queue', 'status', '--redis', 'redis://127.0.0.1:1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ser: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
