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
    // the folder's files, an empty folder, and one of the folder's files named directly
    const r = await ser(['predict', d, empty, join(d, 'b.wav'), '--model', modelDir, '--json']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual([join(d, 'a.wav'), join(d, 'b.wav'), empty, join(d, 'b.wav')]);
    expect(lines[2].error).toContain('no audio files');
    // a file found in a folder is predicted exactly as when it is named
    expect(Object.keys(lines[1].probabilities).sort()).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad']);
    expect(lines[1].probabilities).toEqual(lines[3].probabilities);
    expect(lines[1].emotion).toBe(lines[3].emotion);
    expect(lines[0].emotion).toMatch(/^(angry|disgust|fear|happy|sad)$/);
    expect(lines[0].probabilities).not.toEqual(lines[1].probabilities);
  });

  it('adds a timeline with --segments, marking silent windows', async () => {
    const y = new Float32Array(16000 * 3);
    y.set(speechLike(1), 0);
    y.set(speechLike(1, 16000, 5), 32000);
    const f = writeWav(dir, 'gap.wav', y);
    const r = await ser(['predict', f, '--model', modelDir, '--json', '--segments', '1']);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout.trim());
    // the timeline schema (method "fixed"): every window a segment, the silent one without emotion
    expect(line.timeline).toMatchObject({ schema: 1, method: 'fixed', durationSec: 3 });
    expect(line.timeline.segments.map((w: any) => [w.start, w.end])).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(line.timeline.segments[1]).toEqual({ start: 1, end: 2, speech: false, emotion: null, probabilities: null, confidence: null });
    expect(line.timeline.segments[0].emotion).not.toBeNull();
    expect(line.timeline.segments[2].emotion).not.toBeNull();
  });

  it('--timeline: speech pieces by voice activity, gaps without emotion, the answer weighted by speech time', async () => {
    // speech 0.5–2.5 s and 4–7 s, digital silence elsewhere
    const y = new Float32Array(16000 * 8);
    y.set(speechLike(2, 16000, 3), 8000);
    y.set(speechLike(3, 16000, 4), 64000);
    const f = writeWav(dir, 'two.wav', y);
    const r = await ser(['predict', f, '--model', modelDir, '--json', '--timeline']);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout.trim());
    const tl = line.timeline;
    expect(tl).toMatchObject({ schema: 1, method: 'vad', durationSec: 8, smoothing: 0 });
    expect(tl.segments.map((s: any) => s.speech)).toEqual([false, true, false, true, false]);
    const sp = tl.segments.filter((s: any) => s.speech);
    expect(Math.abs(sp[0].start - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(sp[0].end - 2.5)).toBeLessThan(0.05);
    expect(Math.abs(sp[1].start - 4)).toBeLessThan(0.05);
    expect(Math.abs(sp[1].end - 7)).toBeLessThan(0.05);
    // segments tile [0, duration]
    tl.segments.forEach((s: any, i: number) => expect(s.start).toBe(i === 0 ? 0 : tl.segments[i - 1].end));
    expect(tl.segments.at(-1).end).toBe(8);
    for (const s of sp) expect(s.confidence).toBe(Math.max(...Object.values(s.probabilities as Record<string, number>)));
    // whole-file answer: speech-time-weighted mean of the pieces
    const d = sp.map((s: any) => s.end - s.start);
    for (const k of EMOTIONS) {
      const w = (d[0] * sp[0].probabilities[k] + d[1] * sp[1].probabilities[k]) / (d[0] + d[1]);
      expect(line.probabilities[k]).toBeCloseTo(w, 12);
    }
    expect(tl.speechSec).toBeCloseTo(d[0] + d[1], 12);
    expect(Object.values(tl.shares as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(line.emotion).toBe(tl.emotion);
  });

  it('--timeline on a silent file is an error naming it; --timeline with --segments is refused', async () => {
    const r = await ser(['predict', silent, '--model', modelDir, '--json', '--timeline']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout.trim()).error).toMatch(/no speech found/);
    const both = await ser(['predict', good, '--model', modelDir, '--timeline', '--segments', '2']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/--timeline and --segments/);
  });

  it('ser listen: raw PCM on stdin → one JSON line per finished segment, then the whole timeline (same as predict --timeline)', async () => {
    const y = new Float32Array(16000 * 8);
    y.set(speechLike(2, 16000, 3), 8000);
    y.set(speechLike(3, 16000, 4), 64000);
    const f = writeWav(dir, 'two-listen.wav', y);
    const pcm = new Int16Array(y.length);
    for (let i = 0; i < y.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(y[i]! * 32767)));
    const raw = join(dir, 'two.s16');
    writeFileSync(raw, Buffer.from(pcm.buffer));
    const { spawnSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const out = spawnSync(process.execPath, [BIN, 'listen', '--model', modelDir, '--encoding', 's16le', '--rate', '16000'], { input: readFileSync(raw), encoding: 'utf8' });
    expect(out.status).toBe(0);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['segment', 'segment', 'end']);
    for (const l of lines.slice(0, 2)) {
      expect(l.latencySec).toBeGreaterThan(0);
      expect(l.emotion).toBe(Object.entries(l.probabilities as Record<string, number>).sort((a, b) => b[1] - a[1])[0]![0]);
    }
    // WAV on stdin (auto-detected) gives the same segments as predict --timeline on the file
    const wavOut = spawnSync(process.execPath, [BIN, 'listen', '--model', modelDir], { input: readFileSync(f), encoding: 'utf8' });
    const end = JSON.parse(wavOut.stdout.trim().split('\n').at(-1)!);
    const pred = JSON.parse((await ser(['predict', f, '--model', modelDir, '--json', '--timeline'])).stdout.trim());
    expect(end.timeline.segments.map((s: any) => [s.start, s.end, s.emotion])).toEqual(pred.timeline.segments.map((s: any) => [s.start, s.end, s.emotion]));
    expect(end.timeline.segments.length).toBe(5);
    // garbage encoding flag → clear error
    const bad = spawnSync(process.execPath, [BIN, 'listen', '--encoding', 'mp3'], { input: '', encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--encoding must be/);
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
