/**
 * Per-kernel timing: wraps every kernel registered for a backend with a timer (synchronous backends
 * such as wasm and cpu run a kernel entirely inside its function, so wall time is kernel time).
 */
import { getKernelsForBackend, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

/** A running profile; `stop()` restores the kernels and returns the totals, slowest first. */
export interface KernelProfiler {
  reset(): void;
  stop(): KernelTime[];
}

const hasCpuUsage = typeof process !== 'undefined' && typeof process.cpuUsage === 'function';

/**
 * Process CPU time in ms where available (Node: robust on a shared, loaded machine), else wall time.
 */
export function cpuNow(): number {
  if (hasCpuUsage) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  return performance.now();
}

/** Starts timing every kernel of `backendName` (CPU time in Node, wall time in browsers). */
export function startKernelProfile(backendName = 'wasm'): KernelProfiler {
  const totals = new Map<string, KernelTime>();
  const originals: KernelConfig[] = getKernelsForBackend(backendName).map((k) => ({ ...k }));
  for (const k of originals) {
    const f = k.kernelFunc;
    const entry: KernelTime = { kernel: k.kernelName, calls: 0, ms: 0 };
    totals.set(k.kernelName, entry);
    const timed: KernelFunc = (args) => {
      const t = cpuNow();
      const out = f(args);
      entry.ms += cpuNow() - t;
      entry.calls++;
      return out;
    };
    unregisterKernel(k.kernelName, backendName);
    registerKernel({ kernelName: k.kernelName, backendName, kernelFunc: timed });
  }
  return {
    reset() {
      for (const e of totals.values()) { e.calls = 0; e.ms = 0; }
    },
    stop() {
      for (const k of originals) {
        unregisterKernel(k.kernelName, backendName);
        registerKernel({ kernelName: k.kernelName, backendName, kernelFunc: k.kernelFunc });
      }
      return [...totals.values()].filter((e) => e.calls > 0).sort((a, b) => b.ms - a.ms);
    },
  };
}
