/**
 * `ser predict` and `ser features --out` on archives through the real CLI: manifests, --jobs,
 * --out, and a run killed with SIGKILL then resumed.
 */
import { existsSync, mkdtempSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModelFolder } from '../infer/helpers.js';
import { makeArchive, parseLines, ser, serBackground, sleep, type Archive } from './helpers.js';

const HAVE_DIST = existsSync(join(__dirname, '../../dist/cli/index.js'));

describe.skipIf(!HAVE_DIST)('ser predict on an archive', () => {
  let dir: string;
  let model: string;
  let archive: Archive;
  let reference: string; // --jobs 1 to standard output
  beforeAll(async () => {
    model = await makeTinyModelFolder();
    dir = mkdtempSync(join(tmpdir(), 'ser-batch-'));
    archive = makeArchive(dir, 240);
    const r = await ser(['predict', '--manifest', archive.manifest, '--model', model, '--json', '--jobs', '1', '--no-progress']);
    expect(r.code).toBe(1); // some inputs are broken
    expect(r.stderr).toBe('');
    reference = r.stdout;
  });

  it('one line per input in manifest order; broken ones are errors; 2 jobs give the same lines as 1', async () => {
    const lines = parseLines(reference);
    expect(lines.map((l) => l.file)).toEqual(archive.files);
    for (const l of lines) {
      if (archive.bad.has(l.file)) {
        expect(l.error).toContain(l.file.split('/').pop());
        expect(l.emotion).toBeUndefined();
      } else {
        expect(l.error).toBeUndefined();
        expect(typeof l.emotion).toBe('string');
      }
    }
    const out = join(dir, 'two-jobs.jsonl');
    const r = await ser(['predict', '--manifest', archive.manifest, '--model', model, '--jobs', '2', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/predict: 240 inputs \(12 errors\) in [\d.]+ s, [\d.]+ files\/s with 2 jobs; peak RSS \d+ MB/);
    expect(r.stderr).toMatch(/ETA/);
    expect(readFileSync(out, 'utf8')).toBe(reference);
  });

  it('reads paths from standard input (--manifest -); two --shard runs cover the archive once', async () => {
    const some = archive.files.slice(0, 30);
    const r = await ser(['predict', '--manifest', '-', '--model', model, '--json', '--jobs', '2', '--no-progress'], { input: some.join('\n') });
    expect(parseLines(r.stdout)).toEqual(parseLines(reference).slice(0, 30));
    const shards = await Promise.all([0, 1].map((i) => ser(['predict', '--manifest', archive.manifest, '--model', model, '--json', '--jobs', '1', '--shard', `${i}/2`, '--no-progress'])));
    const both = shards.flatMap((s) => parseLines(s.stdout));
    expect(both.length).toBe(240);
    expect(Math.min(...shards.map((s) => parseLines(s.stdout).length))).toBeGreaterThan(80);
    const byFile = new Map(parseLines(reference).map((l) => [l.file, l]));
    for (const l of both) expect(l).toEqual(byFile.get(l.file));
  });

  it('--resume after SIGKILL (and a cut-off last line) ends with exactly the uninterrupted result', async () => {
    const out = join(dir, 'killed.jsonl');
    const run = serBackground(['predict', '--manifest', archive.manifest, '--model', model, '--jobs', '2', '--out', out]);
    let n = 0;
    for (let t = 0; t < 2000 && n < 40; t++) {
      await sleep(10);
      n = existsSync(out) ? readFileSync(out, 'utf8').split('\n').length - 1 : 0;
    }
    run.proc.kill('SIGKILL');
    await run.exited;
    const before = parseLines(readFileSync(out, 'utf8'));
    expect(before.length).toBeGreaterThanOrEqual(40);
    expect(before.length).toBeLessThan(240); // killed mid-run
    // what a kill during a write leaves: the start of the next line
    const nextFile = archive.files[before.length]!;
    appendFileSync(out, `{"file":${JSON.stringify(nextFile)},"emot`);
    const r = await ser(['predict', '--manifest', archive.manifest, '--model', model, '--jobs', '2', '--out', out, '--resume']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('dropped a cut-off last line');
    expect(r.stderr).toMatch(new RegExp(`predict: ${240 - before.length} inputs \\(\\d+ errors, ${before.length} already done\\)`));
    const final = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '');
    expect([...final].sort()).toEqual(reference.split('\n').filter((l) => l !== '').sort());
  });

  it('ser features --out DIR writes one float32 matrix per input and an index; --resume skips what is there', async () => {
    const out = join(dir, 'features');
    const some = archive.files.slice(0, 40);
    const r = await ser(['features', ...some, '--out', out, '--jobs', '2', '--no-progress']);
    expect(r.code).toBe(1);
    const idx = parseLines(readFileSync(join(out, 'index.jsonl'), 'utf8'));
    expect(idx.map((l) => l.file)).toEqual(some);
    const one = await ser(['features', some[0]!, '--json']);
    const json = JSON.parse(one.stdout) as { logMel: number[][]; nMels: number; frames: number };
    const first = idx[0] as { features: string; nMels: number; frames: number };
    expect([first.nMels, first.frames]).toEqual([json.nMels, json.frames]);
    const buf = readFileSync(join(out, first.features));
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    expect(Array.from(data)).toEqual(json.logMel.flat().map((v) => Math.fround(v)));
    for (const l of idx) expect(l.error !== undefined).toBe(archive.bad.has(l.file));
    const again = await ser(['features', ...archive.files.slice(0, 50), '--out', out, '--resume', '--jobs', '1']);
    expect(again.stderr).toMatch(/features: 10 inputs \(\d+ errors, 40 already done\)/);
    expect(parseLines(readFileSync(join(out, 'index.jsonl'), 'utf8')).map((l) => l.file)).toEqual(archive.files.slice(0, 50));
  });
});
