import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { encodeWav } from '../../src/audio/wav.js';
import { detectFormat, parseCsv, parseLabelMap, parseName, scanCorpus, summarizeCorpus } from '../../src/data/corpus.js';
import { probeCorpus } from '../../src/data/probe.js';
import { AESDD_DIR, FIXTURES_DIR, HAVE_CORPUS, HAVE_SHARED, noteCorpusSkip } from '../corpus.js';

noteCorpusSkip('data/corpus');
const tone = (n = 800, sr = 8000) => encodeWav(Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i / 5)), sr);
let root: string;
function make(dir: string, files: string[], bytes: Uint8Array = tone()): string {
  const d = join(root, dir);
  for (const f of files) {
    mkdirSync(join(d, f, '..'), { recursive: true });
    writeFileSync(join(d, f), bytes);
  }
  return d;
}

beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'ser-corpus-')); });
afterAll(() => { rmSync(root, { recursive: true, force: true }); });

describe('file name parsers', () => {
  it('AESDD: actor is the integer in parentheses, trailing letter is a take', () => {
    expect(parseName('aesdd', '/x/d03 (01).flac')).toEqual({ code: 'd', name: 'disgust', speaker: '1' });
    expect(parseName('aesdd', 's01 (5)a.flac')).toEqual({ code: 's', name: 'sad', speaker: '5', take: 'a' });
    expect(parseName('aesdd', 'a06 (5)b.wav')).toEqual({ code: 'a', name: 'angry', speaker: '5', take: 'b' });
    expect(parseName('aesdd', 'x01 (2).wav')).toEqual({ code: 'x', name: null, speaker: '2' });
    expect(parseName('aesdd', 'hello.wav')).toBeNull();
  });
  it('RAVDESS, CREMA-D, EMO-DB, SAVEE, TESS', () => {
    expect(parseName('ravdess', 'Actor_12/03-01-05-01-02-01-12.wav')).toEqual({ code: '05', name: 'angry', speaker: '12' });
    expect(parseName('ravdess', '03-01-02-01-02-01-03.wav')!.name).toBe('calm');
    expect(parseName('crema-d', '1001_DFA_ANG_XX.wav')).toEqual({ code: 'ANG', name: 'angry', speaker: '1001' });
    expect(parseName('crema-d', '1091_WSI_SAD_HI.wav')!.name).toBe('sad');
    expect(parseName('emodb', '03a01Fa.wav')).toEqual({ code: 'F', name: 'happy', speaker: '03', take: 'a' });
    expect(parseName('emodb', '16b10Wb.wav')!.name).toBe('angry');
    expect(parseName('savee', 'DC_sa01.wav')).toEqual({ code: 'sa', name: 'sad', speaker: 'DC' });
    expect(parseName('savee', '/c/JK/su12.wav')).toEqual({ code: 'su', name: 'surprise', speaker: 'JK' });
    expect(parseName('tess', 'OAF_back_angry.wav')).toEqual({ code: 'angry', name: 'angry', speaker: 'OAF' });
    expect(parseName('tess', 'YAF_dog_ps.wav')!.name).toBe('surprise');
  });
});

describe('parseCsv / parseLabelMap', () => {
  it('handles quotes, escaped quotes, CRLF and a BOM', () => {
    expect(parseCsv('\ufeffpath,label\r\n"a, b.wav",happy\n"say ""hi"".wav",sad\n\n')).toEqual([
      ['path', 'label'], ['a, b.wav', 'happy'], ['say "hi".wav', 'sad'],
    ]);
  });
  it('parses from=to lists and rejects junk', () => {
    expect(parseLabelMap('neutral=skip, CALM=skip,ps=happy')).toEqual({ neutral: 'skip', calm: 'skip', ps: 'happy' });
    expect(() => parseLabelMap('neutral')).toThrow(/from=to/);
  });
});

