/**
 * Relaxed SIMD (`f32x4.relaxed_madd`: a fused multiply-add where the CPU has one) is behind a V8 flag in
 * Node 20. `enableRelaxedSimd` is the one place that turns it on: `initBackend` (src/model/backend.ts)
 * awaits it first thing, before any WebAssembly is compiled, on every thread that runs our kernels (the
 * calling thread and each gradient worker, which all initialise their backend through it). The flag is
 * process-wide in V8; setting it again is harmless. Where it cannot be set (browsers, other engines) and
 * relaxed SIMD is not on already, simd/index.ts compiles the baseline module instead.
 */

/** `(module (func (export "f") (param v128 v128 v128) (result v128) (f32x4.relaxed_madd …)))`. */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00,
  0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
]);

/** Whether this engine accepts relaxed-SIMD instructions now (validates a tiny module). */
export function relaxedSimdSupported(): boolean {
  try {
    return typeof WebAssembly !== 'undefined' && WebAssembly.validate(PROBE);
  } catch {
    return false;
  }
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
let tried = false;

/**
 * Turns on V8's relaxed SIMD in Node (`--experimental-wasm-relaxed-simd`, once per thread) unless the
 * engine has it already; resolves to whether relaxed SIMD is usable. Never throws.
 */
export async function enableRelaxedSimd(): Promise<boolean> {
  if (relaxedSimdSupported()) return true;
  if (isNode && !tried) {
    tried = true;
    try {
      const v8 = await import('node:v8');
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // not settable here: the baseline module is used
    }
  }
  return relaxedSimdSupported();
}
