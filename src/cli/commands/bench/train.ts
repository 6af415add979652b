/**
 * `ser bench train [--json] [--model cnn3 cnn4] [--frames N] [--batch N…] [--threads N] [--backend B]
 * [--reps N] [--profile] [--torch SCRIPT [--python CMD]]`: training and inference speed of the study's CNNs on random
 * log-mel-shaped input, one JSON line per configuration in the exact form of the PyTorch reference
 * script torch_train_step.py. `--torch SCRIPT` runs that script in the same invocation and adds
 * a ratio line per configuration (absolute times drift on a shared machine; ratios are what count).
 * `--profile` prints where the training time goes per tfjs kernel (on the calling thread). Never
 * asserts anything: figures go to BENCHMARKS.md.
 */
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { SerError } from '../../../util/errors.js';
import { createTrainer } from '../../../train/trainer.js';
import { GradientEngine } from '../../../train/engine.js';
import { defaultThreads } from '../../../train/pool.js';
import { OffloadChooser } from '../../../train/offload.js';
import { checkArch, batchArrays, initBackend, startKernelProfile, type ArchName, type BackendName } from '../../../model/index.js';
import type { Spectrogram } from '../../../features/types.js';

export interface TrainBenchLine {
  engine: string;
  model: string;
  threads: number;
  frames: number;
  batch: number;
  inferMsPerSample: number;
  trainMsPerSample: number;
}

function randomSpecs(n: number, rows: number, frames: number, seed: number): Spectrogram[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    const data = new Float32Array(rows * frames);
    for (let i = 0; i < data.length; i++) {
      // xorshift + Box–Muller-free approximation of a standard normal (sum of 4 uniforms)
      let acc = 0;
      for (let k = 0; k < 4; k++) {
        s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
        acc += s / 4294967296;
      }
      data[i] = (acc - 2) * 1.732;
    }
    return { data, nMels: rows, frames };
  });
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Times one configuration: warm-up steps, then `reps` timed training steps and inference passes. */
export async function benchTrainConfig(o: { model: ArchName; frames: number; batch: number; threads: number; backend: BackendName; reps: number; profile?: boolean }): Promise<{ line: TrainBenchLine; profile?: string }> {
  const specs = randomSpecs(o.batch, 128, o.frames, 1234 + o.batch);
  const targets = new Float32Array(o.batch * 5);
  for (let i = 0; i < o.batch; i++) targets[i * 5 + (i % 5)] = 1;
  const trainer = await createTrainer({ arch: o.model, archOptions: {}, lr: 1e-3, seed: 1, threads: o.threads, backend: o.backend });
  try {
    // Steady state, as in a training run of thousands of steps: with 2 threads the worker's kernels
    // compile on their first calls and the batch-1 offload chooser (train/offload.ts) warms up and
    // probes its plans before it settles, so training is timed after those steps (PyTorch's
    // reference needs its 3 warm-up steps only).
    const warm = o.backend === 'cpu' ? 1 : 3;
    const trainWarm = o.backend === 'cpu' ? 1 : OffloadChooser.WARMUP_STEPS + OffloadChooser.PROBE_STEPS + 6;
    for (let i = 0; i < trainWarm; i++) await trainer.trainBatch(specs, targets);
    let t = performance.now();
    for (let i = 0; i < o.reps; i++) await trainer.trainBatch(specs, targets);
    const trainMs = (performance.now() - t) / o.reps / o.batch;
    // inference: the whole batch in one forward pass, eval mode
    const engine = new GradientEngine(o.model, {}, 1);
    const batch = batchArrays(specs, o.model);
    for (let i = 0; i < warm; i++) engine.predict(batch);
    t = performance.now();
    for (let i = 0; i < o.reps; i++) engine.predict(batch);
    const inferMs = (performance.now() - t) / o.reps / o.batch;
    let profile: string | undefined;
    if (o.profile) {
      const shard = { batch, targets, sampleSeeds: Uint32Array.from(specs.map((_, i) => i + 1)), total: o.batch };
      engine.compute(shard);
      const p = startKernelProfile(o.backend === 'cpu' ? 'cpu' : 'wasm');
      const c0 = process.cpuUsage();
      for (let i = 0; i < o.reps; i++) engine.compute(shard);
      const cu = process.cpuUsage(c0);
      const rows = p.stop();
      const stepCpu = (cu.user + cu.system) / 1000 / o.reps;
      const lines = [`profile ${o.model} batch ${o.batch} frames ${o.frames} (calling thread, CPU ms per training step; a composed kernel includes the kernels it calls): step ${stepCpu.toFixed(1)} ms`];
      for (const r of rows.slice(0, 15)) lines.push(`  ${r.kernel.padEnd(24)} ${String(Math.round(r.calls / o.reps)).padStart(4)} calls ${(r.ms / o.reps).toFixed(2).padStart(8)} ms ${((100 * r.ms) / o.reps / stepCpu).toFixed(0).padStart(4)}%`);
      profile = lines.join('\n');
    }
    engine.dispose();
    const engineName = `tfjs-${o.backend}-${tf.version_core}`;
    return {
      line: { engine: engineName, model: o.model, threads: trainer.threads, frames: o.frames, batch: o.batch, inferMsPerSample: round3(inferMs), trainMsPerSample: round3(trainMs) },
      profile,
    };
  } finally {
    trainer.dispose();
  }
}

