/**
 * Batch-1 training on two threads. A batch of one sample cannot be split into shards (pool.ts), so with
 * `threads` ≥ 2 the calling thread would run it alone while the workers idle. Instead, during the step,
 * the stride-1 Conv2DBackpropFilters (leaves of the backward pass: their results are only read by the
 * optimizer) are handed to the first worker through `offload-hook.ts`, all of them or all but the last
 * (`OffloadChooser` measures which is faster): the kernel's x and dy are copied
 * into a SharedArrayBuffer (reused from step to step, grown when needed), the worker runs the same
 * kernel on its own replica and writes dW back into the buffer, and the calling thread carries on with
 * the rest of the backward pass. Before the gradients are read, `finish()` collects the jobs, last
 * posted first: a job the worker has not started yet is taken back and computed here from the copies in
 * the buffer (so when the worker is slow — e.g. its core is busy with another process — this thread never
 * sits idle waiting for work it could do itself), one it has started is waited for (Atomics.wait on the
 * job's flag); dW goes into the output tensor the kernel returned. Same kernel, same inputs → the same
 * bits wherever it runs: training with and without offloading gives identical weights
 * (test/train/offload.test.ts).
 *
 * A job's flag holds (ticket << 3) | state, the ticket unique per job (a stale message for a reused slot
 * cannot match): state 0 posted, 3 running on the worker, 1 done, 2 failed, 4 taken back. The worker and
 * this thread claim a posted job by compare-and-swap, so exactly one of them computes it.
 */
import { util } from '@tensorflow/tfjs-core';
import { SerError } from '../util/errors.js';
import { setFilterGradOffload, type FilterGradJob } from '../model/kernels/offload-hook.js';
import { JOB_DONE, JOB_FAILED, JOB_POSTED, JOB_TAKEN_BACK, filterGradFromBuffer, type FilterGradRequest, type GradientEngine, type ShardInput, type ShardResult } from './engine.js';

/** Where the requests go (the pool's first worker). */
export type OffloadPost = (req: FilterGradRequest) => void;

const MAX_JOBS = 64;
/** How long `finish` waits for one job before declaring the worker lost. */
const TIMEOUT_MS = 120_000;

/**
 * 'auto' (default): `OffloadChooser` measures steps with different plans now and then and uses the
 * fastest; 'always' / 'never' / a number (offload at most that many filter gradients per step): tests and
 * A/B benchmarks.
 */
export type OffloadMode = 'auto' | 'always' | 'never' | number;
let mode: OffloadMode = 'auto';
export function setBatch1OffloadMode(m: OffloadMode): void {
  mode = m;
}

/**
 * How many of the next batch-1 step's filter gradients to offload, from the measured wall time of recent
 * steps. Three plans: all of them; all but the step's last one (the first layer's, which comes when the
 * backward pass is over: the calling thread would only copy its inputs into the buffer and then take it
 * back, as the worker is still busy with the previous layer's); none. Offloading pays when the worker has a
 * core of its own; on a machine whose other core is busy (another process), the worker and this thread
 * share one core and offloading costs ≈ 15 % instead. So: after a few offloaded warm-up steps (the
 * worker's kernels are compiled lazily), probe the plans in turn for a few steps each, use the fastest for
 * the next 100 steps, probe again. Every plan gives the same bits, so the choice never changes results.
 */
export class OffloadChooser {
  private probe: Array<{ plan: number; ms: number }> = [];
  private exploit = 0;
  static readonly WARMUP_STEPS = 6;
  /** Probe steps per round: 3 of each plan. */
  static readonly PROBE_STEPS = 9;
  static readonly EXPLOIT_STEPS = 100;
  /** The plans as limits on the number of offloaded jobs, once the step's job count is known. */
  private plans: number[] = [Infinity];
  private choice = Infinity;
  /** Offloaded steps before the first probe: the worker's copy of the kernels needs warming up (JIT). */
  private warm = OffloadChooser.WARMUP_STEPS;

  /** The most filter gradients the next step may offload (0: none, Infinity: all). */
  next(): number {
    if (typeof mode === 'number') return mode;
    if (mode !== 'auto') return mode === 'always' ? Infinity : 0;
    if (this.warm > 0) return Infinity;
    if (this.exploit > 0) return this.choice;
    return this.plans[this.probe.length % this.plans.length]!;
  }

  /**
   * Records the cost of a step that ran with limit `plan` (wall time, per frame when sample lengths vary)
   * and offered `jobs` filter gradients.
   */
  record(plan: number, ms: number, jobs: number): void {
    if (mode !== 'auto') return;
    if (this.warm > 0) {
      this.warm--;
      if (this.warm === 0) this.plans = jobs > 1 ? [Infinity, jobs - 1, 0] : [Infinity, 0];
      return;
    }
    if (this.exploit > 0) {
      this.exploit--;
      return;
    }
    this.probe.push({ plan, ms });
    if (this.probe.length < OffloadChooser.PROBE_STEPS) return;
    const median = (p: number): number => {
      const a = this.probe.filter((r) => r.plan === p).map((r) => r.ms).sort((x, y) => x - y);
      return a.length ? a[a.length >> 1]! : Infinity;
    };
    this.choice = this.plans.reduce((best, p) => (median(p) < median(best) ? p : best));
    this.probe = [];
    this.exploit = OffloadChooser.EXPLOIT_STEPS;
  }
}


