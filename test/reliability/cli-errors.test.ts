/**
 * CLI reliability: `ser predict --json` and `ser features --json` on inputs that cannot be
 * used (random bytes, empty file, a directory, a missing path, silence, 100 samples, NaN
 * samples). Each must fail cleanly: a JSON error line / one `ser: …` message naming the file,
 * the documented exit code, and never a stack trace. Runs the built CLI (`node bin/ser.js`,
 * dist/ is built by `npm test`); skips visibly when dist/ is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeWav, encodeWav } from '../../src/audio/wav.js';
import { createRng } from '../../src/util/rng.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin', 'ser.js');
const HAVE_DIST = existsSync(join(ROOT, 'dist', 'cli', 'index.js'));
if (!HAVE_DIST) console.warn('[skip] test/reliability/cli-errors: dist/ is missing (run `npm run build` or `npm test`)');

/** A line of a Node stack trace ("    at fn (file:line:col)"). */
const STACK_LINE = /^\s+at .*\(/;

interface Run { code: number | null; stdout: string; stderr: string }

function ser(args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', fail);
    p.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

function noStack(r: Run): void {
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => STACK_LINE.test(l));
  expect(lines).toEqual([]);
}

let dir: string;
/** name → path of each bad input. */
const inputs: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ser-cli-errors-'));
  const sr = 16000;
  const rng = createRng('cli-errors');
  const put = (name: string, bytes: Uint8Array): void => { inputs[name] = join(dir, name); writeFileSync(inputs[name], bytes); };
  put('random.wav', Uint8Array.from({ length: 4096 }, () => rng.int(256)));
  put('empty.wav', new Uint8Array(0));
  inputs['a-directory'] = join(dir, 'a-directory');
  mkdirSync(inputs['a-directory']);
  inputs['missing.wav'] = join(dir, 'missing.wav');
  put('silence.wav', encodeWav(new Float32Array(2 * sr), sr));
  put('tiny.wav', encodeWav(Float32Array.from({ length: 100 }, (_, i) => 0.5 * Math.sin(i / 3)), sr));
  const nan = Float32Array.from({ length: sr }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 220 * i) / sr));
  for (let i = 0; i < nan.length; i += 7) nan[i] = NaN;
  put('nan.wav', encodeWav(nan, sr, { encoding: 'float32' }));
  // finite but absurdly loud float samples (what a corrupted float WAV can hold)
  put('huge.wav', encodeWav(Float32Array.from({ length: sr }, (_, i) => 1e30 * Math.sin(i / 3)), sr, { encoding: 'float32' }));
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const NAMES = ['random.wav', 'empty.wav', 'a-directory', 'missing.wav', 'silence.wav', 'tiny.wav', 'nan.wav'];

describe('test inputs', () => {
  it('the NaN WAV really holds NaN float32 samples', () => {
    const a = decodeWavOrError(readFileSync(inputs['nan.wav']!));
    expect(a).toBe('NaN');
  });
});

/** What decodeWav makes of the NaN file: 'NaN' when NaN survives encoding, else the error. */
function decodeWavOrError(bytes: Uint8Array): string {
  try {
    const a = decodeWav(bytes, 'nan.wav');
    return a.samples.some((v) => Number.isNaN(v)) ? 'NaN' : 'finite';
  } catch (e) {
    // the decoder rejecting NaN is fine too: the file still holds NaN bits
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let off = 44; off + 4 <= bytes.length; off += 4) if (Number.isNaN(dv.getFloat32(off, true))) return 'NaN';
    return String(e);
  }
}

describe.skipIf(!HAVE_DIST)('ser predict --json on bad inputs', () => {
  it.each(NAMES)('%s: one JSON error line naming the file, exit code 1, no stack trace', async (name) => {
    const file = inputs[name]!;
    const r = await ser(['predict', '--json', file]);
    noStack(r);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { file: string; error?: string; emotion?: string };
    expect(line.file).toBe(file);
    expect(typeof line.error).toBe('string');
    expect(line.error!.length).toBeGreaterThan(5);
    expect(line.emotion).toBeUndefined();
  }, 60_000);
});

/** Inputs `ser features` cannot read at all. */
const UNREADABLE = ['random.wav', 'empty.wav', 'a-directory', 'missing.wav', 'nan.wav'];

describe.skipIf(!HAVE_DIST)('ser features --json on bad inputs', () => {
  it.each(UNREADABLE)('%s: non-zero exit, one `ser: …` message naming the file, no stack trace', async (name) => {
    const file = inputs[name]!;
    const r = await ser(['features', file, '--json']);
    noStack(r);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ser: /);
    expect(lines[0]).toContain(name);
    // a SerError (a known failure), not an unexpected exception
    expect(lines[0]).not.toContain('--verbose');
  }, 60_000);

  // Silence and a 100-sample clip are valid audio: like librosa, the spectrogram is defined
  // (silence: every bin equals the ref=max floor, 0 dB; 100 samples: one centred frame).
  // `ser predict` refuses them (above); `ser features` returns finite values of the right shape.
  it.each([
    ['silence.wav', 63],
    ['tiny.wav', 1],
  ] as const)('%s: finite features of the right shape (%i frames), exit 0, no stack trace', async (name, frames) => {
    const r = await ser(['features', inputs[name]!, '--json']);
    noStack(r);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; nMels: number; frames: number; logMel: number[][] };
    expect(out.file).toBe(inputs[name]);
    expect(out.nMels).toBe(128);
    expect(out.frames).toBe(frames);
    expect(out.logMel).toHaveLength(128);
    for (const row of out.logMel) {
      expect(row).toHaveLength(frames);
      for (const v of row) expect(Number.isFinite(v)).toBe(true);
    }
    if (name === 'silence.wav') expect(new Set(out.logMel.flat())).toEqual(new Set([0]));
  }, 60_000);
});

describe.skipIf(!HAVE_DIST)('ser predict --json on all bad inputs at once', () => {
  it('one error line per input, in order, exit code 1, no stack trace', async () => {
    const files = NAMES.map((n) => inputs[n]!);
    const r = await ser(['predict', '--json', ...files]);
    noStack(r);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { file: string; error?: string });
    expect(lines.map((l) => l.file)).toEqual(files);
    for (const l of lines) expect(typeof l.error).toBe('string');
  }, 60_000);
});

describe.skipIf(!HAVE_DIST)('finite but huge float samples (|x| = 1e30)', () => {
  it('ser predict --json: either an error line (exit 1) or finite probabilities summing to 1 (exit 0)', async () => {
    const r = await ser(['predict', '--json', inputs['huge.wav']!]);
    noStack(r);
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { error?: string; probabilities?: Record<string, number> };
    if (line.error !== undefined) expect(r.code).toBe(1);
    else {
      expect(r.code).toBe(0);
      const p = Object.values(line.probabilities!);
      expect(p).toHaveLength(5);
      for (const v of p) expect(Number.isFinite(v)).toBe(true);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
  }, 60_000);

  // Without peak normalisation huge samples would overflow the float32 power spectrum; the pipeline
  // refuses them with a clear error rather than printing NaN (JSON null) features.
  it('ser features --representation utterance-stats --preprocess none refuses huge samples cleanly', async () => {
    const r = await ser(['features', inputs['huge.wav']!, '--json', '--representation', 'utterance-stats', '--preprocess', 'none']);
    noStack(r);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain('null');
    expect(r.stderr).toMatch(/^ser: .*huge\.wav.*not finite/m);
  }, 60_000);
});
