/**
 * `ser bench batch`: archive throughput and memory. Generates a synthetic archive in a temp folder
 * (`--distinct` different speech-like clips, hard-linked under new names up to `--files`), then runs
 * the real CLI as child processes: `ser predict --manifest … --out …` with 1, 2 and N jobs
 * (files/s, per core, peak RSS from each run's summary line), the largest run again on the whole
 * archive (peak memory against the small run), and — when `redis-server` is installed — 1 and then
 * 2 `ser worker` processes on one Redis (throughput from BullMQ's own start/finish times of the
 * chunks, so process start-up is not counted).
 */
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { encodeWav } from '../../../audio/wav.js';
import { defaultModelDir } from '../../../infer/classifier.js';
import { packageRoot } from '../../../util/package.js';
import { SerError } from '../../../util/errors.js';
import { clearQueue, openQueue } from '../../batch/queue.js';
import { startRedis } from '../../batch/redis-server.js';
import { syntheticClip } from './predict.js';

interface RunFigure {
  jobs: number;
  files: number;
  seconds: number;
  filesPerSec: number;
  perCore: number;
  peakRssMB: number;
  /** CPU time of the whole process (all threads) per file. */
  cpuMsPerFile: number;
}

const BIN = () => join(packageRoot(), 'bin', 'ser.js');

