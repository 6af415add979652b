/**
 * On-disk feature cache. An entry is keyed by SHA-256(file bytes) + `featureKey(params)` and
 * stored as one file: a 64-byte header (magic, format version, dims, payload length, a digest
 * of the key and one of the payload) followed by the float32 payload (little endian).
 * Entries are written to a temp name, fsynced and renamed, so a killed writer never leaves a
 * visible entry; on read every field is verified, and a corrupt, truncated or stale entry is
 * deleted and reported as a miss (then recomputed by `getOrCompute`), never trusted.
 * A failed write (disk full, quota, read-only or unwritable folder: any fs error) is not fatal:
 * the temp file is removed, nothing is renamed into place, `put` returns false, one warning
 * goes to stderr (or every failure to `onWriteError`), and `getOrCompute` still returns the
 * computed features.
 */
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { readFileSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join, resolve, dirname, basename } from 'node:path';
import { decodeAudio } from '../audio/decode.js';
import { readAudioBytes } from '../audio/load.js';
import { SerError } from '../util/errors.js';
import { DEFAULT_FEATURE_PARAMS, type FeatureParams } from './params.js';
import { extractFeatures, featureKey } from './pipeline.js';
import type { Spectrogram } from './types.js';
import { sha256Hex } from '../util/hash.js';
import { sourceDigest } from '../util/fs.js';

/** File magic: "SERF" (speech-emotion features). */
export const CACHE_MAGIC = 0x46524553;
/** Entry format version; entries of another version are stale. */
export const CACHE_FORMAT_VERSION = 1;
export const CACHE_HEADER_BYTES = 64;

/**
 * Digest of the code that turns audio into features — dsp/, audio/, features/ and the random generator —
 * part of every cache key: an entry computed before a change to that code is never found again (a key of
 * inputs and parameters alone once served features of older code for weeks, see `cacheKey`).
 */
export function featureCodeDigest(): Promise<string> {
  return sourceDigest(import.meta.url, ['../dsp/', '../audio/', '../features/', '../util/rng.js']);
}

/**
 * The cache key of (file content, params): SHA-256 over the file's digest, `featureKey` and
 * `featureCodeDigest` (callers whose entries depend on more code — augmentation, test conditions — put its
 * `sourceDigest` into `fileSha256`'s string).
 */
export async function cacheKey(fileSha256: string, params: FeatureParams): Promise<string> {
  return sha256Hex(`${fileSha256}\n${featureKey(params)}\n${await featureCodeDigest()}`);
}

/** Serialises an entry (header + payload). */
export function encodeEntry(key: string, spec: Spectrogram): Uint8Array {
  const payloadBytes = spec.data.length * 4;
  if (spec.data.length !== spec.nMels * spec.frames) throw new SerError('features/bad-shape', `cache: spectrogram data has ${spec.data.length} values, expected ${spec.nMels}×${spec.frames}`);
  const buf = new Uint8Array(CACHE_HEADER_BYTES + payloadBytes);
  const dv = new DataView(buf.buffer);
  const payload = new Uint8Array(buf.buffer, CACHE_HEADER_BYTES, payloadBytes);
  const pv = new DataView(buf.buffer, CACHE_HEADER_BYTES, payloadBytes);
  for (let i = 0; i < spec.data.length; i++) pv.setFloat32(i * 4, spec.data[i]!, true);
  dv.setUint32(0, CACHE_MAGIC, true);
  dv.setUint32(4, CACHE_FORMAT_VERSION, true);
  dv.setUint32(8, spec.nMels, true);
  dv.setUint32(12, spec.frames, true);
  dv.setUint32(16, payloadBytes, true);
  buf.set(createHash('sha256').update(key).digest().subarray(0, 16), 24);
  buf.set(createHash('sha256').update(payload).digest().subarray(0, 24), 40);
  return buf;
}

/** Why an entry was rejected, or the spectrogram it holds. */
export type DecodedEntry = { ok: true; spec: Spectrogram } | { ok: false; reason: string };

