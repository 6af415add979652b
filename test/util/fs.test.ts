import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic, writeFileAtomicSync, ensureDir } from '../../src/util/fs.js';

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
