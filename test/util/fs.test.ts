import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic, writeJsonAtomic, writeFileAtomicSync, ensureDir, sourceDigest } from '../../src/util/fs.js';
import { sha256Hex } from '../../src/util/hash.js';

describe('atomic writes', () => {
  it('writes text, bytes and JSON, creating parents, leaving no temp files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-fs-'));
    try {
      await writeFileAtomic(join(dir, 'a/b/x.txt'), 'hello');
      expect(readFileSync(join(dir, 'a/b/x.txt'), 'utf8')).toBe('hello');
      await writeFileAtomic(join(dir, 'a/b/x.txt'), new Uint8Array([1, 2, 3]));
      expect([...readFileSync(join(dir, 'a/b/x.txt'))]).toEqual([1, 2, 3]);
      await writeJsonAtomic(join(dir, 'j.json'), { k: [1, 2] });
      expect(readFileSync(join(dir, 'j.json'), 'utf8')).toBe('{\n  "k": [\n    1,\n    2\n  ]\n}\n');
      writeFileAtomicSync(join(dir, 's.txt'), 'sync');
      expect(readFileSync(join(dir, 's.txt'), 'utf8')).toBe('sync');
      await ensureDir(join(dir, 'a/b'));
      expect(readdirSync(join(dir, 'a/b'))).toEqual(['x.txt']);
      expect(readdirSync(dir).sort()).toEqual(['a', 'j.json', 's.txt']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sourceDigest', () => {
  // a tree: main.ts (the caller), lib/a.ts, lib/sub/b.ts, other.ts
  const tree = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-digest-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };
  const files = { 'main.ts': 'm', 'lib/a.ts': 'A', 'lib/sub/b.ts': 'B', 'other.ts': 'O' };
  it('hashes every file under a folder in name order with its relative path; .js finds the .ts source; equal trees give equal digests', async () => {
    const x = tree(files), y = tree(files), z = tree({ ...files, 'lib/sub/b.ts': 'B2' });
    try {
      const of = (dir: string) => sourceDigest(pathToFileURL(join(dir, 'main.ts')).href, ['./lib/', './other.js']);
      const dx = await of(x);
      expect(dx).toBe(await sha256Hex('lib/a.ts\nA\n\0lib/sub/b.ts\nB\n\0other.ts\nO'));
      expect(await of(y)).toBe(dx);
      expect(await of(z)).not.toBe(dx);
      await expect(sourceDigest(pathToFileURL(join(x, 'main.ts')).href, ['./missing.js'])).rejects.toThrow(/missing.js .* does not exist/);
    } finally {
      for (const d of [x, y, z]) rmSync(d, { recursive: true, force: true });
    }
  });
});