/** Parses and verifies an entry (magic, version, key, dims, length, payload digest). */
export function decodeEntry(key: string, buf: Uint8Array): DecodedEntry {
  if (buf.length < CACHE_HEADER_BYTES) return { ok: false, reason: `truncated header (${buf.length} bytes)` };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== CACHE_MAGIC) return { ok: false, reason: 'bad magic' };
  const version = dv.getUint32(4, true);
  if (version !== CACHE_FORMAT_VERSION) return { ok: false, reason: `stale format version ${version}` };
  const nMels = dv.getUint32(8, true), frames = dv.getUint32(12, true), payloadBytes = dv.getUint32(16, true);
  if (payloadBytes !== nMels * frames * 4) return { ok: false, reason: `dims ${nMels}×${frames} do not match payload length ${payloadBytes}` };
  if (buf.length !== CACHE_HEADER_BYTES + payloadBytes) return { ok: false, reason: `length ${buf.length} != ${CACHE_HEADER_BYTES + payloadBytes}` };
  const keyDigest = createHash('sha256').update(key).digest().subarray(0, 16);
  if (!Buffer.from(buf.subarray(24, 40)).equals(keyDigest)) return { ok: false, reason: 'entry belongs to another key' };
  const payload = buf.subarray(CACHE_HEADER_BYTES);
  const digest = createHash('sha256').update(payload).digest().subarray(0, 24);
  if (!Buffer.from(buf.subarray(40, 64)).equals(digest)) return { ok: false, reason: 'payload checksum mismatch' };
  const data = new Float32Array(nMels * frames);
  const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  for (let i = 0; i < data.length; i++) data[i] = pv.getFloat32(i * 4, true);
  return { ok: true, spec: { data, nMels, frames } };
}

/** The synchronous fs calls `put` makes (a seam to inject failing writers in tests). */
export interface CacheWriteFs {
  mkdirSync(path: string, opts: { recursive: true }): unknown;
  openSync(path: string, flags: 'w'): number;
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

/** The real `node:fs` writer (the default). */
export const NODE_CACHE_WRITE_FS: CacheWriteFs = {
  mkdirSync: (p, o) => nodeFs.mkdirSync(p, o),
  openSync: (p, f) => nodeFs.openSync(p, f),
  writeSync: (fd, b, off, len) => nodeFs.writeSync(fd, b, off, len),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
};

export interface FeatureCacheOptions {
  /** Cache folder; default `.cache/features` under the current directory. */
  dir?: string;
  /** Test hook: called after the temp file is written, before it is renamed into place. */
  beforeCommit?: (tempPath: string) => void;
  /** The fs calls used to write entries; default `NODE_CACHE_WRITE_FS` (tests inject failures). */
  fs?: CacheWriteFs;
  /**
   * Called on every failed write (a `features/cache-write` SerError whose `cause` is the fs
   * error). Default: one warning per process on stderr, later failures are silent.
   */
  onWriteError?: (err: SerError) => void;
}

/** True for an error thrown by an fs call (it carries an errno-style string `code`, e.g. ENOSPC). */
export function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code!);
}

let warnedWriteFailure = false;
function warnOnce(err: SerError): void {
  if (warnedWriteFailure) return;
  warnedWriteFailure = true;
  process.stderr.write(`ser: warning: ${err.message}; features are computed but not cached\n`);
}

/** Counters since the cache object was created. */
export interface FeatureCacheStats {
  hits: number;
  misses: number;
  /** Entries found damaged or stale (deleted). */
  rejected: number;
  writes: number;
  /** Writes that failed with an fs error (disk full, read-only, …); nothing was stored. */
  writeFailures: number;
}

let tempCounter = 0;

/** The on-disk feature cache (see the module comment). */
export class FeatureCache {
  readonly dir: string;
  readonly stats: FeatureCacheStats = { hits: 0, misses: 0, rejected: 0, writes: 0, writeFailures: 0 };
  /** The last rejection reason (for diagnostics and tests). */
  lastRejection: string | null = null;
  /** The last failed write (for diagnostics and tests). */
  lastWriteError: SerError | null = null;
  private readonly beforeCommit: ((tempPath: string) => void) | undefined;
  private readonly fs: CacheWriteFs;
  private readonly onWriteError: (err: SerError) => void;

  constructor(opts: FeatureCacheOptions = {}) {
    this.dir = resolve(opts.dir ?? join(process.cwd(), '.cache', 'features'));
    this.beforeCommit = opts.beforeCommit;
    this.fs = opts.fs ?? NODE_CACHE_WRITE_FS;
    this.onWriteError = opts.onWriteError ?? warnOnce;
  }

  /**
   * Entries on disk (and the temp files of writers that died), their bytes, and the oldest and newest write
   * time. A change to the feature code leaves every older entry unreachable (`featureCodeDigest`): this
   * and `prune` are how a user sees and reclaims them.
   */
  usage(): { entries: number; bytes: number; oldest: number | null; newest: number | null } {
    let entries = 0, bytes = 0, oldest: number | null = null, newest: number | null = null;
    for (const f of this.files()) {
      entries++;
      bytes += f.size;
      oldest = oldest === null ? f.mtimeMs : Math.min(oldest, f.mtimeMs);
      newest = newest === null ? f.mtimeMs : Math.max(newest, f.mtimeMs);
    }
    return { entries, bytes, oldest, newest };
  }

