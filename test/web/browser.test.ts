/**
 * The web app in Debian Chromium (playwright-core): upload a generated WAV, wait for the result,
 * screenshot it, and check the in-browser (tfjs wasm) probabilities equal the CLI's for the same file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildServer } from '../../src/server/app.js';
import { ensureWebBundle } from '../../src/server/static.js';
import { Classifier } from '../../src/infer/classifier.js';
import { EMOTIONS } from '../../src/util/labels.js';
import { makeTinyModelFolder, speechLike, writeWav } from '../infer/helpers.js';
import { decodeWav } from '../../src/audio/wav.js';
import { readFileSync } from 'node:fs';
import { speechTimeline } from '../../src/infer/timeline.js';

const CHROMIUM = '/usr/bin/chromium';
const MATRIX = {
  original: { accuracy: 0.614, uar: 0.615, ece: 0.063 },
  telephone: { accuracy: 0.574, uar: 0.574, ece: 0.09, description: 'telephone line' },
  'small-mic': { accuracy: 0.503, uar: 0.505, ece: 0.087, extra: true },
};
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`\n[browser tests skipped] no Chromium at ${CHROMIUM} (apt-get install chromium)\n`);

describe.skipIf(!HAVE_CHROMIUM)('web app in Chromium', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let url: string;
  let clf: Classifier;
  let wav: string;
  let modelDir: string;
  let cliLine: { emotion: string; probabilities: Record<string, number>; timeline: { segments: Array<{ speech: boolean }> } };
  let joined: string;
  let micWav: string;
  const shots = resolve(__dirname, '../../test-results');

  beforeAll(async () => {
    const note = await ensureWebBundle();
    expect(note).not.toMatch(/failed|missing/);
    modelDir = await makeTinyModelFolder();
    // an unseen-speaker matrix in the metadata, as `ser train --robustness` stores it (one extra condition)
    const metaFile = join(modelDir, 'metadata.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    meta.metrics = { ...meta.metrics, unseenSpeakerEstimate: { conditions: MATRIX } };
    writeFileSync(metaFile, JSON.stringify(meta));
    clf = await Classifier.load(modelDir);
    app = await buildServer({ classifier: clf });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    const dir = mkdtempSync(join(tmpdir(), 'ser-web-'));
    // speech 0–2 s, silence, speech 6.5–9.5 s: the 3-s window at 3–6 s is silent
    const y = new Float32Array(16000 * 10);
    y.set(speechLike(2, 16000, 1), 0);
    y.set(speechLike(3, 16000, 4).map((v) => v * 0.6), 16000 * 6.5);
    wav = writeWav(dir, 'speech-10s.wav', y);
    // a joined recording: five speech-like utterances of 2–4 s with 0.6–1.4 s of silence between them
    const parts = [2, 3.5, 2.5, 4, 3];
    const gaps = [0.8, 0.6, 1.4, 1.0, 0.7, 0.9];
    const z = new Float32Array(Math.round(16000 * (parts.reduce((a, b) => a + b) + gaps.reduce((a, b) => a + b))));
    let at = gaps[0]!;
    parts.forEach((sec, i) => {
      z.set(speechLike(sec, 16000, i + 2).map((v) => v * (0.4 + 0.15 * i)), Math.round(at * 16000));
      at += sec + gaps[i + 1]!;
    });
    joined = writeWav(dir, 'joined-5.wav', z);
    // the fake microphone (Chromium plays this file, looped, as the capture device)
    micWav = joined;
    mkdirSync(shots, { recursive: true });
    // the real CLI on the same file (built dist/, as `npm test` builds first)
    const out = execFileSync(process.execPath, [resolve(__dirname, '../../bin/ser.js'), 'predict', wav, '--model', modelDir, '--json', '--timeline'], { encoding: 'utf8' });
    cliLine = JSON.parse(out.trim());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${micWav}`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 1200 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${url}/`);
    await page.waitForFunction(() => (window as any).serApp !== undefined);
    const ok = await page.evaluate(async () => !!(await (window as any).serApp.ready));
    expect(errors).toEqual([]);
    expect(ok).toBe(true);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    clf?.dispose();
  });

  it("shows the model's unseen-speaker matrix from its metadata in the footer, extra conditions marked", async () => {
    expect(await page.locator('#model-info').textContent()).toContain('≈ 61% on a speaker it never heard');
    expect(await page.locator('#robustness').isVisible()).toBe(true);
    expect(await page.locator('table.robustness').getAttribute('data-conditions')).toBe('3');
    const rows = await page.locator('table.robustness tr[data-condition]').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toEqual([['original', '61.4%', '0.063'], ['telephone', '57.4%', '0.090'], ['small-mic †', '50.3%', '0.087']]);
    // a condition's description (stored by `ser train --robustness`) is the row's tooltip
    expect(await page.locator('table.robustness tr[data-condition="telephone"]').getAttribute('title')).toBe('telephone line');
  });

  it('predicts an uploaded WAV in the page with the same probabilities as `ser predict --json`', async () => {
    await page.setInputFiles('#file', wav);
    const result = page.locator('#result[data-emotion]');
    await result.waitFor({ state: 'visible', timeout: 60_000 });
    await page.screenshot({ path: join(shots, 'web-app.png'), fullPage: true });
    const emotion = await result.getAttribute('data-emotion');
    const probs = JSON.parse((await result.getAttribute('data-probabilities'))!);
    expect(await result.getAttribute('data-mode')).toBe('browser');
    const cli = cliLine;
    expect(emotion).toBe(cli.emotion);
    expect(Object.keys(probs)).toEqual([...EMOTIONS]);
    const maxDiff = Math.max(...EMOTIONS.map((k) => Math.abs(probs[k] - cli.probabilities[k])));
    console.log(`browser (wasm) vs CLI: max |Δp| = ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
    // the 10-s clip gets the voice-activity timeline: two speech pieces, the gaps without emotion (as the CLI)
    const blocks = await page.locator('#timeline > div').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.emotion));
    expect(blocks).toEqual(cliLine.timeline.segments.map((s: any) => s.emotion ?? 'none'));
    expect(await page.locator('#timeline').getAttribute('data-timeline-segments')).toBe('2');
  });

  it('shows the timeline of an uploaded joined recording: one coloured piece per utterance, probabilities on click', async () => {
    const audio = decodeWav(new Uint8Array(readFileSync(joined)), joined);
    const expected = (await speechTimeline(clf, audio)).segments.filter((s) => s.speech);
    expect(expected).toHaveLength(5); // the detector finds the five utterances (node side, same code)
    await page.setInputFiles('#file', []);
    await page.setInputFiles('#file', joined);
    const tl = page.locator('#timeline[data-timeline-segments]');
    await tl.waitFor({ state: 'attached', timeout: 60_000 });
    await page.waitForFunction(() => (window as any).serApp.last?.timeline?.segments?.length > 0);
    expect(await tl.getAttribute('data-timeline-segments')).toBe('5');
    const pieces = page.locator('#timeline .seg.speech');
    expect(await pieces.count()).toBe(5);
    const starts = await pieces.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.start)));
    expect(starts.map((x) => x.toFixed(3))).toEqual(expected.map((s) => s.start.toFixed(3)));
    await pieces.nth(2).click();
    const detail = page.locator('#timeline-detail:not(.hidden) .bar');
    expect(await detail.count()).toBe(EMOTIONS.length);
    expect(await pieces.nth(2).getAttribute('title')).toContain(expected[2]!.emotion!);
    await page.locator('#timeline-wrap').screenshot({ path: join(shots, 'web-app-timeline.png') });
    await page.screenshot({ path: join(shots, 'web-app-timeline-page.png'), fullPage: true });
  });

  it('microphone mode shows a rolling timeline while recording (fake capture device, computed in the page)', async () => {
    await page.uncheck('#server-mode');
    await page.click('#record');
    // the live timeline fills in while the "person" speaks: at least two finished pieces
    await page.waitForFunction(() => Number(document.getElementById('timeline')!.dataset.live ?? 0) >= 2, null, { timeout: 30_000 });
    await page.screenshot({ path: join(shots, 'web-app-live.png'), fullPage: true });
    await page.click('#record');
    const done = page.locator('#result[data-mode="browser"][data-emotion]');
    await done.waitFor({ state: 'visible', timeout: 60_000 });
    await page.waitForFunction(() => document.getElementById('timeline')!.dataset.timelineSegments !== undefined);
    expect(Number(await page.locator('#timeline').getAttribute('data-timeline-segments'))).toBeGreaterThanOrEqual(2);
  });

  it('server mode posts to /api/predict and shows the same answer', async () => {
    await page.check('#server-mode');
    await page.evaluate(() => document.getElementById('result')!.removeAttribute('data-emotion'));
    await page.setInputFiles('#file', []);
    await page.setInputFiles('#file', wav);
    const result = page.locator('#result[data-mode="server"][data-emotion]');
    await result.waitFor({ state: 'visible', timeout: 60_000 });
    const probs = JSON.parse((await result.getAttribute('data-probabilities'))!);
    const cli = cliLine;
    for (const k of EMOTIONS) expect(Math.abs(probs[k] - cli.probabilities[k])).toBeLessThanOrEqual(1e-3);
    await page.screenshot({ path: join(shots, 'web-app-server-mode.png'), fullPage: true });
  });

  it('"Min. confidence" above the answer\'s confidence says "uncertain", in the page and in server mode alike', async () => {
    for (const server of [false, true]) {
      if (server) await page.check('#server-mode'); else await page.uncheck('#server-mode');
      await page.fill('#min-confidence', '1');
      await page.evaluate(() => document.getElementById('result')!.removeAttribute('data-emotion'));
      await page.setInputFiles('#file', []);
      await page.setInputFiles('#file', wav);
      const result = page.locator('#result[data-emotion]');
      await result.waitFor({ state: 'visible', timeout: 60_000 });
      expect(await result.getAttribute('data-emotion')).toBe('uncertain');
      const probs = JSON.parse((await result.getAttribute('data-probabilities'))!);
      for (const k of EMOTIONS) expect(Math.abs(probs[k] - cliLine.probabilities[k])).toBeLessThanOrEqual(1e-3);
    }
    await page.fill('#min-confidence', '0');
  });
});