function runSer(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN(), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The archive: `distinct` clips of 1.5–3.5 s at 16 kHz, hard-linked to `files` names; manifests of the first n. */
function makeArchive(dir: string, files: number, distinct: number): (n: number) => string {
  const src = join(dir, 'distinct');
  const arc = join(dir, 'archive');
  mkdirSync(src, { recursive: true });
  mkdirSync(arc, { recursive: true });
  for (let i = 0; i < Math.min(distinct, files); i++) {
    writeFileSync(join(src, `${i}.wav`), encodeWav(syntheticClip(1.5 + (i % 5) * 0.5, 16000, i + 1), 16000, { encoding: 'pcm16' }));
  }
  const paths: string[] = [];
  for (let i = 0; i < files; i++) {
    const p = join(arc, `call-${String(i).padStart(6, '0')}.wav`);
    linkSync(join(src, `${i % distinct}.wav`), p);
    paths.push(p);
  }
  return (n: number) => {
    const m = join(dir, `manifest-${n}.txt`);
    writeFileSync(m, paths.slice(0, n).join('\n') + '\n');
    return m;
  };
}

async function predictRun(manifest: string, n: number, jobs: number, model: string, out: string): Promise<RunFigure> {
  const r = await runSer(['predict', '--manifest', manifest, '--model', model, '--jobs', String(jobs), '--out', out]);
  const m = /(\d+) inputs \((\d+) errors\) in ([\d.]+) s, ([\d.]+) files\/s with \d+ jobs?; peak RSS (\d+) MB; CPU ([\d.]+) ms\/file/.exec(r.stderr);
  if (!m) throw new SerError('bench/failed', `ser predict failed (exit ${r.code}): ${r.stderr.slice(-500)}`);
  if (Number(m[2]) > 0) throw new SerError('bench/failed', `${m[2]} inputs failed in the benchmark archive`);
  const fps = Number(m[4]);
  return { jobs, files: n, seconds: Number(m[3]), filesPerSec: fps, perCore: fps / Math.min(jobs, availableParallelism()), peakRssMB: Number(m[5]), cpuMsPerFile: Number(m[6]) };
}

async function queueRun(url: string, manifest: string, n: number, workers: number, model: string): Promise<{ workers: number; files: number; seconds: number; filesPerSec: number }> {
  const q = await openQueue({ redis: url, name: 'bench' });
  try {
    await clearQueue(q);
    const add = await runSer(['queue', 'add', '--redis', url, '--queue', 'bench', '--manifest', manifest, '--chunk', '25']);
    if (add.code !== 0) throw new SerError('bench/failed', `ser queue add failed: ${add.stderr}`);
    const runs = await Promise.all(
      Array.from({ length: workers }, () => runSer(['worker', '--redis', url, '--queue', 'bench', '--model', model, '--jobs', '1', '--until-empty'])),
    );
    for (const r of runs) if (r.code !== 0) throw new SerError('bench/failed', `ser worker failed: ${r.stderr.slice(-500)}`);
    const jobs = await q.getJobs(['completed'], 0, -1);
    const start = Math.min(...jobs.map((j) => j.processedOn ?? Infinity));
    const end = Math.max(...jobs.map((j) => j.finishedOn ?? 0));
    const done = jobs.reduce((s, j) => s + ((j.returnvalue as unknown[] | undefined)?.length ?? 0), 0);
    if (done !== n) throw new SerError('bench/failed', `queue run finished ${done} of ${n} inputs`);
    const seconds = (end - start) / 1000;
    return { workers, files: n, seconds, filesPerSec: n / seconds };
  } finally {
    await q.close();
  }
}

export function registerBench(bench: Command): void {
  bench
    .command('batch')
    .description('archive throughput (files/s, per core) with 1, 2 and N jobs, peak memory small vs large archive, 1 vs 2 queue workers')
    .option('--files <n>', 'archive size for the memory comparison', (v) => Number(v), 10_000)
    .option('--small <n>', 'archive size for throughput runs and the small memory figure', (v) => Number(v), 1000)
    .option('--distinct <n>', 'different clips in the archive (the rest are hard links)', (v) => Number(v), 200)
    .option('--model <dir>', 'model folder (default: the bundled model)')
    .option('--no-queue', 'skip the Redis worker runs')
    .option('--json', 'print one JSON object')
    .action(async (o: { files: number; small: number; distinct: number; model?: string; queue: boolean; json?: boolean }) => {
      if (![o.files, o.small, o.distinct].every((x) => Number.isInteger(x) && x >= 1) || o.small > o.files) {
        throw new SerError('cli/bad-option', '--files, --small, --distinct must be positive integers with --small ≤ --files');
      }
      const model = o.model ?? defaultModelDir();
      const cores = availableParallelism();
      const dir = mkdtempSync(join(tmpdir(), 'ser-bench-batch-'));
      const log = (s: string) => process.stderr.write(`bench batch: ${s}\n`);
      const load0 = loadavg()[0];
      try {
        log(`generating ${o.files} files (${o.distinct} distinct) in ${dir}`);
        const manifest = makeArchive(dir, o.files, o.distinct);
        const small = manifest(o.small);
        const jobsList = [...new Set([1, 2, cores])];
        const runs: RunFigure[] = [];
        for (const j of jobsList) {
          runs.push(await predictRun(small, o.small, j, model, join(dir, `out-${j}.jsonl`)));
          log(`${o.small} files, ${j} jobs: ${runs.at(-1)!.filesPerSec.toFixed(1)} files/s, peak ${runs.at(-1)!.peakRssMB} MB`);
        }
        const big = await predictRun(manifest(o.files), o.files, cores, model, join(dir, 'out-big.jsonl'));
        log(`${o.files} files, ${cores} jobs: ${big.filesPerSec.toFixed(1)} files/s, peak ${big.peakRssMB} MB`);
        const smallSame = runs.find((r) => r.jobs === cores)!;
        const one = runs.find((r) => r.jobs === 1)!, two = runs.find((r) => r.jobs === 2)!;
        let queue: { one: Awaited<ReturnType<typeof queueRun>>; two: Awaited<ReturnType<typeof queueRun>>; speedup: number } | { skipped: string } = { skipped: '--no-queue' };
        if (o.queue) {
          let redis: Awaited<ReturnType<typeof startRedis>> | null = null;
          try {
            redis = await startRedis();
          } catch (e) {
            queue = { skipped: (e as Error).message };
          }
          if (redis) {
            try {
              const q1 = await queueRun(redis.url, small, o.small, 1, model);
              log(`queue, 1 worker: ${q1.filesPerSec.toFixed(1)} files/s`);
              const q2 = await queueRun(redis.url, small, o.small, 2, model);
              log(`queue, 2 workers: ${q2.filesPerSec.toFixed(1)} files/s`);
              queue = { one: q1, two: q2, speedup: q2.filesPerSec / q1.filesPerSec };
            } finally {
              await redis.stop();
            }
          }
        }
        const result = {
          date: new Date().toISOString(),
          cores,
          loadAvgBefore: load0,
          loadAvgAfter: loadavg()[0],
          model,
          runs,
          speedup2: two.filesPerSec / one.filesPerSec,
          memory: { small: { files: o.small, peakRssMB: smallSame.peakRssMB }, large: { files: o.files, peakRssMB: big.peakRssMB, filesPerSec: big.filesPerSec }, ratio: big.peakRssMB / smallSame.peakRssMB },
          queue,
        };
        if (o.json) {
          console.log(JSON.stringify(result));
          return;
        }
        console.log(`batch prediction, ${cores} cores, load average ${load0.toFixed(2)} → ${result.loadAvgAfter.toFixed(2)}`);
        for (const r of runs) console.log(`  ${r.jobs} job${r.jobs > 1 ? 's' : ' '}: ${r.filesPerSec.toFixed(1)} files/s (${r.perCore.toFixed(1)} per core), CPU ${r.cpuMsPerFile.toFixed(1)} ms/file, peak RSS ${r.peakRssMB} MB`);
        console.log(`  speed-up 1 → 2 jobs: ${result.speedup2.toFixed(2)}×`);
        console.log(`  peak RSS ${o.small} files: ${smallSame.peakRssMB} MB; ${o.files} files: ${big.peakRssMB} MB (×${result.memory.ratio.toFixed(2)})`);
        if ('speedup' in queue) console.log(`  queue: 1 worker ${queue.one.filesPerSec.toFixed(1)} files/s, 2 workers ${queue.two.filesPerSec.toFixed(1)} files/s: ${queue.speedup.toFixed(2)}×`);
        else console.log(`  queue: skipped (${queue.skipped})`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
}