/**
 * Runs the PyTorch reference script (the shared folder's reference/torch_train_step.py) with the same
 * settings through `python`; null if it fails (python or torch missing).
 */
export function runTorchReference(script: string, python: string, o: { models: string[]; frames: number; batches: number[]; threads: number; reps: number }): TrainBenchLine[] | null {
  if (!existsSync(script)) throw new SerError('cli/bad-option', `--torch ${script}: no such file`);
  const r = spawnSync(python, [script, '--threads', String(o.threads), '--frames', String(o.frames), '--batch', ...o.batches.map(String), '--model', ...o.models, '--reps', String(o.reps)], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return r.stdout.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as TrainBenchLine);
}

const parseIntArg = (v: string): number => {
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n < 1) throw new SerError('cli/bad-option', `expected a positive integer, got '${v}'`);
  return n;
};

export function registerBench(bench: Command): void {
  bench
    .command('train')
    .description('training and inference speed of cnn3/cnn4 (ms per sample), optionally against PyTorch in the same run')
    .option('--json', 'one JSON line per configuration (torch_train_step.py format)')
    .option('--model <names...>', 'architectures: cnn3 cnn4', ['cnn3'])
    .option('--frames <n>', 'frames per spectrogram', parseIntArg, 300)
    .option('--batch <n...>', 'batch sizes', ['1', '8'])
    .option('--threads <n>', `trainer replicas per batch (1 = this thread; default: the machine's cores, at most 4 = ${defaultThreads()})`, parseIntArg, defaultThreads())
    .option('--backend <name>', 'wasm | cpu | tensorflow', 'wasm')
    .option('--reps <n>', 'timed repetitions', parseIntArg, 10)
    .option('--profile', 'print the time per tfjs kernel of a training step')
    .option('--torch <script>', 'also run this PyTorch reference script (torch_train_step.py) with the same settings and print ratios')
    .option('--python <cmd>', 'the Python interpreter for --torch (one that imports torch)', 'python3')
    .action(async (opts: { json?: boolean; model: string[]; frames: number; batch: string[]; threads: number; backend: string; reps: number; profile?: boolean; torch?: string; python: string }) => {
      const models = opts.model.map((m) => {
        const a = checkArch(m);
        if (a !== 'cnn3' && a !== 'cnn4') throw new SerError('cli/bad-option', `--model ${m}: the benchmark covers cnn3 and cnn4 (the reference script's models)`);
        return a;
      });
      const batches = opts.batch.map(parseIntArg);
      const backend = opts.backend as BackendName;
      if (!['wasm', 'cpu', 'tensorflow'].includes(backend)) throw new SerError('cli/bad-option', `--backend ${opts.backend}: use wasm, cpu or tensorflow`);
      await initBackend(backend);
      const ours: TrainBenchLine[] = [];
      if (!opts.json) console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (figures are provisional on a shared machine)`);
      for (const model of models) {
        for (const batch of batches) {
          const { line, profile } = await benchTrainConfig({ model, frames: opts.frames, batch, threads: opts.threads, backend, reps: opts.reps, profile: opts.profile });
          ours.push(line);
          if (opts.json) console.log(JSON.stringify(line));
          else console.log(`${line.engine} ${model} batch ${batch} threads ${line.threads} frames ${opts.frames}: train ${line.trainMsPerSample} ms/sample, infer ${line.inferMsPerSample} ms/sample`);
          if (profile) console.error(profile);
        }
      }
      const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
      console.error(`peak RSS of this process (workers included) ${peakRssMB} MB`);
      if (opts.torch) {
        const python = opts.python;
        const torch = runTorchReference(opts.torch, python, { models, frames: opts.frames, batches, threads: opts.threads, reps: opts.reps });
        if (!torch) {
          console.error(`torch reference failed: ${python} ${opts.torch} (needs a python that imports torch: Debian's python3-torch installs into the system python3, which a pyenv or venv python3 on the PATH may hide — pass it with --python)`);
          return;
        }
        for (const t of torch) {
          if (opts.json) console.log(JSON.stringify(t));
          const o = ours.find((l) => l.model === t.model && l.batch === t.batch);
          if (!o) continue;
          const ratio = { ratioVs: t.engine, model: t.model, threads: t.threads, frames: t.frames, batch: t.batch, trainRatio: round3(o.trainMsPerSample / t.trainMsPerSample), inferRatio: round3(o.inferMsPerSample / t.inferMsPerSample) };
          if (opts.json) console.log(JSON.stringify(ratio));
          else console.log(`${t.engine} ${t.model} batch ${t.batch}: train ${t.trainMsPerSample} ms/sample, infer ${t.inferMsPerSample} → ours/torch train ×${ratio.trainRatio}, infer ×${ratio.inferRatio}`);
        }
      }
    });
}
