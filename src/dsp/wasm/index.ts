/**
 * The DSP wasm module (module.ts, assembled from the .wat files here by scripts/build-simd.mjs): the
 * polyphase resampler's inner loop in wasm SIMD. It runs on a memory of its own (≈ 1 MB: outputs go in
 * blocks of 65 536, each with the input window it reads); inputs are copied in and results copied out,
 * small next to the multiply-adds. Compiled lazily and synchronously (the module is < 1 KB); when
 * WebAssembly or SIMD is missing everything here answers "not available" and callers keep their JS loop.
 * Browser-safe.
 */
import { decodeBase64 } from '../../util/base64.js';
import { DSP_WASM_BASE64 } from './module.js';

interface DspExports {
  resamplePoly(x: number, bank: number, out: number, T: number, K: number, L: number, M: number, m0: number, m1: number): void;
}

let enabled = true;
/** undefined: not tried yet; null: unavailable here. */
let state: { memory: WebAssembly.Memory; exports: DspExports } | null | undefined;

/** Turn the wasm path off/on (tests and benchmarks compare it with the JS loop). */
export function setDspWasmEnabled(on: boolean): void {
  enabled = on;
}

function instance(): { memory: WebAssembly.Memory; exports: DspExports } | null {
  if (state !== undefined) return state;
  try {
    const bytes = decodeBase64(DSP_WASM_BASE64);
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return (state = null);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    state = { memory, exports: inst.exports as unknown as DspExports };
  } catch {
    state = null;
  }
  return state;
}

const align16 = (bytes: number): number => (bytes + 15) & ~15;

/** Outputs per call: the copied input window (≈ BLOCK · M / L + T samples) keeps the memory small for any length. */
const BLOCK = 1 << 16;

/**
 * Writes out[m] = Σ_k bank[p·T + k] · samples[i0 − K + 1 + k] for m in [m0, m1) (num = m·M, i0 = ⌊num / L⌋,
 * p = num − i0·L) — the exact-phase interior outputs of `resample`; every input index must lie inside
 * `samples`. Returns false (and writes nothing) where the wasm module cannot run.
 */
export function resamplePolyWasm(
  samples: Float32Array, bank: Float32Array, out: Float32Array, T: number, K: number, L: number, M: number, m0: number, m1: number,
): boolean {
  if (!enabled) return false;
  const s = instance();
  if (!s) return false;
  const first = (m: number): number => Math.floor((m * M) / L) - K + 1; // first input index of output m
  const fit = (bytes: number): void => {
    const have = s.memory.buffer.byteLength;
    if (bytes > have) s.memory.grow(Math.ceil((bytes - have) / 65536)); // growing keeps the contents
  };
  // the filter bank once, at 0; each block's input window and outputs after it
  const bankAt = 0, xAt = align16(bank.byteLength);
  fit(xAt);
  new Float32Array(s.memory.buffer, bankAt, bank.length).set(bank);
  for (let a = m0; a < m1; a += BLOCK) {
    const b = Math.min(m1, a + BLOCK);
    const w0 = first(a), w1 = first(b - 1) + T; // the inputs outputs a … b−1 read
    const outAt = align16(xAt + 4 * (w1 - w0));
    fit(outAt + 4 * (b - a));
    const buf = s.memory.buffer;
    new Float32Array(buf, xAt, w1 - w0).set(samples.subarray(w0, w1));
    // the kernel addresses x[i] at x + 4i and out[m] at out + 4m: pass the windows' bases shifted back
    // (wasm i32 addition wraps, so a "negative" base lands on the window)
    s.exports.resamplePoly((xAt - 4 * w0) | 0, bankAt, (outAt - 4 * a) | 0, T, K, L, M, a, b);
    out.set(new Float32Array(buf, outAt, b - a), a);
  }
  return true;
}