  /** Deletes the entries (and temp files) written before `before` (ms since the epoch; default: all); returns what went. */
  prune(before = Number.POSITIVE_INFINITY): { entries: number; bytes: number } {
    let entries = 0, bytes = 0;
    for (const f of this.files()) {
      if (f.mtimeMs >= before) continue;
      try { unlinkSync(f.path); entries++; bytes += f.size; } catch { /* gone meanwhile */ }
    }
    return { entries, bytes };
  }

  /** Every cache file: `ab/<key>.f32` and the `.tmp` leftovers beside them (nothing else in the folder is touched). */
  private *files(): Generator<{ path: string; size: number; mtimeMs: number }> {
    let subs: string[];
    try { subs = readdirSync(this.dir); } catch { return; }
    for (const sub of subs) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of readdirSync(join(this.dir, sub))) {
        if (!name.endsWith('.f32') && !name.endsWith('.tmp')) continue;
        const path = join(this.dir, sub, name);
        try { const st = statSync(path); yield { path, size: st.size, mtimeMs: st.mtimeMs }; } catch { /* gone meanwhile */ }
      }
    }
  }

  /** Where the entry for `key` lives (two-level: `ab/abcdef….f32`). */
  pathFor(key: string): string {
    if (!/^[0-9a-f]{16,}$/.test(key)) throw new SerError('features/bad-cache-key', `cache key must be lowercase hex, got ${JSON.stringify(key)}`);
    return join(this.dir, key.slice(0, 2), `${key}.f32`);
  }

  /** The cached spectrogram for `key`, or undefined (missing, or damaged/stale: then deleted). */
  get(key: string): Spectrogram | undefined {
    const path = this.pathFor(key);
    let buf: Uint8Array;
    try {
      buf = readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') { this.stats.misses++; return undefined; }
      throw new SerError('features/cache-unreadable', `feature cache: cannot read ${path} (${(e as Error).message})`, { cause: e });
    }
    const entry = decodeEntry(key, buf);
    if (!entry.ok) {
      this.stats.rejected++;
      this.stats.misses++;
      this.lastRejection = `${path}: ${entry.reason}`;
      try { unlinkSync(path); } catch { /* already gone */ }
      return undefined;
    }
    this.stats.hits++;
    return entry.spec;
  }

  /**
   * Stores `spec` under `key` atomically (temp file + fsync + rename). Returns true when stored,
   * false when an fs error (ENOSPC, EDQUOT, EROFS, EACCES, …) stopped the write: the temp file
   * is then removed and nothing becomes visible. Any other error (a bug, a test hook) throws
   * `features/cache-write`.
   */
  put(key: string, spec: Spectrogram): boolean {
    const path = this.pathFor(key);
    const bytes = encodeEntry(key, spec);
    const fs = this.fs;
    tempCounter = (tempCounter + 1) % 1e9;
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${tempCounter}.tmp`);
    let fd: number | null = null;
    try {
      fs.mkdirSync(dirname(path), { recursive: true });
      fd = fs.openSync(tmp, 'w');
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      fs.fsyncSync(fd);
      const open = fd;
      fd = null;
      fs.closeSync(open);
      this.beforeCommit?.(tmp);
      fs.renameSync(tmp, path);
    } catch (e) {
      if (fd !== null) try { fs.closeSync(fd); } catch { /* closed */ }
      try { fs.unlinkSync(tmp); } catch { /* never created, or gone */ }
      const err = new SerError('features/cache-write', `feature cache: cannot write ${path} (${(e as Error).message})`, { cause: e });
      if (!isFsError(e)) throw err;
      this.stats.writeFailures++;
      this.lastWriteError = err;
      this.onWriteError(err);
      return false;
    }
    this.stats.writes++;
    return true;
  }

  /**
   * Features of the audio file at `path` with `params`: from the cache, else computed and stored
   * (a failed store only warns: the computed features are returned either way).
   */
  async getOrCompute(path: string, params: FeatureParams = DEFAULT_FEATURE_PARAMS): Promise<Spectrogram> {
    const bytes = await readAudioBytes(path);
    const key = await cacheKey(await sha256Hex(bytes), params);
    const hit = this.get(key);
    if (hit) return hit;
    const spec = extractFeatures(await decodeAudio(bytes, path), params);
    this.put(key, spec);
    return spec;
  }
}
