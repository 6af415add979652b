/** Decibel conversion (librosa `power_to_db`). */
import { SerError } from '../util/errors.js';
import type { Spectrogram } from './types.js';

export interface PowerToDbOptions {
  /** 'max' uses the spectrogram's maximum (librosa `ref=np.max`), a number is a fixed reference. */
  ref?: 'max' | number;
  amin?: number;
  /** Floor at max(dB) - topDb; null disables it. */
  topDb?: number | null;
}

/**
 * librosa `power_to_db(S, ref, amin=1e-10, top_db=80)`: 10·log10(max(amin, S)) −
 * 10·log10(max(amin, ref)), floored at (max − topDb). Returns a new array, or fills `into`
 * (same length; may be `S` itself for an in-place conversion).
 */
export function powerToDb(S: Float32Array, { ref = 'max', amin = 1e-10, topDb = 80 }: PowerToDbOptions = {}, into: Float32Array | null = null): Float32Array {
  if (!(amin > 0)) throw new SerError('features/bad-param', `powerToDb: amin must be positive, got ${amin}`);
  if (topDb !== null && !(topDb >= 0)) throw new SerError('features/bad-param', `powerToDb: top_db must be non-negative, got ${topDb}`);
  let sMax = -Infinity;
  for (let i = 0; i < S.length; i++) if (S[i]! > sMax) sMax = S[i]!;
  const refValue = ref === 'max' ? (S.length ? sMax : 1) : Math.abs(ref);
  const offset = 10 * Math.log10(Math.max(amin, refValue));
  if (into && into.length !== S.length) throw new SerError('features/bad-shape', `powerToDb: output holds ${into.length} values, the input ${S.length}`);
  const out = into ?? new Float32Array(S.length);
  const mx = 10 * Math.log10(sMax > amin ? sMax : amin) - offset;
  if (topDb === null) {
    for (let i = 0; i < S.length; i++) { const v = S[i]!; out[i] = 10 * Math.log10(v > amin ? v : amin) - offset; }
    return out;
  }
  const floor = Math.fround(Math.fround(mx) - topDb);
  // cells certainly below the floor skip the logarithm (the 0.99 margin keeps the result exact)
  const thr = 0.99 * Math.pow(10, (floor + offset) / 10);
  const skipBelow = amin < thr ? thr : 0;
  for (let i = 0; i < S.length; i++) {
    const v = S[i]!;
    if (v < skipBelow) { out[i] = floor; continue; }
    const d = Math.fround(10 * Math.log10(v > amin ? v : amin) - offset);
    out[i] = d < floor ? floor : d;
  }
  return out;
}

/** `powerToDb` on a Spectrogram (same shape); `inPlace` overwrites S's data. */
export function spectrogramToDb(S: Spectrogram, opts: PowerToDbOptions = {}, inPlace = false): Spectrogram {
  return { data: powerToDb(S.data, opts, inPlace ? S.data : null), nMels: S.nMels, frames: S.frames };
}

/** Inverse of `powerToDb` without the floor: ref · 10^(dB/10). */
export function dbToPower(S: Float32Array, ref = 1): Float32Array {
  const out = new Float32Array(S.length);
  for (let i = 0; i < S.length; i++) out[i] = ref * Math.pow(10, S[i]! / 10);
  return out;
}
