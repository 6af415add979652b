import { describe, expect, it, beforeEach, afterEach, vi } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { sha256Hex } from '../../src/util/hash.js';
import { FeatureCache, cacheKey, decodeEntry, encodeEntry, isFsError, CACHE_HEADER_BYTES, NODE_CACHE_WRITE_FS, type CacheWriteFs } from '../../src/features/cache.js';
import { SerError } from '../../src/util/errors.js';
import { featureParams } from '../../src/features/params.js';
import { encodeWav } from '../../src/audio/wav.js';
import type { Spectrogram } from '../../src/features/types.js';

function spec(nMels = 4, frames = 5): Spectrogram {
  const data = new Float32Array(nMels * frames);
  for (let i = 0; i < data.length; i++) data[i] = i * 0.5 - 3;
  return { data, nMels, frames };
}

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ser-cache-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const KEY = await sha256Hex('some key');

describe('cache entry encoding', () => {
  it('round-trips header and payload exactly', () => {
    const s = spec();
    const bytes = encodeEntry(KEY, s);
    expect(bytes.length).toBe(CACHE_HEADER_BYTES + 4 * 20);
    const d = decodeEntry(KEY, bytes);
    expect(d.ok).toBe(true);
    if (d.ok) {
      expect(d.spec.nMels).toBe(4);
      expect(d.spec.frames).toBe(5);
      expect(Array.from(d.spec.data)).toEqual(Array.from(s.data));
    }
  });

  it('rejects another key, a flipped payload byte, a truncation, a bad magic and another version', async () => {
    const bytes = encodeEntry(KEY, spec());
    expect(decodeEntry(await sha256Hex('other'), bytes)).toEqual({ ok: false, reason: 'entry belongs to another key' });
    const flipped = bytes.slice(); flipped[CACHE_HEADER_BYTES + 7]! ^= 0x10;
    expect(decodeEntry(KEY, flipped)).toEqual({ ok: false, reason: 'payload checksum mismatch' });
    expect(decodeEntry(KEY, bytes.subarray(0, bytes.length - 4)).ok).toBe(false);
    expect(decodeEntry(KEY, bytes.subarray(0, 10))).toEqual({ ok: false, reason: 'truncated header (10 bytes)' });
    const magic = bytes.slice(); magic[0] = 0;
    expect(decodeEntry(KEY, magic)).toEqual({ ok: false, reason: 'bad magic' });
    const version = bytes.slice(); version[4] = 99;
    expect(decodeEntry(KEY, version)).toEqual({ ok: false, reason: 'stale format version 99' });
    const dims = bytes.slice(); dims[8] = 5;
    expect(decodeEntry(KEY, dims).ok).toBe(false);
  });
});

