import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeToyCorpus } from './helpers.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'test/train/ser-entry.ts');

function ser(args: string[]): { done: Promise<{ code: number | null; signal: string | null; stderr: string }>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  child.stdout.on('data', () => undefined);
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, stderr })),
  );
  return { done, kill: () => child.kill('SIGKILL') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ser train (child process)', () => {
  it('a run killed with SIGKILL mid-training and resumed ends with the same weights as an uninterrupted run', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-cli-train-'));
    try {
      const data = join(tmp, 'corpus');
      mkdirSync(data, { recursive: true });
      writeToyCorpus(data, (p, b) => writeFileSync(p, b), [1], 3);
      const common = [
        'train', '--data', data, '--recipe', 'seed-cnn3', '--epochs', '8', '--batch', '2', '--seed', '9',
        '--val-fraction', '0.2', '--cache', join(tmp, 'cache'), '--no-progress', '--backend', 'cpu',
        '--features', JSON.stringify({ preprocess: 'none', nMels: 16, nFft: 256, hopLength: 64, fmax: 4000 }),
        '--arch-options', JSON.stringify({ channels: [2, 4, 4] }),
      ];
      const straight = await ser([...common, '--out', join(tmp, 'a')]).done;
      expect(straight.code, straight.stderr).toBe(0);

      const outB = join(tmp, 'b');
      const run = ser([...common, '--out', outB]);
      let killed = false;
      for (let i = 0; i < 4800 && !killed; i++) { // up to 2 min on a busy machine
        await sleep(25);
        if (existsSync(join(outB, 'checkpoint.ckpt'))) {
          await sleep(60); // somewhere inside a later epoch
          run.kill();
          killed = true;
        }
      }
      const r1 = await run.done;
      expect(killed).toBe(true);
      expect(r1.signal).toBe('SIGKILL');
      expect(existsSync(join(outB, 'weights.bin'))).toBe(false); // it really did not finish
      const ckpt = (await loadCheckpoint(join(outB, 'checkpoint.ckpt'))) as { epoch: number; history: unknown[] };
      expect(ckpt.epoch).toBeGreaterThanOrEqual(1);
      expect(ckpt.epoch).toBeLessThan(8); // killed part-way, the last complete epoch is on disk
      expect(ckpt.history).toHaveLength(ckpt.epoch);
      const resumed = await ser([...common, '--out', outB, '--resume']).done;
      expect(resumed.code, resumed.stderr).toBe(0);

      const wa = readFileSync(join(tmp, 'a', 'weights.bin'));
      const wb = readFileSync(join(outB, 'weights.bin'));
      expect(wb.equals(wa)).toBe(true);
      const la = JSON.parse(readFileSync(join(tmp, 'a', 'log.json'), 'utf8'));
      const lb = JSON.parse(readFileSync(join(outB, 'log.json'), 'utf8'));
      expect(lb.history.map((h: { loss: number }) => h.loss)).toEqual(la.history.map((h: { loss: number }) => h.loss));
      const meta = JSON.parse(readFileSync(join(outB, 'metadata.json'), 'utf8'));
      expect(meta.labels).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad']);
      expect(meta.featureParams.nMels).toBe(16);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