let taken = 0;
/** Filter gradients posted to a worker so far in this thread (tests check that offloading happens). */
export function offloadedJobs(): number {
  return taken;
}

interface Pending { job: FilterGradJob; index: number; ticket: number; xOff: number; dyOff: number; outOff: number; n: number }

export class FilterGradOffloader {
  private sab = new SharedArrayBuffer(0);
  private readonly flags = new Int32Array(new SharedArrayBuffer(4 * MAX_JOBS));
  private pending: Pending[] = [];
  /** Floats of `sab` used by this step's jobs so far. */
  private used = 0;
  /** Floats this step's jobs needed in total (the next step allocates that much up front). */
  private wanted = 0;
  private nextTicket = 1;
  /** This step's limit on offloaded jobs, and the filter gradients it offered (taken or not). */
  private limit = Infinity;
  private offered = 0;
  /** The buffer the worker has (posted with an earlier job), or null. */
  private sentSab: SharedArrayBuffer | null = null;

  constructor(private readonly post: OffloadPost) {}

  /** Filter gradients the last step offered (taken or computed in place). */
  get offeredLastStep(): number {
    return this.offered;
  }

  /**
   * Loss and gradients of a one-sample shard with the first `limit` filter gradients (in the order the
   * backward pass reaches them) computed by the worker, the others here as usual.
   */
  compute(engine: GradientEngine, shard: ShardInput, limit = Infinity): ShardResult {
    this.pending = [];
    this.used = 0;
    this.wanted = 0;
    this.offered = 0;
    this.limit = limit;
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
    if (this.offered++ >= this.limit) return false;
    if (x.dtype !== 'float32' || dy.dtype !== 'float32' || this.pending.length >= MAX_JOBS) return false;
    const nx = util.sizeFromShape(x.shape), ndy = util.sizeFromShape(dy.shape), n = util.sizeFromShape(out.shape);
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
    const ticket = this.nextTicket;
    this.nextTicket = (this.nextTicket + 1) & 0x0fffffff || 1;
    Atomics.store(this.flags, index, (ticket << 3) | JOB_POSTED);
    const fresh = this.sentSab !== this.sab;
    this.sentSab = this.sab;
    this.post({
      type: 'filterGrad', ...(fresh ? { sab: this.sab, flags: this.flags.buffer as SharedArrayBuffer } : {}), index, ticket,
      xOff, xShape: x.shape.slice(), dyOff, dyShape: dy.shape.slice(), outOff, attrs: job.attrs,
    });
    this.pending.push({ job, index, ticket, xOff, dyOff, outOff, n });
    taken++;
    return true;
  }

  /**
   * Collects every job of this step, last posted first (the worker takes them first posted first): takes
   * back the ones the worker has not started and computes them here, waits for the others; writes each
   * dW into the tensor its kernel returned.
   */
  private finish(): void {
    setFilterGradOffload(null);
    const jobs = this.pending;
    this.pending = [];
    for (let j = jobs.length - 1; j >= 0; j--) {
      const p = jobs[j]!;
      const dst = p.job.out;
      if (Atomics.compareExchange(this.flags, p.index, (p.ticket << 3) | JOB_POSTED, (p.ticket << 3) | JOB_TAKEN_BACK) === ((p.ticket << 3) | JOB_POSTED)) {
        const dw = filterGradFromBuffer(this.sab, { xOff: p.xOff, xShape: p.job.x.shape, dyOff: p.dyOff, dyShape: p.job.dy.shape, attrs: p.job.attrs });
        (p.job.backend.typedArrayFromHeap(dst) as Float32Array).set(dw);
        continue;
      }
      this.wait(p);
      (p.job.backend.typedArrayFromHeap(dst) as Float32Array).set(new Float32Array(this.sab, 4 * p.outOff, p.n));
    }
    // the next step gets one buffer big enough for all its jobs
    if (this.wanted > this.sab.byteLength / 4) this.sab = new SharedArrayBuffer(4 * this.wanted);
  }

  /** Waits until the worker has finished job `p` (which it has claimed). */
  private wait(p: Pending): void {
    const t0 = Date.now();
    for (;;) {
      const f = Atomics.load(this.flags, p.index);
      if (f === ((p.ticket << 3) | JOB_DONE)) return;
      if (f === ((p.ticket << 3) | JOB_FAILED)) throw new SerError('train/worker-failed', 'gradient worker failed on an offloaded filter gradient');
      if (Date.now() - t0 > TIMEOUT_MS) throw new SerError('train/worker-failed', 'gradient worker did not answer an offloaded filter gradient');
      Atomics.wait(this.flags, p.index, f, 1000);
    }
  }

  /** After a failed step: takes back what the worker has not started, waits for the rest. */
  private drain(): void {
    const jobs = this.pending;
    this.pending = [];
    for (const p of jobs) {
      if (Atomics.compareExchange(this.flags, p.index, (p.ticket << 3) | JOB_POSTED, (p.ticket << 3) | JOB_TAKEN_BACK) === ((p.ticket << 3) | JOB_POSTED)) continue;
      try {
        this.wait(p);
      } catch {
        // the step failed already; the original error is the one to report
      }
    }
  }
}
