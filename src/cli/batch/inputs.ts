/**
 * The inputs of a batch, streamed: file arguments (files, folders, glob patterns), a manifest
 * (`list.txt`, `list.csv`, `list.jsonl`, or `-` for paths on standard input) and `--shard I/N`.
 * Nothing is collected into a list: a manifest of a million paths is read line by line.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { glob } from 'tinyglobby';
import { AUDIO_EXTENSIONS, isAudioFileName } from '../../audio/load.js';
import { parseCsv } from '../../data/corpus.js';
import { SerError } from '../../util/errors.js';

/** One input after expansion: a file to process, or an error to report as-is. */
export type BatchInput = { file: string; error?: string };

/** Which share of the inputs this process takes: `index` in 0 … `count`-1. */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `I/N` (0 ≤ I < N), the form Kubernetes Indexed Jobs and Slurm arrays fill in. */
export function parseShard(v: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new SerError('cli/bad-option', `--shard must be I/N with 0 ≤ I < N (e.g. 0/4), got "${v}"`);
  return { index, count };
}

/**
 * The shard a path belongs to: the first 4 bytes of its SHA-1 modulo `count`. Depends on the
 * path string only, so every shard process computes the same split of the same manifest.
 */
export function shardOf(path: string, count: number): number {
  return createHash('sha1').update(path).digest().readUInt32BE(0) % count;
}

const GLOB_CHARS = /[*?[\]{}]/;

/** Audio files directly inside `dir`, sorted; an error line when there are none. */
async function* expandDir(dir: string): AsyncGenerator<BatchInput> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && isAudioFileName(d.name))
    .map((d) => d.name)
    .sort();
  if (names.length === 0) yield { file: dir, error: `${dir}: directory holds no audio files (${AUDIO_EXTENSIONS.map((e) => `.${e}`).join(' ')})` };
  for (const n of names) yield { file: join(dir, n) };
}

/**
 * Expands one argument: a file stays, a directory becomes its audio files (sorted), a pattern
 * with glob characters (`calls/**\/*.wav`, quoted so the shell leaves it) becomes its matches
 * (sorted), a missing path becomes an error line.
 */
export async function* expandArg(p: string): AsyncGenerator<BatchInput> {
  let st;
  try {
    st = await stat(p);
  } catch {
    if (GLOB_CHARS.test(p)) {
      const matches = (await glob(p, { onlyFiles: true, expandDirectories: false, absolute: isAbsolute(p) })).sort();
      if (matches.length === 0) yield { file: p, error: `${p}: pattern matches no files` };
      for (const m of matches) yield { file: m };
      return;
    }
    yield { file: p, error: `${p}: no such file or directory` };
    return;
  }
  if (st.isDirectory()) yield* expandDir(p);
  else yield { file: p };
}

/** Expands paths into a list (small argument lists; batches stream through `batchInputs`). */
export async function expandInputs(paths: string[]): Promise<BatchInput[]> {
  const out: BatchInput[] = [];
  for (const p of paths) for await (const i of expandArg(p)) out.push(i);
  return out;
}

/**
 * The paths of a manifest, one at a time. `.csv`: a header row naming a `path` (or `file`)
 * column; `.jsonl`: one JSON string or object with `path` (or `file`) per line; anything else
 * (`.txt`, `-` = standard input): one path per line, blank lines and `#` comments skipped.
 * Relative paths are relative to the manifest's folder (to the working directory for `-`).
 */
export async function* manifestPaths(manifest: string, stdin: NodeJS.ReadableStream = process.stdin): AsyncGenerator<string> {
  const fromStdin = manifest === '-';
  let input: NodeJS.ReadableStream;
  if (fromStdin) input = stdin;
  else {
    try {
      const st = await stat(manifest);
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      throw new SerError('cli/bad-manifest', `--manifest ${manifest}: no such file`);
    }
    input = createReadStream(manifest, { encoding: 'utf8' });
  }
  const kind = fromStdin ? 'txt' : extname(manifest).toLowerCase() === '.csv' ? 'csv' : extname(manifest).toLowerCase() === '.jsonl' ? 'jsonl' : 'txt';
  const base = fromStdin ? '' : dirname(manifest);
  const place = (p: string) => (fromStdin || isAbsolute(p) ? p : join(base, p));
  let column = -1;
  let n = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    const line = n === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    if (kind === 'txt') {
      if (line.trimStart().startsWith('#')) continue;
      yield place(line.trim());
    } else if (kind === 'csv') {
      const cells = parseCsv(line)[0] ?? [];
      if (column < 0) {
        column = cells.findIndex((c) => /^(path|file|filename|audio)$/i.test(c.trim()));
        if (column < 0) throw new SerError('cli/bad-manifest', `${manifest}: the CSV header needs a "path" (or "file") column, got ${JSON.stringify(cells)}`);
        continue;
      }
      const p = cells[column]?.trim();
      if (p) yield place(p);
    } else {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        throw new SerError('cli/bad-manifest', `${manifest}:${n}: not a JSON line`);
      }
      const p = typeof v === 'string' ? v : v && typeof v === 'object' ? ((v as { path?: unknown }).path ?? (v as { file?: unknown }).file) : undefined;
      if (typeof p !== 'string' || p === '') throw new SerError('cli/bad-manifest', `${manifest}:${n}: expected a path string or an object with "path"`);
      yield place(p);
    }
  }
}

export interface InputSpec {
  /** File arguments: files, folders, glob patterns. */
  args: string[];
  /** A manifest file, or '-' for standard input. */
  manifest?: string;
  shard?: Shard;
  stdin?: NodeJS.ReadableStream;
}

/** Every input of a batch (arguments first, then the manifest), restricted to the shard. */
export async function* batchInputs(spec: InputSpec): AsyncGenerator<BatchInput> {
  const keep = (f: string) => !spec.shard || shardOf(f, spec.shard.count) === spec.shard.index;
  for (const a of spec.args) for await (const i of expandArg(a)) if (keep(i.file)) yield i;
  if (spec.manifest !== undefined) for await (const p of manifestPaths(spec.manifest, spec.stdin)) if (keep(p)) yield { file: p };
}

/** How many inputs `batchInputs(spec)` yields (one extra pass; undefined for standard input). */
export async function countInputs(spec: InputSpec): Promise<number | undefined> {
  if (spec.manifest === '-') return undefined;
  let n = 0;
  for await (const _ of batchInputs(spec)) n++;
  return n;
}
