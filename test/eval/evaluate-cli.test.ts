import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTrain } from '../../src/cli/commands/train.js';
import { writeToyCorpus } from '../train/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('ser evaluate --json (child process)', () => {
  it('prints one JSON object; unreadable files are reported on stderr and left out of n', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-eval-'));
    try {
      const data = join(tmp, 'corpus');
      mkdirSync(data);
      writeToyCorpus(data, (p, b) => writeFileSync(p, b), [1], 2);
      await runTrain({
        data, out: join(tmp, 'model'), recipe: 'seed-cnn3', epochs: 2, batch: 4, seed: 1, valFraction: 0,
        cache: join(tmp, 'cache'), backend: 'cpu', progress: false,
        features: { preprocess: 'none', nMels: 16, nFft: 256, hopLength: 64, fmax: 4000 },
        archOptions: { channels: [2, 4, 4] },
      });
      // a broken file with a valid name: RIFF header, no data chunk
      writeFileSync(join(data, 's09 (1).wav'), Buffer.from('RIFF\x1c\x00\x00\x00WAVEfmt ', 'latin1'));
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/train/ser-entry.ts'), 'evaluate', '--data', data, '--model', join(tmp, 'model'), '--json', '--no-progress'], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]!);
      expect(Object.keys(out).sort()).toEqual(['accuracy', 'confusion', 'labels', 'macroF1', 'n', 'uar']);
      expect(out.n).toBe(10);
      expect(out.labels).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad']);
      expect(out.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10);
      expect(out.confusion.map((row: number[]) => row.reduce((a, b) => a + b, 0))).toEqual([2, 2, 2, 2, 2]);
      const diag = out.confusion.reduce((a: number, row: number[], i: number) => a + row[i]!, 0);
      expect(out.accuracy).toBeCloseTo(diag / 10, 12);
      expect(r.stderr).toMatch(/s09 \(1\)\.wav/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('ser evaluate --calibration-objective', () => {
  it('needs --loso, and is brier or nll', async () => {
    const { runConditions } = await import('../../src/cli/commands/evaluate.js');
    const tmp = mkdtempSync(join(tmpdir(), 'ser-eval-obj-'));
    try {
      writeToyCorpus(tmp, (p, b) => writeFileSync(p, b), [1, 2], 1);
      await expect(runConditions({ data: tmp, conditions: 'original', calibrationObjective: 'nll', progress: false })).rejects.toThrow(/--calibration-objective needs --loso/);
      await expect(runConditions({ data: tmp, conditions: 'original', loso: true, calibrationObjective: 'ece', progress: false })).rejects.toThrow(/--calibration-objective must be one of nll, brier, got 'ece'/);
      // --calibration-procedure likewise
      await expect(runConditions({ data: tmp, conditions: 'original', calibrationProcedure: 'loso', progress: false })).rejects.toThrow(/--calibration-procedure needs --loso/);
      await expect(runConditions({ data: tmp, conditions: 'original', loso: true, calibrationProcedure: 'outer', progress: false })).rejects.toThrow(/--calibration-procedure must be one of inner, loso, got 'outer'/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