describe('scanCorpus', () => {
  it('AESDD: items with speakers and takes, problems for bad names and letters', () => {
    const d = make('aesdd', ['a01 (1).wav', 's01 (5)a.flac', 'd03 (01).wav', 'x02 (2).wav', 'junk.wav', 'notes.txt', '.hidden.wav']);
    expect(detectFormat(d)).toBe('aesdd');
    const c = scanCorpus(d);
    expect(c.format).toBe('aesdd');
    expect(c.items.map((i) => [i.label, i.speaker, i.take ?? ''])).toEqual([
      ['angry', '1', ''], ['disgust', '1', ''], ['sad', '5', 'a'],
    ]);
    expect(c.problems.map((p) => p.reason).sort()).toEqual(['unknown-label', 'unparseable-name']);
    expect(c.problems.find((p) => p.reason === 'unknown-label')!.message).toContain('x02 (2).wav');
  });
  it('each item\'s id is its path relative to the root, the same however the root is reached (relative, absolute, a symlink)', () => {
    const d = make('ids', ['Actor_01/03-01-05-01-01-01-01.wav', 'Actor_02/03-01-03-01-01-01-02.wav']);
    const link = join(root, 'ids-link');
    symlinkSync(d, link);
    const want = ['Actor_01/03-01-05-01-01-01-01.wav', 'Actor_02/03-01-03-01-01-01-02.wav'];
    for (const spelt of [d, link, relative(process.cwd(), d), d + '/']) expect(scanCorpus(spelt).items.map((i) => i.id)).toEqual(want);
    expect(scanCorpus(link).items[0]!.path).toBe(join(link, want[0]!));
  });
  it('RAVDESS: maps to our labels, reports the rest, and honours a label map', () => {
    const d = make('ravdess', ['Actor_01/03-01-05-01-01-01-01.wav', 'Actor_01/03-01-01-01-01-01-01.wav', 'Actor_02/03-01-08-01-01-01-02.wav', 'Actor_02/03-01-03-02-01-01-02.wav']);
    const c = scanCorpus(d);
    expect(c.format).toBe('ravdess');
    expect(c.items.map((i) => i.label)).toEqual(['angry', 'happy']);
    expect(c.problems.map((p) => p.reason)).toEqual(['unknown-label', 'unknown-label']);
    const m = scanCorpus(d, { labelMap: parseLabelMap('neutral=skip,surprise=happy') });
    expect(m.items.map((i) => i.label)).toEqual(['angry', 'happy', 'happy']);
    expect(m.problems).toEqual([]);
    expect(m.excluded).toEqual({ neutral: 1 });
    expect(summarizeCorpus(m)).toContain('excluded by label map: neutral 1');
  });
  it('CREMA-D, EMO-DB, SAVEE, TESS are detected', () => {
    expect(scanCorpus(make('crema', ['1001_DFA_ANG_XX.wav', '1002_IEO_NEU_HI.wav'])).format).toBe('crema-d');
    const e = scanCorpus(make('emodb', ['03a01Fa.wav', '03a01Wb.wav', '08b02La.wav']));
    expect([e.format, e.items.length, e.problems.length]).toEqual(['emodb', 2, 1]);
    const s = scanCorpus(make('savee', ['DC/a01.wav', 'DC/sa02.wav', 'JE/n03.wav']));
    expect([s.format, s.items.map((i) => i.speaker).join()]).toEqual(['savee', 'DC,DC']);
    const t = scanCorpus(make('tess', ['OAF_angry/OAF_back_angry.wav', 'YAF_sad/YAF_dog_sad.wav']));
    expect([t.format, t.items.map((i) => `${i.speaker}:${i.label}`).join()]).toEqual(['tess', 'OAF:angry,YAF:sad']);
  });
  it('folder per label, with synonyms and a speaker sub-folder', () => {
    const d = make('folders', ['Anger/x1.wav', 'sad/spk7/y.wav', 'boredom/z.wav', 'loose.wav']);
    const c = scanCorpus(d, { format: 'folders' });
    expect(c.items.map((i) => [i.label, i.speaker])).toEqual([['angry', null], ['sad', 'spk7']]);
    expect(c.problems.map((p) => p.reason).sort()).toEqual(['unknown-label', 'unparseable-name']);
    expect(detectFormat(join(root, 'folders'))).toBe('folders');
  });
  it('CSV manifest: header optional, paths relative to the CSV, missing files reported', () => {
    const d = make('csv', ['audio/one.wav', 'audio/two.wav']);
    writeFileSync(join(d, 'manifest.csv'), 'path,label,speaker\naudio/one.wav,happy,A\n"audio/two.wav",Sadness,\naudio/gone.wav,fear,B\naudio/one.wav,calm,A\nlonely\n');
    const c = scanCorpus(d);
    expect(c.format).toBe('csv');
    expect(c.items.map((i) => [i.path, i.label, i.speaker])).toEqual([
      [join(d, 'audio/one.wav'), 'happy', 'A'], [join(d, 'audio/two.wav'), 'sad', null],
    ]);
    expect(c.problems.map((p) => p.reason)).toEqual(['missing-file', 'unknown-label', 'bad-row']);
    expect(c.items.map((i) => i.id)).toEqual(['audio/one.wav', 'audio/two.wav']);
    writeFileSync(join(d, 'noheader.csv'), 'audio/one.wav,angry\n');
    expect(scanCorpus(join(d, 'noheader.csv')).items.map((i) => i.label)).toEqual(['angry']);
  });
  it('errors clearly on a missing folder or an unknown layout', () => {
    expect(() => scanCorpus(join(root, 'nope'))).toThrow(/does not exist/);
    make('flat', ['foo.wav', 'bar.wav']);
    expect(() => scanCorpus(join(root, 'flat'))).toThrow(/cannot tell the corpus format/);
  });
});

