/**
 * tfjs backend setup. `wasm` (XNNPACK + SIMD) is the default: it runs the forward pass fast, and our
 * kernels in `kernels/` make it train (tfjs's wasm backend lacks Conv2DBackpropFilter and has slow
 * Conv2DBackpropInput / MaxPoolGrad). `cpu` is pure JS (slow, a reference). `tensorflow` uses
 * @tensorflow/tfjs-node only if it happens to be installed (it is never a dependency).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { SerError } from '../util/errors.js';
import { registerKernels } from './kernels/index.js';
import { enableRelaxedSimd } from './kernels/simd/relaxed.js';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow';

export interface BackendOptions {
  /**
   * Where the tfjs-backend-wasm `.wasm` files are: a URL prefix ending in `/` (browser) or a folder
   * path. Default in Node: the installed package's `dist/` folder; in a browser it must be given.
   */
  wasmPath?: string;
}

let wasmPathsSet = false;

/** Folder of the tfjs-backend-wasm binaries in node_modules (Node only). */
async function nodeWasmDir(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

/**
 * Select and initialise a tfjs backend; returns the active backend's name. Registers our kernels
 * and gradients (kernels/index.ts, once). Idempotent.
 */
export async function initBackend(name: BackendName = 'wasm', options: BackendOptions = {}): Promise<string> {
  // before any WebAssembly is compiled (the one home of the relaxed-SIMD flag; see kernels/simd/relaxed.ts)
  await enableRelaxedSimd();
  if (name === 'wasm') {
    if (!wasmPathsSet) {
      const prefix = options.wasmPath ?? (isNode ? await nodeWasmDir() : undefined);
      if (prefix) setWasmPaths(prefix);
      wasmPathsSet = true;
    }
  } else if (name === 'tensorflow') {
    try {
      const modName = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ modName);
    } catch (e) {
      throw new SerError(
        'model/backend-unavailable',
        "backend 'tensorflow' needs the optional package @tensorflow/tfjs-node, which is not installed; use --backend wasm",
        { cause: e },
      );
    }
  } else if (name !== 'cpu') {
    throw new SerError('model/backend-unknown', `unknown backend '${String(name)}' (use wasm, cpu or tensorflow)`);
  }
  if (tf.getBackend() !== name || !tf.engine().backendName) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new SerError('model/backend-unavailable', `could not initialise the tfjs '${name}' backend`);
  }
  await tf.ready();
  registerKernels(name);
  if (name === 'cpu') {
    // silence tfjs's one-time "install tfjs-node" console banner on the cpu backend
    const b = tf.backend() as unknown as { firstUse?: boolean };
    if ('firstUse' in b) b.firstUse = false;
  }
  return tf.getBackend();
}
