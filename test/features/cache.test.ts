import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FeatureCache, cacheKey, decodeEntry, encodeEntry, sha256Hex, CACHE_HEADER_BYTES } from '../../src/features/cache.js';
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

const KEY = sha256Hex('some key');

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

  it('rejects another key, a flipped payload byte, a truncation, a bad magic and another version', () => {
    const bytes = encodeEntry(KEY, spec());
    expect(decodeEntry(sha256Hex('other'), bytes)).toEqual({ ok: false, reason: 'entry belongs to another key' });
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
    expect(c.stats).toEqual({ hits: 1, misses: 1, rejected: 0, writes: 1 });
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
    const key = cacheKey(sha256Hex(readFileSync(wav)), params);
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
