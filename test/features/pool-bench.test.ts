import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeaturePool } from '../../src/features/pool.js';
import { featureParams } from '../../src/features/params.js';
import { extractFeatures } from '../../src/features/pipeline.js';
import { encodeWav } from '../../src/audio/wav.js';
import { benchFeatures } from '../../src/cli/commands/bench/features.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sr = 16000;
const files: string[] = [];
const signals: Float32Array[] = [];
for (let f = 0; f < 3; f++) {
  const y = Float32Array.from({ length: sr * (1 + f * 0.25) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * (300 + 100 * f) * i) / sr) * (i % 4000 < 2500 ? 1 : 0.05));
  const p = join(dir, `a0${f + 1} (1).wav`);
  writeFileSync(p, encodeWav(y, sr, { encoding: 'float32' }));
  files.push(p);
  signals.push(y);
}
writeFileSync(join(dir, 'broken.wav'), Buffer.from('RIFF\x1c\x00\x00\x00WAVEfmt ', 'latin1'));

describe('FeaturePool (worker threads)', () => {
  it('gives the same features as the main thread, in input order, and reports a broken file without stopping', async () => {
    const params = featureParams({ nMels: 32, fmax: null });
    const pool = new FeaturePool(2);
    try {
      const res = await pool.extractAll([...files, join(dir, 'broken.wav')], params);
      expect(res).toHaveLength(4);
      for (let i = 0; i < 3; i++) {
        const want = extractFeatures({ samples: signals[i]!, sampleRate: sr, channels: 1, source: files[i]! }, params);
        expect(res[i]!.path).toBe(files[i]);
        expect(res[i]!.spec!.frames).toBe(want.frames);
        expect(Array.from(res[i]!.spec!.data)).toEqual(Array.from(want.data));
        expect(res[i]!.seconds).toBeCloseTo(signals[i]!.length / sr, 9);
      }
      expect(res[3]!.error!.code).toMatch(/^audio\//);
      expect(res[3]!.error!.message).toContain('broken.wav');
    } finally {
      await pool.close();
    }
  });
});

describe('benchFeatures', () => {
  it('reports every phase with positive figures', async () => {
    const r = await benchFeatures({ data: dir, limit: 2, workers: 1, repeat: 2 });
    expect(r.files).toBe(2);
    expect(r.audioSeconds).toBeCloseTo(1 + 1.25, 9);
    expect(Object.keys(r.phases)).toEqual(['decode', 'log-mel (plain)', 'noise reduction only', 'seed (nr+norm+log-mel)', 'decode + seed',
      'cache cold (seed)', 'cache warm (seed)', 'cache cold (plain)', 'cache warm (plain)', 'decode + seed, 1 worker']);
    for (const p of Object.values(r.phases)) {
      expect(Number.isFinite(p.msPerFile) && p.msPerFile > 0).toBe(true);
    }
  });
});
