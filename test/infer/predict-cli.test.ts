/** `ser predict` through the real CLI (node bin/ser.js, built dist/): JSON lines, errors, exit codes. */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src/infer/classifier.js';
import { EMOTIONS } from '../../src/util/labels.js';
import { makeTinyModelFolder, speechLike, writeWav } from './helpers.js';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../../bin/ser.js');

async function ser(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: resolve(__dirname, '../..') });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('ser predict', () => {
  let modelDir: string;
  let dir: string;
  let good: string;
  let broken: string;
  let silent: string;
  beforeAll(async () => {
    modelDir = await makeTinyModelFolder();
    dir = mkdtempSync(join(tmpdir(), 'ser-predict-'));
    good = writeWav(dir, 'good.wav', speechLike(1.5));
    silent = writeWav(dir, 'silent.wav', new Float32Array(16000));
    broken = join(dir, 'broken.wav');
    writeFileSync(broken, Buffer.from('RIFF\x24\x00\x00\x00WAVEjunkjunkjunk', 'latin1'));
  });

  it('prints one JSON line per good file, matching the library', async () => {
    const r = await ser(['predict', good, '--model', modelDir, '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0].file).toBe(good);
    expect(Object.keys(lines[0].probabilities)).toEqual([...EMOTIONS]);
    const sum = Object.values<number>(lines[0].probabilities).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 5);
    expect(lines[0].durationSec).toBeCloseTo(1.5, 6);
    const clf = await Classifier.load(modelDir);
    const p = await clf.predictFile(good);
    expect(lines[0].emotion).toBe(p.emotion);
    for (const k of EMOTIONS) expect(lines[0].probabilities[k]).toBeCloseTo(p.probabilities[k], 5);
  });

  it('reports broken, silent and missing inputs as error lines, carries on, and exits 1', async () => {
    const missing = join(dir, 'nope.wav');
    const r = await ser(['predict', broken, good, missing, silent, '--model', modelDir, '--json']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual([broken, good, missing, silent]);
    expect(lines[0].error).toContain(broken);
    expect(lines[1].error).toBeUndefined();
    expect(lines[1].emotion).toMatch(/^(angry|disgust|fear|happy|sad)$/);
    expect(lines[2].error).toContain('no such file');
    expect(lines[3].error).toContain('silent');
    expect(lines[3].emotion).toBeUndefined();
  });

  it('expands a directory to its audio files; an empty directory is an error line', async () => {
    const d = join(dir, 'folder');
    const empty = join(dir, 'empty');
    mkdirSync(d);
    mkdirSync(empty);
    writeWav(d, 'b.wav', speechLike(1, 16000, 2));
    writeWav(d, 'a.wav', speechLike(1, 16000, 3));
    writeFileSync(join(d, 'notes.txt'), 'not audio');
    const r = await ser(['predict', d, empty, '--model', modelDir, '--json']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual([join(d, 'a.wav'), join(d, 'b.wav'), empty]);
    expect(lines[0].emotion).toBeDefined();
    expect(lines[2].error).toContain('no audio files');
  });

  it('adds a timeline with --segments, marking silent windows', async () => {
    const y = new Float32Array(16000 * 3);
    y.set(speechLike(1), 0);
    y.set(speechLike(1, 16000, 5), 32000);
    const f = writeWav(dir, 'gap.wav', y);
    const r = await ser(['predict', f, '--model', modelDir, '--json', '--segments', '1']);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout.trim());
    expect(line.timeline.map((w: any) => [w.start, w.end])).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(line.timeline[1]).toMatchObject({ emotion: null, silent: true });
    expect(line.timeline[0].emotion).not.toBeNull();
    expect(line.timeline[2].emotion).not.toBeNull();
  });

  it('--min-confidence P answers "uncertain" below P with the same probabilities; a P outside 0–1 is refused', async () => {
    const sure = JSON.parse((await ser(['predict', good, '--model', modelDir, '--json'])).stdout.trim());
    expect(sure.confidence).toBeCloseTo(Math.max(...Object.values<number>(sure.probabilities)), 6);
    const above = await ser(['predict', good, '--model', modelDir, '--json', '--min-confidence', String(Math.min(1, sure.confidence + 0.01))]);
    const below = await ser(['predict', good, '--model', modelDir, '--json', '--min-confidence', String(Math.max(0, sure.confidence - 0.01))]);
    expect(JSON.parse(above.stdout.trim()).emotion).toBe('uncertain');
    expect(JSON.parse(above.stdout.trim()).probabilities).toEqual(sure.probabilities);
    expect(JSON.parse(below.stdout.trim()).emotion).toBe(sure.emotion);
    const bad = await ser(['predict', good, '--model', modelDir, '--min-confidence', '1.5']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--min-confidence must be a number between 0 and 1/);
  });

  it('exits 0 with human output without --json', async () => {
    const r = await ser(['predict', good, '--model', modelDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${good.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (angry|disgust|fear|happy|sad) `));
  });
});
