/** Batch inputs: arguments, globs, manifests in every format, shards; and the result file's repair. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchInputs, countInputs, manifestPaths, parseShard, shardOf, type BatchInput } from '../../src/cli/batch/inputs.js';
import { doneInputs, repairJsonl } from '../../src/cli/batch/jsonl.js';
import { runBatch } from '../../src/cli/batch/run.js';
import { SerError } from '../../src/util/errors.js';

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('batch inputs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ser-batch-in-'));
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'a', 'deep'));
    for (const f of ['a/2.wav', 'a/1.flac', 'a/notes.txt', 'a/deep/3.wav']) writeFileSync(join(dir, f), 'x');
  });

  it('expands folders (sorted audio only), glob patterns and missing paths', async () => {
    const got = await all(batchInputs({ args: [join(dir, 'a'), `${dir}/a/**/*.wav`, join(dir, 'nope.wav'), `${dir}/*.mp3`] }));
    expect(got).toEqual([
      { file: join(dir, 'a/1.flac') },
      { file: join(dir, 'a/2.wav') },
      { file: join(dir, 'a/2.wav') },
      { file: join(dir, 'a/deep/3.wav') },
      { file: join(dir, 'nope.wav'), error: `${join(dir, 'nope.wav')}: no such file or directory` },
      { file: `${dir}/*.mp3`, error: `${dir}/*.mp3: pattern matches no files` },
    ]);
  });

  it('reads .txt, .csv, .jsonl manifests (paths relative to the manifest) and standard input', async () => {
    writeFileSync(join(dir, 'list.txt'), '# comment\na/1.flac\n\n/abs/x.wav\r\n');
    writeFileSync(join(dir, 'list.csv'), '\uFEFFlabel,Path\nsad,a/1.flac\nhappy,"a/with,comma.wav"\n');
    writeFileSync(join(dir, 'list.jsonl'), '{"path":"a/1.flac","x":1}\n"b.wav"\n{"file":"/abs/c.wav"}\n');
    expect(await all(manifestPaths(join(dir, 'list.txt')))).toEqual([join(dir, 'a/1.flac'), '/abs/x.wav']);
    expect(await all(manifestPaths(join(dir, 'list.csv')))).toEqual([join(dir, 'a/1.flac'), join(dir, 'a/with,comma.wav')]);
    expect(await all(manifestPaths(join(dir, 'list.jsonl')))).toEqual([join(dir, 'a/1.flac'), join(dir, 'b.wav'), '/abs/c.wav']);
    expect(await all(manifestPaths('-', Readable.from(['rel/one.wav\n', 'two.wav\n'])))).toEqual(['rel/one.wav', 'two.wav']);
    expect(await countInputs({ args: [], manifest: join(dir, 'list.jsonl') })).toBe(3);
    expect(await countInputs({ args: [], manifest: '-' })).toBeUndefined();
  });

  it('rejects bad manifests with clear errors', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'label,where\nsad,x.wav\n');
    writeFileSync(join(dir, 'bad.jsonl'), '{"path":"ok.wav"}\n{"nopath":1}\n');
    await expect(all(manifestPaths(join(dir, 'bad.csv')))).rejects.toThrow(/"path"/);
    await expect(all(manifestPaths(join(dir, 'bad.jsonl')))).rejects.toThrow(/bad\.jsonl:2/);
    await expect(all(manifestPaths(join(dir, 'missing.txt')))).rejects.toBeInstanceOf(SerError);
  });

  it('--shard I/N splits the inputs into N disjoint stable shares that cover them all', async () => {
    const paths = Array.from({ length: 400 }, (_, i) => `/archive/call-${i}.wav`);
    writeFileSync(join(dir, 'many.txt'), paths.join('\n'));
    const shares = await Promise.all([0, 1, 2].map(async (i) => (await all(batchInputs({ args: [], manifest: join(dir, 'many.txt'), shard: { index: i, count: 3 } }))).map((x) => x.file)));
    expect(shares.flat().sort()).toEqual([...paths].sort());
    for (const s of shares) expect(s.length).toBeGreaterThan(100); // a hash spreads evenly (expected 133)
    for (const [i, s] of shares.entries()) for (const p of s) expect(shardOf(p, 3)).toBe(i);
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['3/3', '1', '-1/2', 'a/b', '0/0']) expect(() => parseShard(bad)).toThrow(SerError);
  });
});

describe('result file', () => {
  it('repair cuts a cut-off last line, keeps a clean file, and the done set is what is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-batch-jsonl-'));
    const p = join(dir, 'r.jsonl');
    writeFileSync(p, '{"file":"a"}\n{"file":"b","error":"x"}\n{"file":"c","emo');
    expect(repairJsonl(p)).toBe('{"file":"c","emo'.length);
    expect(readFileSync(p, 'utf8')).toBe('{"file":"a"}\n{"file":"b","error":"x"}\n');
    expect(repairJsonl(p)).toBe(0);
    expect([...(await doneInputs(p))]).toEqual(['a', 'b']);
    writeFileSync(p, 'no newline at all');
    expect(repairJsonl(p)).toBe(17);
    expect(readFileSync(p, 'utf8')).toBe('');
    expect(repairJsonl(join(dir, 'absent.jsonl'))).toBe(0);
  });
});

describe('runBatch', () => {
  async function* gen(n: number): AsyncGenerator<BatchInput> {
    for (let i = 0; i < n; i++) yield i % 7 === 3 ? { file: `f${i}`, error: 'bad input' } : { file: `f${i}` };
  }

  it('writes every input once, in input order, whatever order the work finishes in; never more than jobs at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-batch-run-'));
    const out = join(dir, 'r.jsonl');
    let running = 0, most = 0;
    const s = await runBatch({
      inputs: gen(200),
      jobs: 4,
      out,
      run: async (file) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, (Number(file.slice(1)) * 7919) % 5));
        running--;
        if (file === 'f12') throw new Error('boom');
        return { file, n: Number(file.slice(1)) };
      },
    });
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual(Array.from({ length: 200 }, (_, i) => `f${i}`));
    expect(lines[3]).toEqual({ file: 'f3', error: 'bad input' });
    expect(lines[10]).toEqual({ file: 'f10', error: 'bad input' });
    expect(lines[12]).toEqual({ file: 'f12', error: 'boom' });
    expect(lines[11]).toEqual({ file: 'f11', n: 11 });
    expect(most).toBe(4);
    expect(s.inputs).toBe(200);
    const badOnes = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k).filter((i) => i % 7 === 3).length;
    expect(s.failed).toBe(badOnes(0, 200) + 1);

    // resume after a cut: the lost inputs (and only they) run again
    writeFileSync(out, readFileSync(out, 'utf8').split('\n').slice(0, 120).join('\n') + '\n{"file":"f120","n');
    const ran: string[] = [];
    const r = await runBatch({ inputs: gen(200), jobs: 3, out, resume: true, stderr: { write: () => true } as unknown as NodeJS.WritableStream, run: async (file) => (ran.push(file), { file, n: Number(file.slice(1)) }) });
    expect(r.skipped).toBe(120);
    expect(ran).toEqual(Array.from({ length: 80 }, (_, k) => 120 + k).filter((i) => i % 7 !== 3).map((i) => `f${i}`));
    const after = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(after.map((l) => l.file).sort()).toEqual(Array.from({ length: 200 }, (_, i) => `f${i}`).sort());
  });

  it('needs --out for --resume', async () => {
    await expect(runBatch({ inputs: gen(1), jobs: 1, resume: true, run: async (file) => ({ file }) })).rejects.toThrow(/--resume needs --out/);
  });
});
