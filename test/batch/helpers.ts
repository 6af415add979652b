/** Helpers for the batch tests: a synthetic archive (good, broken, silent and missing inputs) and the CLI. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { speechLike, writeWav } from '../infer/helpers.js';

export const BIN = resolve(__dirname, '../../bin/ser.js');
export const ROOT = resolve(__dirname, '../..');

export interface Archive {
  manifest: string;
  files: string[];
  /** Inputs that must come out as error lines. */
  bad: Set<string>;
}

/**
 * `n` inputs in `dir`: mostly short speech-like WAVs (0.4–0.9 s, each different), and every
 * `badEvery`-th one broken in turn — a cut RIFF header, random bytes, silence or a missing path.
 */
export function makeArchive(dir: string, n: number, badEvery = 20): Archive {
  mkdirSync(join(dir, 'audio'), { recursive: true });
  const files: string[] = [];
  const bad = new Set<string>();
  for (let i = 0; i < n; i++) {
    const name = `clip-${String(i).padStart(5, '0')}.wav`;
    const p = join(dir, 'audio', name);
    if (i % badEvery === badEvery - 1) {
      const kind = Math.floor(i / badEvery) % 4;
      if (kind === 0) writeFileSync(p, Buffer.from('RIFF\x24\x00\x00\x00WAVEjunkjunkjunk', 'latin1'));
      else if (kind === 1) writeFileSync(p, Buffer.from(Array.from({ length: 300 }, (_, k) => (k * 7919 + i) & 255)));
      else if (kind === 2) writeWav(join(dir, 'audio'), name, new Float32Array(8000));
      // kind 3: listed but never written (missing)
      bad.add(p);
    } else {
      writeWav(join(dir, 'audio'), name, speechLike(0.4 + (i % 6) * 0.1, 16000, i + 1));
    }
    files.push(p);
  }
  const manifest = join(dir, 'list.txt');
  writeFileSync(manifest, files.join('\n') + '\n');
  return { manifest, files, bad };
}

/** Runs `ser …` to the end. */
export function ser(args: string[], opts: { input?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('close', (code) => done({ code, stdout, stderr }));
    p.stdin.end(opts.input ?? '');
  });
}

/** Starts `ser …` in the background, collecting its standard error. */
export function serBackground(args: string[]): { proc: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, stderr: () => err, exited };
}

/** Parses JSON lines. */
export const parseLines = (text: string): Array<Record<string, unknown> & { file: string; error?: string }> =>
  text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