describe('probeCorpus', () => {
  it('moves broken and empty files to problems and measures durations', async () => {
    const d = make('probe', ['a01 (1).wav', 'a02 (1).wav']);
    writeFileSync(join(d, 'h01 (2).wav'), encodeWav(new Float32Array(0), 8000));
    writeFileSync(join(d, 's05 (3).wav'), new Uint8Array([82, 73, 70, 70, 28, 0, 0, 0, 87, 65, 86, 69, 102, 109, 116, 32]));
    const p = await probeCorpus(scanCorpus(d));
    expect(p.items.map((i) => [i.label, i.duration])).toEqual([['angry', 0.1], ['angry', 0.1]]);
    expect(p.problems.map((x) => x.reason).sort()).toEqual(['broken', 'zero-duration']);
    expect(p.problems.find((x) => x.reason === 'broken')!.message).toContain('s05 (3).wav');
  });
  it.skipIf(!HAVE_SHARED)('skips the real broken fixture and carries on', async () => {
    const p = await probeCorpus(scanCorpus(FIXTURES_DIR));
    expect(p.items.map((i) => i.label)).toEqual(['angry']);
    expect(p.problems.find((x) => x.path.endsWith('s05 (3).wav'))!.reason).toBe('broken');
  });
});

describe.skipIf(!HAVE_CORPUS)('AESDD corpus scan', () => {
  it('finds about 100 files per emotion and at least 5 actors', () => {
    const c = scanCorpus(AESDD_DIR);
    expect(c.format).toBe('aesdd');
    expect(c.problems).toEqual([]);
    const speakers = new Set(c.items.map((i) => i.speaker));
    expect(speakers.size).toBeGreaterThanOrEqual(5);
    for (const e of ['angry', 'disgust', 'fear', 'happy', 'sad']) {
      const n = c.items.filter((i) => i.label === e).length;
      expect(n).toBeGreaterThan(80);
    }
  });
});