describe('FeatureCache', () => {
  it('get of a missing key is undefined; put then get returns the same values', () => {
    const c = new FeatureCache({ dir });
    expect(c.get(KEY)).toBeUndefined();
    c.put(KEY, spec());
    const got = c.get(KEY)!;
    expect(Array.from(got.data)).toEqual(Array.from(spec().data));
    expect(c.stats).toEqual({ hits: 1, misses: 1, rejected: 0, writes: 1, writeFailures: 0 });
  });

  it('a truncated entry is detected, deleted and reported as a miss', () => {
    const c = new FeatureCache({ dir });
    c.put(KEY, spec());
    const p = c.pathFor(KEY);
    truncateSync(p, statSync(p).size - 3);
    expect(c.get(KEY)).toBeUndefined();
    expect(existsSync(p)).toBe(false);
    expect(c.stats.rejected).toBe(1);
    expect(c.lastRejection).toContain('length');
  });

  it('an entry with a flipped byte is detected and deleted', () => {
    const c = new FeatureCache({ dir });
    c.put(KEY, spec());
    const p = c.pathFor(KEY);
    const b = readFileSync(p); b[b.length - 1]! ^= 1; writeFileSync(p, b);
    expect(c.get(KEY)).toBeUndefined();
    expect(existsSync(p)).toBe(false);
    expect(c.lastRejection).toContain('checksum');
  });

  it('a put that dies before the rename leaves no visible entry', () => {
    const c = new FeatureCache({ dir, beforeCommit: () => { throw new Error('killed'); } });
    expect(() => c.put(KEY, spec())).toThrow(/cannot write/);
    expect(new FeatureCache({ dir }).get(KEY)).toBeUndefined();
  });

  it('a writer process killed mid-put (SIGKILL before rename) leaves no visible entry', () => {
    const script = `
      import { FeatureCache } from ${JSON.stringify(join(process.cwd(), 'src/features/cache.ts'))};
      const c = new FeatureCache({ dir: ${JSON.stringify(dir)}, beforeCommit: () => process.kill(process.pid, 'SIGKILL') });
      c.put(${JSON.stringify(KEY)}, { data: new Float32Array(6), nMels: 2, frames: 3 });
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(r.signal).toBe('SIGKILL');
    const c = new FeatureCache({ dir });
    expect(c.get(KEY)).toBeUndefined();
    // only the orphaned temp file is there, never an entry under the key's name
    const sub = join(dir, KEY.slice(0, 2));
    const names = existsSync(sub) ? readdirSync(sub) : [];
    expect(names.filter((n) => n.endsWith('.f32'))).toEqual([]);
  });

  it('getOrCompute computes once, then serves from the cache; a damaged entry is recomputed', async () => {
    const sr = 16000;
    const samples = new Float32Array(sr / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / sr);
    const wav = join(dir, 'tone.wav');
    writeFileSync(wav, encodeWav(samples, sr));
    const params = featureParams({ preprocess: 'none', nMels: 40, fmax: null });
    const c = new FeatureCache({ dir: join(dir, 'cache') });
    const a = await c.getOrCompute(wav, params);
    expect(c.stats).toMatchObject({ hits: 0, writes: 1 });
    const b = await c.getOrCompute(wav, params);
    expect(c.stats).toMatchObject({ hits: 1, writes: 1 });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    const key = await cacheKey(await sha256Hex(readFileSync(wav)), params);
    const p = c.pathFor(key);
    const bytes = readFileSync(p); bytes[CACHE_HEADER_BYTES + 1]! ^= 0xff; writeFileSync(p, bytes);
    const d = await c.getOrCompute(wav, params);
    expect(c.stats).toMatchObject({ hits: 1, rejected: 1, writes: 2 });
    expect(Array.from(d.data)).toEqual(Array.from(a.data));
    // other parameters → another key
    await c.getOrCompute(wav, featureParams({ preprocess: 'none', nMels: 20, fmax: null }));
    expect(c.stats.writes).toBe(3);
  });
});

/** An fs error as node throws it (`code`, `errno`, `syscall`). */
function fsError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated failure, ${syscall}`), { code, errno: -28, syscall });
}

/** The real writer, except that `failAt` throws `code`; writeSync writes half the bytes first. */
function failingFs(failAt: keyof CacheWriteFs, code: string, log: string[] = []): CacheWriteFs {
  const real = NODE_CACHE_WRITE_FS;
  let wrote = false;
  return {
    ...real,
    mkdirSync: (p, o) => { log.push('mkdir'); if (failAt === 'mkdirSync') throw fsError(code, 'mkdir'); return real.mkdirSync(p, o); },
    openSync: (p, f) => { log.push('open'); if (failAt === 'openSync') throw fsError(code, 'open'); return real.openSync(p, f); },
    writeSync: (fd, b, off, len) => {
      log.push('write');
      if (failAt !== 'writeSync') return real.writeSync(fd, b, off, len);
      // disk fills up mid-write: the first call stores half the entry, the next one fails
      if (!wrote) { wrote = true; return real.writeSync(fd, b, off, Math.max(1, len >> 1)); }
      throw fsError(code, 'write');
    },
    fsyncSync: (fd) => { log.push('fsync'); if (failAt === 'fsyncSync') throw fsError(code, 'fsync'); real.fsyncSync(fd); },
    closeSync: (fd) => { log.push('close'); real.closeSync(fd); },
    renameSync: (a, b) => { log.push('rename'); if (failAt === 'renameSync') throw fsError(code, 'rename'); real.renameSync(a, b); },
    unlinkSync: (p) => { log.push('unlink'); real.unlinkSync(p); },
  };
}

/** Every file under `root` (recursive, relative names), temp files included. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name).sort();
}

describe('FeatureCache: disk full and other write failures are not fatal', () => {
  it('isFsError accepts errno errors only', () => {
    expect(isFsError(fsError('ENOSPC', 'write'))).toBe(true);
    expect(isFsError(fsError('EROFS', 'open'))).toBe(true);
    expect(isFsError(new Error('ENOSPC'))).toBe(false);
    expect(isFsError(new SerError('features/x', 'y'))).toBe(false);
    expect(isFsError('ENOSPC')).toBe(false);
  });

  it('ENOSPC half-way through the write: put returns false, the temp file is removed, nothing is visible', () => {
    const errors: SerError[] = [];
    const log: string[] = [];
    const c = new FeatureCache({ dir, fs: failingFs('writeSync', 'ENOSPC', log), onWriteError: (e) => errors.push(e) });
    expect(c.put(KEY, spec(8, 50))).toBe(false);
    expect(log).toEqual(['mkdir', 'open', 'write', 'write', 'close', 'unlink']);
    expect(filesUnder(dir)).toEqual([]);
    expect(c.stats).toEqual({ hits: 0, misses: 0, rejected: 0, writes: 0, writeFailures: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('features/cache-write');
    expect(errors[0]!.message).toContain(c.pathFor(KEY));
    expect(errors[0]!.message).toContain('ENOSPC');
    expect((errors[0]!.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(c.lastWriteError).toBe(errors[0]);
    expect(new FeatureCache({ dir }).get(KEY)).toBeUndefined();
  });

  it.each([
    ['mkdirSync', 'EROFS', ['mkdir', 'unlink']],
    ['openSync', 'EACCES', ['mkdir', 'open', 'unlink']],
    ['fsyncSync', 'EDQUOT', ['mkdir', 'open', 'write', 'fsync', 'close', 'unlink']],
    ['renameSync', 'ENOSPC', ['mkdir', 'open', 'write', 'fsync', 'close', 'rename', 'unlink']],
  ] as const)('%s failing with %s: put returns false and leaves no file', (at, code, calls) => {
    const errors: SerError[] = [];
    const log: string[] = [];
    const c = new FeatureCache({ dir, fs: failingFs(at, code, log), onWriteError: (e) => errors.push(e) });
    expect(c.put(KEY, spec())).toBe(false);
    expect(log).toEqual(calls);
    expect(filesUnder(dir)).toEqual([]);
    expect(errors.map((e) => (e.cause as NodeJS.ErrnoException).code)).toEqual([code]);
    expect(c.stats.writeFailures).toBe(1);
    expect(c.get(KEY)).toBeUndefined();
  });

  it('the same cache writes again once space is back (a failure is not sticky)', () => {
    let full = true;
    const fs: CacheWriteFs = { ...NODE_CACHE_WRITE_FS, writeSync: (fd, b, off, len) => { if (full) throw fsError('ENOSPC', 'write'); return NODE_CACHE_WRITE_FS.writeSync(fd, b, off, len); } };
    const c = new FeatureCache({ dir, fs, onWriteError: () => {} });
    expect(c.put(KEY, spec())).toBe(false);
    full = false;
    expect(c.put(KEY, spec())).toBe(true);
    expect(Array.from(c.get(KEY)!.data)).toEqual(Array.from(spec().data));
    expect(c.stats).toMatchObject({ writes: 1, writeFailures: 1, hits: 1 });
  });

  it('a non-fs error (a bug or a test hook) still throws features/cache-write', () => {
    const fs: CacheWriteFs = { ...NODE_CACHE_WRITE_FS, writeSync: () => { throw new TypeError('boom'); } };
    const c = new FeatureCache({ dir, fs, onWriteError: () => {} });
    expect(() => c.put(KEY, spec())).toThrow(/cannot write .*boom/);
    expect(filesUnder(dir)).toEqual([]);
    expect(c.stats.writeFailures).toBe(0);
  });

  it('getOrCompute returns the computed features when the disk is full, and recomputes next time', async () => {
    const sr = 16000;
    const samples = new Float32Array(sr / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = 0.5 * Math.sin((2 * Math.PI * 330 * i) / sr);
    const wav = join(dir, 'tone.wav');
    writeFileSync(wav, encodeWav(samples, sr));
    const params = featureParams({ preprocess: 'none', nMels: 40, fmax: null });
    const expected = await new FeatureCache({ dir: join(dir, 'ok') }).getOrCompute(wav, params);
    const errors: SerError[] = [];
    const c = new FeatureCache({ dir: join(dir, 'full'), fs: failingFs('writeSync', 'ENOSPC'), onWriteError: (e) => errors.push(e) });
    const a = await c.getOrCompute(wav, params);
    expect(a.nMels).toBe(expected.nMels);
    expect(a.frames).toBe(expected.frames);
    expect(Array.from(a.data)).toEqual(Array.from(expected.data));
    const b = await c.getOrCompute(wav, params);
    expect(Array.from(b.data)).toEqual(Array.from(expected.data));
    expect(c.stats).toEqual({ hits: 0, misses: 2, rejected: 0, writes: 0, writeFailures: 2 });
    expect(errors).toHaveLength(2);
    expect(filesUnder(join(dir, 'full'))).toEqual([]);
  });

  it('without onWriteError, one warning goes to stderr for the whole process', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const a = new FeatureCache({ dir: join(dir, 'a'), fs: failingFs('openSync', 'ENOSPC') });
      const b = new FeatureCache({ dir: join(dir, 'b'), fs: failingFs('writeSync', 'EDQUOT') });
      expect(a.put(KEY, spec())).toBe(false);
      expect(a.put(await sha256Hex('k2'), spec())).toBe(false);
      expect(b.put(KEY, spec())).toBe(false);
      const lines = spy.mock.calls.map((c) => String(c[0]));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^ser: warning: feature cache: cannot write .*ENOSPC.*not cached\n$/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('FeatureCache usage and prune, and `ser cache`', () => {
  it('counts and removes entries by write time, leaves other files alone; the CLI reports and clears', async () => {
    const c = new FeatureCache({ dir });
    const keys = await Promise.all(['a', 'b', 'c'].map((k) => sha256Hex(k)));
    for (const k of keys) expect(c.put(k, spec())).toBe(true);
    const entryBytes = CACHE_HEADER_BYTES + 4 * 20;
    writeFileSync(join(dir, 'README.txt'), 'not an entry');
    const u = c.usage();
    expect([u.entries, u.bytes]).toEqual([3, 3 * entryBytes]);
    // one entry written ten days ago
    const old = Date.now() / 1000 - 10 * 86400;
    utimesSync(c.pathFor(keys[0]!), old, old);
    expect(c.prune(Date.now() - 5 * 86_400_000)).toEqual({ entries: 1, bytes: entryBytes });
    expect(c.get(keys[0]!)).toBeUndefined();
    expect(c.get(keys[1]!)).toBeDefined();
    const ser = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../train/ser-entry.ts'), ...args], { encoding: 'utf8' });
    const info = ser(['cache', 'info', '--cache', dir, '--json']);
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ dir, entries: 2, bytes: 2 * entryBytes });
    expect(ser(['cache', 'clear', '--cache', dir, '--older-than', 'x']).stderr).toContain('--older-than must be a number of days');
    const clear = ser(['cache', 'clear', '--cache', dir]);
    expect(clear.status, clear.stderr).toBe(0);
    expect(clear.stdout).toContain(`${dir}: removed 2 entries`);
    expect(c.usage().entries).toBe(0);
    expect(readFileSync(join(dir, 'README.txt'), 'utf8')).toBe('not an entry');
  }, 60_000);
});
