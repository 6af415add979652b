/**
 * Batch-1 training on two threads. A batch of one sample cannot be split into shards (pool.ts), so with
 * `threads` ≥ 2 the calling thread would run it alone while the workers idle. Instead, during the step,
 * every stride-1 Conv2DBackpropFilter (a leaf of the backward pass: its result is only read by the
 * optimizer) is handed to the first worker through `offload-hook.ts`: the kernel's x and dy are copied
 * into a SharedArrayBuffer (reused from step to step, grown when needed), the worker runs the same
 * kernel on its own replica and writes dW back into the buffer, and the calling thread carries on with
 * the rest of the backward pass. Before the gradients are read, `finish()` waits for each job
 * (Atomics.wait on a per-job flag) and copies dW into the output tensor the kernel returned. Same kernel,
 * same inputs → the same bits as computing it here: training with and without offloading gives
 * identical weights (test/train/offload.test.ts).
 */
import { SerError } from '../util/errors.js';
import { setFilterGradOffload, type FilterGradJob } from '../model/kernels/offload-hook.js';
import type { GradientEngine, ShardInput, ShardResult } from './engine.js';

/** What the worker receives for one job (worker.ts). Offsets are in floats into `sab`. */
export interface FilterGradRequest {
  type: 'filterGrad';
  sab: SharedArrayBuffer;
  flags: SharedArrayBuffer;
  /** Index of this job's flag in `flags` (Int32): 0 pending, 1 done, 2 failed. */
  index: number;
  xOff: number;
  xShape: number[];
  dyOff: number;
  dyShape: number[];
  outOff: number;
  attrs: Record<string, unknown>;
}

/** Where the requests go (the pool's first worker). */
export type OffloadPost = (req: FilterGradRequest) => void;

const MAX_JOBS = 64;
/** How long `finish` waits for one job before declaring the worker lost. */
const TIMEOUT_MS = 120_000;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

let enabled = true;
/** Turn batch-1 offloading off/on (A/B benchmarks; on by default). Off, a batch of 1 runs on one thread. */
export function setBatch1OffloadEnabled(on: boolean): void {
  enabled = on;
}

/** Whether batch-1 offloading is on. */
export function batch1OffloadEnabled(): boolean {
  return enabled;
}

let taken = 0;
/** Filter gradients handed to a worker so far in this thread (tests check that offloading happens). */
export function offloadedJobs(): number {
  return taken;
}

interface Pending { job: FilterGradJob; index: number; outOff: number; n: number }

export class FilterGradOffloader {
  private sab = new SharedArrayBuffer(0);
  private readonly flags = new Int32Array(new SharedArrayBuffer(4 * MAX_JOBS));
  private pending: Pending[] = [];
  /** Floats of `sab` used by this step's jobs so far. */
  private used = 0;
  /** Floats this step's jobs needed in total (the next step allocates that much up front). */
  private wanted = 0;

  constructor(private readonly post: OffloadPost) {}

  /** Loss and gradients of a one-sample shard with the filter gradients computed by the worker. */
  compute(engine: GradientEngine, shard: ShardInput): ShardResult {
    this.pending = [];
    this.used = 0;
    this.wanted = 0;
    setFilterGradOffload((job) => this.take(job));
    try {
      return engine.compute(shard, () => this.finish());
    } finally {
      setFilterGradOffload(null);
      // on an exception mid-step: do not leave the worker writing into a buffer the next step reuses
      if (this.pending.length > 0) this.drain();
    }
  }

  private take(job: FilterGradJob): boolean {
    const { x, dy, out } = job;
    if (x.dtype !== 'float32' || dy.dtype !== 'float32' || this.pending.length >= MAX_JOBS) return false;
    const nx = size(x.shape), ndy = size(dy.shape), n = size(out.shape);
    const need = nx + ndy + n;
    this.wanted += need;
    if (this.used + need > this.sab.byteLength / 4) {
      // a bigger buffer only between steps: the jobs of this step may still be using the current one
      if (this.pending.length > 0) return false;
      this.sab = new SharedArrayBuffer(4 * Math.max(need, this.wanted));
    }
    const xOff = this.used, dyOff = xOff + nx, outOff = dyOff + ndy;
    const heap = new Float32Array(this.sab);
    heap.set(job.backend.typedArrayFromHeap(x) as Float32Array, xOff);
    heap.set(job.backend.typedArrayFromHeap(dy) as Float32Array, dyOff);
    this.used += need;
    const index = this.pending.length;
    Atomics.store(this.flags, index, 0);
    this.post({
      type: 'filterGrad', sab: this.sab, flags: this.flags.buffer as SharedArrayBuffer, index,
      xOff, xShape: x.shape.slice(), dyOff, dyShape: dy.shape.slice(), outOff, attrs: job.attrs,
    });
    this.pending.push({ job, index, outOff, n });
    taken++;
    return true;
  }

  /** Waits for every job of this step and writes each dW into the tensor its kernel returned. */
  private finish(): void {
    const jobs = this.pending;
    this.pending = [];
    for (const p of jobs) {
      this.wait(p.index);
      const dst = p.job.backend.typedArrayFromHeap(p.job.out) as Float32Array;
      dst.set(new Float32Array(this.sab, 4 * p.outOff, p.n));
    }
    // the next step gets one buffer big enough for all its jobs
    if (this.wanted > this.sab.byteLength / 4) this.sab = new SharedArrayBuffer(4 * this.wanted);
  }

  private wait(index: number): void {
    const t0 = Date.now();
    for (;;) {
      const f = Atomics.load(this.flags, index);
      if (f === 1) return;
      if (f === 2) throw new SerError('train/worker-failed', 'gradient worker failed on an offloaded filter gradient');
      if (Date.now() - t0 > TIMEOUT_MS) throw new SerError('train/worker-failed', 'gradient worker did not answer an offloaded filter gradient');
      Atomics.wait(this.flags, index, 0, 1000);
    }
  }

  private drain(): void {
    const jobs = this.pending;
    this.pending = [];
    for (const p of jobs) {
      try {
        this.wait(p.index);
      } catch {
        // the step failed already; the original error is the one to report
      }
    }
  }
}
