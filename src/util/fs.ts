/** File helpers: atomic writes (temp name + fsync + rename) so a crash never leaves half a file. */
import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from './hash.js';

let counter = 0;
function tempName(path: string): string {
  counter = (counter + 1) % 1e9;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${counter}.tmp`);
}

/** Creates a directory and its parents if missing (no error if it exists). */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

/** Synchronous `ensureDir`. */
export function ensureDirSync(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/**
 * Writes `data` to `path` atomically: to a temp file in the same folder, fsync, then rename
 * over the target. Creates the parent folder if needed.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await ensureDir(dirname(path));
  const tmp = tempName(path);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Synchronous `writeFileAtomic`. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  ensureDirSync(dirname(path));
  const tmp = tempName(path);
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
}

/** Writes `value` as pretty JSON (2-space indent, trailing newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown, indent = 2): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, indent) + '\n');
}

/** Synchronous `writeJsonAtomic`. */
export function writeJsonAtomicSync(path: string, value: unknown, indent = 2): void {
  writeFileAtomicSync(path, JSON.stringify(value, null, indent) + '\n');
}

const digests = new Map<string, Promise<string>>();

/**
 * SHA-256 over the files at `paths` (a folder ending in '/': every file under it, in name order),
 * resolved against `base` (the caller's `import.meta.url`), each with its path relative to the
 * first — what a cache key needs so that an entry computed by other code is never found again. A
 * path ending in `.js` also finds its `.ts` source when run from source (tests, tsx). Throws if a
 * path is missing (a key that silently ignored its code would defeat the point). Memoised.
 */
export function sourceDigest(base: string, paths: readonly string[]): Promise<string> {
  const key = `${base}\n${paths.join('\n')}`;
  let d = digests.get(key);
  if (!d) {
    d = (async () => {
      const root = fileURLToPath(new URL('.', base));
      const files: string[] = [];
      const walk = (p: string): void => {
        if (statSync(p).isDirectory()) for (const name of readdirSync(p).sort()) walk(join(p, name));
        else files.push(p);
      };
      for (const rel of paths) {
        let p = fileURLToPath(new URL(rel, base));
        if (!existsSync(p) && p.endsWith('.js')) p = p.slice(0, -3) + '.ts';
        if (!existsSync(p)) throw new Error(`sourceDigest: ${rel} (from ${base}) does not exist`);
        walk(p);
      }
      const parts = files.map((f) => `${relative(root, f)}\n${readFileSync(f, 'utf8')}`);
      return sha256Hex(parts.join('\n\0'));
    })();
    digests.set(key, d);
  }
  return d;
}
