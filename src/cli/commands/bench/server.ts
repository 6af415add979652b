/**
 * `ser bench server [--requests N] [--concurrency C] [--max-seconds S] [--invalid F] [--data DIR] [--json]`:
 * starts `ser serve` in a child process on a free loopback port, sends a bounded mix of valid and
 * invalid uploads from C concurrent clients, and reports throughput, p50/p95 latency, unexpected
 * answers, health-check latency under load, and the server's peak RSS.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { encodeWav } from '../../../audio/wav.js';
import { packageRoot } from '../../../util/package.js';
import { SerError } from '../../../util/errors.js';
import { isAudioFileName } from '../../../audio/load.js';
import { benchClassifier, syntheticClip } from './predict.js';

interface Payload {
  kind: string;
  body: Uint8Array;
  type: string;
  /** Status codes that count as a correct answer. */
  ok: number[];
}

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Peak resident set size (VmHWM) of a process in MB, from /proc (Linux); null elsewhere. */
function peakRssMb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? +(Number(m[1]) / 1024).toFixed(1) : null;
  } catch {
    return null;
  }
}

function payloads(dataDir: string | null, count: number): Payload[] {
  const valid: Payload[] = [];
  if (dataDir) {
    const files = readdirSync(dataDir).filter((n) => isAudioFileName(n)).sort().slice(0, count);
    for (const f of files) valid.push({ kind: 'valid', body: new Uint8Array(readFileSync(join(dataDir, f))), type: 'application/octet-stream', ok: [200] });
  }
  for (let i = 0; valid.length < Math.max(1, Math.min(count, 4)); i++) {
    valid.push({ kind: 'valid', body: encodeWav(syntheticClip(3 + (i % 3), 44100, i + 1), 44100), type: 'audio/wav', ok: [200] });
  }
  const invalid: Payload[] = [
    { kind: 'garbage', body: new TextEncoder().encode('this is not audio '.repeat(50)), type: 'audio/wav', ok: [422] },
    { kind: 'empty', body: new Uint8Array(0), type: 'application/octet-stream', ok: [400] },
    { kind: 'silent', body: encodeWav(new Float32Array(44100), 44100), type: 'audio/wav', ok: [422] },
    { kind: 'truncated', body: valid[0].body.subarray(0, 40), type: 'application/octet-stream', ok: [422] },
    { kind: 'wrong-type', body: new TextEncoder().encode('{"a":1}'), type: 'application/json', ok: [415] },
  ];
  return [...valid, ...invalid];
}

