import { describe, expect, it } from 'vitest';
import { Progress, formatDuration } from '../../src/util/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => { out.push(s); return true; } } as unknown as NodeJS.WritableStream & { isTTY?: boolean } };
}

describe('Progress', () => {
  it('prints a line every 25% in line mode, with rate, ETA and fields', () => {
    let t = 0;
    const { out, stream } = sink(false);
    const p = new Progress({ total: 8, label: 'scan', stream, everyPercent: 25, unit: 'files', now: () => t });
    for (let i = 0; i < 8; i++) { t += 500; p.tick(1, { loss: 0.5 }); }
    p.finish();
    expect(out.length).toBe(4);
    expect(out[0]).toBe('scan  2/8  25%  2.00 files/s  ETA 3s  loss 0.5000\n');
    expect(out[3]).toBe('scan  8/8  100%  2.00 files/s  in 4s  loss 0.5000\n');
  });
  it('redraws in place on a TTY and ends with a newline', () => {
    let t = 0;
    const { out, stream } = sink(true);
    const p = new Progress({ total: 2, stream, width: 4, now: () => t });
    t = 1000; p.tick();
    t = 2000; p.tick();
    p.finish();
    expect(out.every((s) => s.startsWith('\r\x1b[2K'))).toBe(true);
    expect(out[0]).toContain('[##--]  1/2  50%');
    expect(out[out.length - 1]!.endsWith('\n')).toBe(true);
    expect(out[out.length - 1]).toContain('[####]  2/2  100%');
  });
  it('setTotal changes the total and the percentage, and keeps done within it', () => {
    let t = 0;
    const { out, stream } = sink(false);
    const p = new Progress({ total: 10, stream, everyPercent: 1, now: () => t });
    t = 1000; p.tick(2);
    p.setTotal(4);
    expect(p.total).toBe(4);
    expect(out.at(-1)).toBe('2/4  50%  2.00 it/s  ETA 1s\n');
    p.setTotal(1);
    expect(p.render()).toBe('1/1  100%  1.00 it/s  in 1s');
  });
  it('log writes a line above a TTY bar and redraws the bar under it; in line mode (or disabled) just the line', () => {
    let t = 0;
    const tty = sink(true);
    const p = new Progress({ total: 2, stream: tty.stream, width: 2, now: () => t });
    t = 1000; p.tick();
    tty.out.length = 0;
    p.log('fold 1 done');
    expect(tty.out).toEqual(['\r\x1b[2Kfold 1 done\n', '\r\x1b[2K[#-]  1/2  50%  1.00 it/s  ETA 1s']);
    const line = sink(false);
    const q = new Progress({ total: 2, stream: line.stream, everyPercent: 100, now: () => t });
    q.log('a');
    new Progress({ total: 2, stream: line.stream, enabled: false }).log('b');
    expect(line.out).toEqual(['a\n', 'b\n']);
  });
  it('is silent when disabled', () => {
    const { out, stream } = sink(false);
    const p = new Progress({ total: 3, stream, enabled: false });
    p.tick(); p.tick(); p.tick(); p.finish();
    expect(out).toEqual([]);
  });
  it('formats durations', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3725)).toBe('1h02m');
  });
});
