/**
 * Checkpoint files: one binary file holding a JSON header and the raw bytes of every typed
 * array in the value (weights, optimizer moments), written atomically (temp + fsync + rename)
 * so a process killed mid-write leaves the previous checkpoint intact.
 *
 * Layout: "SERCKPT1" | uint32 LE header length | header JSON (UTF-8) | pad to 8 | blob.
 * In the header a typed array is `{"$typed": "Float32Array", "offset": bytes, "length": n}`.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { SerError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

const MAGIC = 'SERCKPT1';

type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array;
const CTORS: Record<string, new (buf: ArrayBuffer, off: number, len: number) => TypedArray> = {
  Float32Array, Float64Array, Int32Array, Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array,
};

/** Encodes a value (plain objects, arrays, numbers, strings, booleans, null, typed arrays) to checkpoint bytes. */
export function encodeCheckpoint(value: unknown): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const walk = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = v.constructor.name;
      if (!CTORS[name]) throw new SerError('train/checkpoint-type', `checkpoint: cannot store a ${name}`);
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      const pad = (8 - (size % 8)) % 8;
      if (pad) {
        chunks.push(new Uint8Array(pad));
        size += pad;
      }
      const offset = size;
      chunks.push(bytes.slice());
      size += bytes.byteLength;
      return { $typed: name, offset, length: (v as TypedArray).length };
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = walk(x);
      return o;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
    return v;
  };
  const header = new TextEncoder().encode(JSON.stringify(walk(value)));
  const headLen = 8 + 4 + header.length;
  const blobStart = headLen + ((8 - (headLen % 8)) % 8);
  const out = new Uint8Array(blobStart + size);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  let off = blobStart;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Decodes checkpoint bytes back to the value; `name` is used in error messages. */
export function decodeCheckpoint(bytes: Uint8Array, name = 'checkpoint'): unknown {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new SerError('train/checkpoint-corrupt', `${name}: not a checkpoint file (bad magic)`);
  }
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  const headLen = 12 + headerLen;
  if (headLen > bytes.length) throw new SerError('train/checkpoint-corrupt', `${name}: truncated header`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, headLen))) as unknown;
  const blobStart = headLen + ((8 - (headLen % 8)) % 8);
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$typed === 'string' && typeof o.offset === 'number' && typeof o.length === 'number') {
        const C = CTORS[o.$typed];
        if (!C) throw new SerError('train/checkpoint-corrupt', `${name}: unknown array type ${o.$typed}`);
        const bpe = (C as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
        const start = blobStart + o.offset;
        if (start + o.length * bpe > bytes.length) throw new SerError('train/checkpoint-corrupt', `${name}: truncated data`);
        const copy = bytes.slice(start, start + o.length * bpe);
        return new C(copy.buffer, 0, o.length);
      }
      if (typeof o.$num === 'string' && Object.keys(o).length === 1) return Number(o.$num);
      const r: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) r[k] = walk(x);
      return r;
    }
    return v;
  };
  return walk(header);
}

/** Writes a checkpoint atomically. */
export async function saveCheckpoint(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(value));
}

/** Reads a checkpoint, or null when the file does not exist. */
export async function loadCheckpoint(path: string): Promise<unknown | null> {
  if (!existsSync(path)) return null;
  const buf = await readFile(path);
  return decodeCheckpoint(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}
