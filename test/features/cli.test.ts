import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { register, featureParamsFromFlags } from '../../src/cli/commands/features.js';
import { encodeWav } from '../../src/audio/wav.js';
import { DEFAULT_FEATURE_PARAMS } from '../../src/features/params.js';
import { SerError } from '../../src/util/errors.js';

async function run(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  let out = '';
  const w = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  const l = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out += a.join(' ') + '\n'; });
  try {
    await program.parseAsync(['node', 'ser', ...args]);
  } finally {
    w.mockRestore();
    l.mockRestore();
  }
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'ser-features-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const sr = 16000;
const tone = Float32Array.from({ length: sr }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / sr));
const wav = join(tmp, 'tone.wav');
writeFileSync(wav, encodeWav(tone, sr));

describe('ser features', () => {
  it('--json prints one object with rows = mel bands', async () => {
    const out = await run(['features', wav, '--json', '--preprocess', 'none', '--n-mels', '40', '--fmax', 'nyquist']);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j.file).toBe(wav);
    expect(j.sampleRate).toBe(sr);
    expect(j.nMels).toBe(40);
    expect(j.frames).toBe(1 + Math.floor(sr / 512));
    expect(j.logMel).toHaveLength(40);
    expect(j.logMel[0]).toHaveLength(j.frames);
    expect(Math.max(...j.logMel.flat())).toBe(0);
  });

  it('--mfcc/--deltas add rows; --sample-rate resamples', async () => {
    const j = JSON.parse(await run(['features', wav, '--json', '--preprocess', 'none', '--mfcc', '13', '--deltas', '2', '--sample-rate', '8000', '--fmax', '4000']));
    expect(j.sampleRate).toBe(8000);
    expect(j.mfcc).toHaveLength(13);
    expect(j.delta).toHaveLength(13);
    expect(j.delta2).toHaveLength(13);
    expect(j.frames).toBe(1 + Math.floor(8000 / 512));
  });

  it('--representation utterance-stats prints one statistics vector', async () => {
    const j = JSON.parse(await run(['features', wav, '--json', '--representation', 'utterance-stats']));
    expect(j.representation).toBe('utterance-stats');
    expect(j.stats).toHaveLength(j.length);
    expect(j.length).toBeGreaterThan(32);
  });

  it('prints a short summary without --json', async () => {
    const out = await run(['features', wav, '--preprocess', 'none']);
    expect(out).toMatch(/128 mel bands × 32 frames/);
  });

  it('flags map onto FeatureParams; bad values give cli/bad-option naming the flag', () => {
    expect(featureParamsFromFlags({})).toEqual({ ...DEFAULT_FEATURE_PARAMS });
    const p = featureParamsFromFlags({ nFft: '1024', hopLength: '256', htk: true, norm: 'none', topDb: 'none', ref: '2', center: false, padMode: 'reflect' });
    expect(p).toMatchObject({ nFft: 1024, hopLength: 256, htk: true, norm: null, topDb: null, ref: 2, center: false, padMode: 'reflect' });
    try {
      featureParamsFromFlags({ hopLength: 'abc' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SerError);
      expect((e as SerError).code).toBe('cli/bad-option');
      expect((e as SerError).message).toContain('--hop-length');
    }
    expect(() => featureParamsFromFlags({ preprocess: 'loud' })).toThrow(/--preprocess/);
  });

  it('a missing file is a SerError naming it', async () => {
    await expect(run(['features', join(tmp, 'nope.wav')])).rejects.toThrow(/nope\.wav/);
  });
});