export function registerBench(bench: Command): void {
  bench
    .command('server')
    .description('HTTP server under concurrent load on loopback: throughput, p50/p95 latency, errors, peak RSS')
    .option('--model <dir>', 'model folder (default: the bundled model, else an untrained cnn4)')
    .option('--data <dir>', 'audio files to upload (default: generated clips)')
    .option('--requests <n>', 'total requests', (v) => Number(v), 200)
    .option('--concurrency <n>', 'concurrent clients', (v) => Number(v), 8)
    .option('--max-seconds <n>', 'stop sending after this long', (v) => Number(v), 60)
    .option('--invalid <f>', 'fraction of invalid uploads', (v) => Number(v), 0.2)
    .option('--server-concurrency <n>', 'the server\'s --max-concurrent', (v) => Number(v), 2)
    .option('--server-queue <n>', 'the server\'s --max-queue', (v) => Number(v), 64)
    .option('--json', 'print one JSON object')
    .action(async (opts: { model?: string; data?: string; requests: number; concurrency: number; maxSeconds: number; invalid: number; serverConcurrency: number; serverQueue: number; json?: boolean }) => {
      if (!(opts.requests >= 1 && opts.concurrency >= 1 && opts.maxSeconds > 0 && opts.invalid >= 0 && opts.invalid <= 1)) {
        throw new SerError('cli/bad-option', '--requests, --concurrency ≥ 1, --max-seconds > 0, 0 ≤ --invalid ≤ 1');
      }
      const { clf, note, dir } = await benchClassifier(opts.model);
      clf.dispose();
      const dataDir = opts.data ?? null;
      const all = payloads(dataDir, 40);
      const valid = all.filter((p) => p.kind === 'valid');
      const invalid = all.filter((p) => p.kind !== 'valid');

      const child = spawn(process.execPath, [
        join(packageRoot(), 'bin', 'ser.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--model', dir, '--no-web-build',
        '--max-concurrent', String(opts.serverConcurrency), '--max-queue', String(opts.serverQueue),
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      const url = await new Promise<string>((res, rej) => {
        let out = '';
        const timer = setTimeout(() => rej(new SerError('bench/server', `server did not start in 60 s: ${out}`)), 60_000);
        child.stdout.on('data', (d) => {
          out += d;
          const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            res(m[1]);
          }
        });
        child.stderr.on('data', (d) => (out += d));
        child.on('exit', (code) => rej(new SerError('bench/server', `server exited (${code}): ${out}`)));
      });
      try {
        // warm-up: one valid request
        await fetch(`${url}/api/predict`, { method: 'POST', body: new Uint8Array(valid[0].body), headers: { 'content-type': valid[0].type } });
        const lat: Record<string, number[]> = { valid: [], invalid: [] };
        const status: Record<string, number> = {};
        let unexpected = 0;
        let networkErrors = 0;
        let rejected = 0;
        let sent = 0;
        const t0 = performance.now();
        const deadline = t0 + opts.maxSeconds * 1000;
        let nInvalid = 0;
        const client = async () => {
          while (sent < opts.requests && performance.now() < deadline) {
            const i = sent++;
            const wantInvalid = Math.floor((i + 1) * opts.invalid) > nInvalid;
            const p = wantInvalid ? invalid[nInvalid++ % invalid.length] : valid[(i - nInvalid) % valid.length];
            const a = performance.now();
            try {
              const r = await fetch(`${url}/api/predict`, { method: 'POST', body: new Uint8Array(p.body), headers: { 'content-type': p.type } });
              await r.arrayBuffer();
              const ms = performance.now() - a;
              status[r.status] = (status[r.status] ?? 0) + 1;
              if (r.status === 429 || r.status === 503) rejected++;
              else if (!p.ok.includes(r.status)) unexpected++;
              (p.kind === 'valid' ? lat.valid : lat.invalid).push(ms);
            } catch {
              networkErrors++;
            }
          }
        };
        const health: number[] = [];
        let loading = true;
        const prober = (async () => {
          while (loading) {
            const a = performance.now();
            try {
              const r = await fetch(`${url}/api/health`);
              await r.json();
              health.push(performance.now() - a);
            } catch {
              networkErrors++;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
        await Promise.all(Array.from({ length: opts.concurrency }, client));
        const seconds = (performance.now() - t0) / 1000;
        loading = false;
        await prober;
        const done = lat.valid.length + lat.invalid.length;
        const result = {
          model: note,
          data: dataDir ?? 'synthetic',
          requests: done,
          concurrency: opts.concurrency,
          seconds: +seconds.toFixed(2),
          throughputPerSec: +(done / seconds).toFixed(2),
          validLatencyMs: { p50: +percentile(lat.valid, 50).toFixed(1), p95: +percentile(lat.valid, 95).toFixed(1) },
          invalidLatencyMs: { p50: +percentile(lat.invalid, 50).toFixed(1), p95: +percentile(lat.invalid, 95).toFixed(1) },
          healthLatencyMs: { p50: +percentile(health, 50).toFixed(1), max: +Math.max(...health, 0).toFixed(1), probes: health.length },
          status,
          unexpected,
          rejected,
          networkErrors,
          peakRssMb: child.pid ? peakRssMb(child.pid) : null,
        };
        if (opts.json) console.log(JSON.stringify(result));
        else {
          console.log(`model: ${result.model} · data ${result.data} · ${result.requests} requests (${Math.round(opts.invalid * 100)}% invalid), ${opts.concurrency} clients, server --max-concurrent ${opts.serverConcurrency}`);
          console.log(`throughput ${result.throughputPerSec} req/s over ${result.seconds} s`);
          console.log(`latency valid p50 ${result.validLatencyMs.p50} ms, p95 ${result.validLatencyMs.p95} ms; invalid p50 ${result.invalidLatencyMs.p50} ms, p95 ${result.invalidLatencyMs.p95} ms`);
          console.log(`health under load: p50 ${result.healthLatencyMs.p50} ms, max ${result.healthLatencyMs.max} ms (${result.healthLatencyMs.probes} probes)`);
          console.log(`status ${JSON.stringify(status)}; unexpected ${unexpected}, rejected (429/503) ${rejected}, network errors ${networkErrors}`);
          console.log(`server peak RSS ${result.peakRssMb} MB`);
        }
        if (unexpected > 0 || networkErrors > 0) process.exitCode = 1;
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    });
}
