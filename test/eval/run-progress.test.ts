import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/eval/grid.js';
import { epochLine, parseEpochLine, RunProgress } from '../../src/eval/run-progress.js';
import { runChild } from '../../src/eval/children.js';

/** A job of `epochs` epochs on `n` training files (seed-cnn3: no offline copies), enough for the plan's arithmetic. */
const job = (id: string, epochs: number, n: number): JobSpec =>
  ({ id, entry: { recipe: 'seed-cnn3', lr: 0.001, epochs }, train: new Array(n), offlineCopies: null, archOptions: null }) as unknown as JobSpec;

function lines() {
  const out: string[] = [];
  return { out, stream: { isTTY: false, write: (s: string) => { out.push(s); return true; } } as unknown as NodeJS.WritableStream };
}

describe('RunProgress: the experiments bar in sample passes', () => {
  it('counts epochs by their sample passes; a resumed run counts only what it still trains; early stops and failures settle the rest', () => {
    let t = 0;
    const { out, stream } = lines();
    // a: 4 epochs × 10 files = 40 passes; b: 2 epochs × 30 files = 60; c: 5 × 2 = 10; one more run finished before
    const p = new RunProgress([job('a', 4, 10), job('b', 2, 30), job('c', 5, 2)], 4, { stream, now: () => t });
    expect(p.bar.total).toBe(110);
    t = 1000;
    p.epoch('a', 1);
    expect(out.at(-1)).toBe('experiments  10/110  9%  10 samples/s  ETA 10s  runs 1/4  now a 1/4\n');
    p.epoch('b', 2); // b resumed: its epoch 1 was trained before this invocation; its last epoch counts when it ends
    expect(p.bar.total).toBe(80);
    expect(out.at(-1)).toMatch(/^experiments {2}10\/80 {2}12% .* runs 1\/4 {2}now b 2\/2\n$/);
    p.end('b', true);
    expect(out.at(-1)).toMatch(/^experiments {2}40\/80 {2}50% .* runs 2\/4 {2}now b 2\/2\n$/);
    p.epoch('a', 2);
    p.end('a', true); // stopped early after 2 of 4 epochs: the rest counts as done
    expect(out.at(-1)).toMatch(/^experiments {2}70\/80 {2}87% .* runs 3\/4 {2}now a 2\/4\n$/);
    p.end('c', false); // failed before its first epoch: off the total
    expect(p.bar.total).toBe(70);
    p.finish();
    expect(out.at(-1)).toMatch(/^experiments {2}70\/70 {2}100% .* in 1s {2}runs 3\/4/);
    expect(out.filter((l) => l.includes('100%'))).toHaveLength(1);
  });

  it('the line reaching 100 % comes with the last run counted as done', () => {
    const { out, stream } = lines();
    const p = new RunProgress([job('a', 2, 5)], 1, { stream, now: () => 0 });
    p.epoch('a', 1);
    p.epoch('a', 2);
    expect(out.at(-1)).toMatch(/^experiments {2}5\/10 {2}50% .*runs 0\/1/);
    p.end('a', true);
    p.finish();
    expect(out.at(-1)).toMatch(/^experiments {2}10\/10 {2}100% .*runs 1\/1/);
  });

  it("with the checkpoints' epochs, a continued run's trained epochs are off the total from the start", () => {
    const { out, stream } = lines();
    const p = new RunProgress([job('a', 4, 10), job('b', 2, 5)], 2, { stream, now: () => 0, epochsDone: new Map([['a', 3]]) });
    expect(p.bar.total).toBe(10 + 10);
    p.epoch('a', 4); // its last epoch: counted when it ends
    p.end('a', true);
    expect(out.at(-1)).toMatch(/^experiments {2}10\/20 {2}50% .*runs 1\/2/);
  });

  it('ignores reports of jobs it does not count (finished before this invocation)', () => {
    const { out, stream } = lines();
    const p = new RunProgress([job('a', 2, 5)], 2, { stream, now: () => 0 });
    p.epoch('old', 3);
    p.end('old', true);
    expect(out).toEqual([]);
    expect(p.bar.total).toBe(10);
  });
});

describe("a child job's epoch lines", () => {
  it('round-trip through epochLine / parseEpochLine; other lines are not epochs', () => {
    expect(epochLine(7, 300)).toBe('{"epoch":7,"epochs":300}\n');
    expect(parseEpochLine(epochLine(7, 300))).toBe(7);
    expect(parseEpochLine('{"epoch":7}')).toBeNull();
    expect(parseEpochLine('epoch 7')).toBeNull();
  });

  it('runChild hands over each stdout line whole, however the writes are split', async () => {
    const got: string[] = [];
    const script = "process.stdout.write('{\"epoch\":1,\"ep'); setTimeout(() => { process.stdout.write('ochs\":2}\\nnoise\\n{\"epoch\":2,\"epochs\":2}\\n'); process.stderr.write('done'); }, 50);";
    const r = await runChild([process.execPath, '-e', script], [], undefined, (l) => got.push(l));
    expect(r).toEqual({ code: 0, stderr: 'done' });
    expect(got).toEqual(['{"epoch":1,"epochs":2}', 'noise', '{"epoch":2,"epochs":2}']);
    expect(got.map(parseEpochLine)).toEqual([1, null, 2]);
  });
});
