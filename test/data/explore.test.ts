import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/audio/wav.js';
import { getRecipe } from '../../src/train/recipes.js';
import { CHANNEL_OPS } from '../../src/data/augment.js';
import { describeValues, exploreCorpus } from '../../src/data/explore.js';

let root: string;
beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'ser-explore-')); });
afterAll(() => { rmSync(root, { recursive: true, force: true }); });

function tone(seconds: number, f: number, sr = 8000): Uint8Array {
  return encodeWav(Float32Array.from({ length: Math.round(seconds * sr) }, (_, i) => 0.4 * Math.sin((2 * Math.PI * f * i) / sr)), sr);
}

describe('describeValues', () => {
  it('computes min/mean/median/max/population std', () => {
    expect(describeValues([4, 1, 3, 2])).toEqual({ n: 4, min: 1, mean: 2.5, median: 2.5, max: 4, std: Math.sqrt(1.25), total: 10 });
    expect(describeValues([5]).median).toBe(5);
    expect(describeValues([]).n).toBe(0);
  });
});

describe('exploreCorpus', () => {
  it('writes index.html with counts, durations, examples and the skipped files', async () => {
    const data = join(root, 'aesdd');
    mkdirSync(data);
    // angry: 3 files (speakers 1, 1, 2), sad: 2 files (speaker 2), one take letter
    writeFileSync(join(data, 'a01 (1).wav'), tone(0.5, 300));
    writeFileSync(join(data, 'a02 (1).wav'), tone(0.7, 300));
    writeFileSync(join(data, 'a01 (2)b.wav'), tone(0.6, 300));
    writeFileSync(join(data, 's01 (2).wav'), tone(1.0, 200));
    writeFileSync(join(data, 's02 (2).wav'), tone(0.8, 200));
    // the real broken file's shape: a RIFF/WAVE/fmt header with no data chunk
    const hdr = new Uint8Array(tone(0.1, 100).subarray(0, 36));
    new DataView(hdr.buffer).setUint32(4, 28, true);
    writeFileSync(join(data, 's05 (3).wav'), hdr);
    writeFileSync(join(data, 'readme.wav'), tone(0.2, 100));
    const out = join(root, 'report');
    const res = await exploreCorpus(data, out, { progress: false, augmentExamples: true, channel: { ...getRecipe('ser-robust').offlineAugment!.channel!, device: { p: 0.3 } } });
    const html = readFileSync(res.html, 'utf8');
    expect(res.corpus.items.length).toBe(5);
    expect(html).toContain('<b id="n-files">5</b>');
    expect(html).toContain('<b id="n-skipped">2</b>');
    // per speaker × emotion table rows: speaker 1 → angry 2, sad 0; speaker 2 → angry 1, sad 2
    expect(html).toContain('<tr><td class="l">1</td><td>2</td><td>0</td><td>2</td><td>0.0</td></tr>');
    expect(html).toContain('<tr><td class="l">2</td><td>1</td><td>2</td><td>3</td><td>0.0</td></tr>');
    expect(html).toContain('1 file(s) are repeated takes');
    // duration stats: angry mean 0.60, sad median 0.90
    expect(html).toContain('<tr><td class="l">angry</td><td>3</td><td>0.50</td><td>0.60</td><td>0.60</td><td>0.70</td>');
    expect(html).toContain('<tr><td class="l">sad</td><td>2</td><td>0.80</td><td>0.90</td><td>0.90</td><td>1.00</td>');
    // skipped files with reasons
    expect(html).toContain('s05 (3).wav');
    expect(html).toMatch(/s05 \(3\)\.wav<\/code><\/td><td class="l">broken/);
    expect(html).toMatch(/readme\.wav<\/code><\/td><td class="l">unparseable-name/);
    // images exist and are referenced relatively
    for (const f of res.files) expect(existsSync(join(out, f))).toBe(true);
    for (const img of ['img/files-per-emotion.svg', 'img/files-per-speaker.svg', 'img/duration-histogram.svg', 'img/waveform-0-angry.svg', 'img/logmel-1-sad.svg', 'img/logmel-1-sad.png']) {
      expect(res.files).toContain(img);
      if (img !== 'img/logmel-1-sad.png') expect(html).toContain(`src="${img}"`);
    }
    expect(readFileSync(join(out, 'img/files-per-emotion.svg'), 'utf8')).toContain('>3</text>');
    const png = readFileSync(join(out, 'img/logmel-1-sad.png'));
    expect([...png.subarray(1, 4)]).toEqual([80, 78, 71]);
    // augmentation gallery: original, the study's ops (pitch ±4, noise, masks, mel warp), then each channel op of the recipe
    const gallery = res.files.filter((f) => f.startsWith('img/augment-'));
    expect(gallery.length).toBe(6 + CHANNEL_OPS.length);
    for (const op of CHANNEL_OPS) expect(gallery.some((f) => f.includes(`channel_${op}`))).toBe(true);
    expect(html).toContain('Augmentation examples');
    // the example is the file closest to the median duration: angry median 0.6 → a01 (2)b.wav
    expect(html).toContain('angry — <code>a01 (2)b.wav</code>');
  });
});

describe('ser explore (CLI wiring)', () => {
  it('runs from the command line, prints the summary and the report URL; rejects a bad --format', async () => {
    const { Command } = await import('commander');
    const { register } = await import('../../src/cli/commands/explore.js');
    const data = join(root, 'cli-data');
    mkdirSync(join(data, 'angry'), { recursive: true });
    mkdirSync(join(data, 'neutral'), { recursive: true });
    writeFileSync(join(data, 'angry', 'x.wav'), tone(0.4, 250));
    writeFileSync(join(data, 'neutral', 'y.wav'), tone(0.4, 250));
    const out = join(root, 'cli-out');
    const lines: string[] = [];
    const orig = console.log;
    console.log = (...a: unknown[]) => { lines.push(a.join(' ')); };
    try {
      const program = new Command().exitOverride();
      register(program);
      await program.parseAsync(['node', 'ser', 'explore', '--data', data, '--out', out, '--label-map', 'neutral=skip', '--no-progress']);
    } finally {
      console.log = orig;
    }
    const text = lines.join('\n').split('\n');
    expect(text[0]).toBe('1 files (folders) from 1 speaker(s): angry 1');
    expect(text[1]).toBe('excluded by label map: neutral 1');
    expect(text[text.length - 1]).toMatch(/^report: file:\/\/.*cli-out\/index\.html$/);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    const program = new Command().exitOverride();
    register(program);
    await expect(program.parseAsync(['node', 'ser', 'explore', '--data', data, '--format', 'wav'])).rejects.toThrow(/unknown format "wav"/);
  });
});
