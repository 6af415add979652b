/** ClassifierCore and its helpers, in-process: normalisation, labels, timeline windows, refusals. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src/infer/classifier.js';
import { normalizeSpectrogram } from '../../src/features/normalize.js';
import { isSerError } from '../../src/util/errors.js';
import { makeTinyModelFolder, speechLike } from './helpers.js';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractFeatures, noiseFloorOf } from '../../src/features/pipeline.js';
import { timeColumn } from '../../src/features/reshape.js';
import { defaultModelDir } from '../../src/infer/classifier.js';
import { applyTemperature } from '../../src/model/calibration.js';
import { EMOTIONS } from '../../src/util/labels.js';

describe('normalizeSpectrogram', () => {
  const s = { data: Float32Array.from([1, 3, 5, 7, 10, 10]), nMels: 2, frames: 3 };
  it('utterance: (S - mean) / std over everything', () => {
    const mean = 6;
    const std = Math.sqrt((25 + 9 + 1 + 1 + 16 + 16) / 6);
    const out = normalizeSpectrogram(s, 'utterance');
    expect(Array.from(out.data)).toEqual(Array.from(s.data).map((v) => Math.fround((v - mean) / std)));
  });
  it('utterance-band: per row; a constant row becomes zeros', () => {
    const out = normalizeSpectrogram({ data: Float32Array.from([1, 3, 5, 4, 4, 4]), nMels: 2, frames: 3 }, 'utterance-band');
    const std = Math.sqrt(8 / 3);
    expect(Array.from(out.data)).toEqual([-2 / std, 0, 2 / std, 0, 0, 0].map(Math.fround));
  });
  it('none: unchanged', () => {
    expect(normalizeSpectrogram(s, 'none')).toBe(s);
  });
});

describe('Classifier', () => {
  let clf: Classifier;
  beforeAll(async () => {
    clf = await Classifier.load(await makeTinyModelFolder());
  });

  it('toLabels maps probabilities to labels and picks the arg-max', () => {
    expect(clf.toLabels([0.1, 0.2, 0.4, 0.2, 0.1])).toEqual({
      emotion: 'fear',
      probabilities: { angry: 0.1, disgust: 0.2, fear: 0.4, happy: 0.2, sad: 0.1 },
      confidence: 0.4,
    });
  });

  it('toLabels answers "uncertain" below minConfidence, and the label at or above it', () => {
    expect(clf.toLabels([0.1, 0.2, 0.4, 0.2, 0.1], 0.41).emotion).toBe('uncertain');
    expect(clf.toLabels([0.1, 0.2, 0.4, 0.2, 0.1], 0.4).emotion).toBe('fear');
  });

  it('a stored temperature calibrates the probabilities (same arg-max, softer), and a bad one is refused', async () => {
    const dir = await makeTinyModelFolder();
    const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, calibration: { method: 'temperature', temperature: 3 } }));
    const cal = await Classifier.load(dir);
    expect(cal.calibration).toEqual({ method: 'temperature', temperature: 3 });
    const audio = { samples: speechLike(2), sampleRate: 16000, channels: 1, source: 'x' };
    const spec = cal.features(audio);
    const raw = await cal.rawProbabilitiesOf(spec);
    const p = await cal.predictAudio(audio);
    const want = applyTemperature(raw, 3);
    EMOTIONS.forEach((e, i) => expect(p.probabilities[e]).toBeCloseTo(want[i]!, 6));
    expect(p.confidence).toBeCloseTo(Math.max(...want), 6);
    expect(p.emotion).toBe(EMOTIONS[raw.indexOf(Math.max(...raw))]);
    cal.dispose();
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, calibration: { method: 'temperature', temperature: -1 } }));
    await expect(Classifier.load(dir)).rejects.toThrow(/calibration must be/);
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, calibration: { method: 'temperature', temperature: 2, entropySlope: 'x' } }));
    await expect(Classifier.load(dir)).rejects.toThrow(/calibration must be/);
    // an entropy-dependent temperature: 1/T = 1/2 + 0.8 h, h the raw output's entropy / ln 5
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, calibration: { method: 'temperature', temperature: 2, entropySlope: 0.8 } }));
    const ent = await Classifier.load(dir);
    const h = -raw.reduce((a, q) => a + (q > 0 ? q * Math.log(q) : 0), 0) / Math.log(5);
    const wantE = applyTemperature(raw, 1 / (0.5 + 0.8 * h));
    const pe = await ent.predictAudio(audio);
    EMOTIONS.forEach((e, i) => expect(pe.probabilities[e]).toBeCloseTo(wantE[i]!, 6));
    ent.dispose();
  });

  it('a noise-floor calibration reads the input\'s noise floor from its statistics; a model without utterance statistics refuses it', async () => {
    const noiseCal = { method: 'temperature', temperature: 2, entropySlope: 0.3, noiseSlope: 0.9 };
    const tiny = await makeTinyModelFolder();
    const meta = JSON.parse(readFileSync(join(tiny, 'metadata.json'), 'utf8'));
    writeFileSync(join(tiny, 'metadata.json'), JSON.stringify({ ...meta, calibration: noiseCal }));
    await expect(Classifier.load(tiny)).rejects.toThrow(/noiseSlope needs utterance-statistics/);
    // the bundled model (utterance statistics) with this calibration
    const dir = mkdtempSync(join(tmpdir(), 'ser-noisecal-'));
    cpSync(defaultModelDir(), dir, { recursive: true });
    const bundled = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    // the bundled model without its test-time warps (one column of statistics; the warps have their own test)
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...bundled, calibration: noiseCal, testWarps: undefined }));
    const clf = await Classifier.load(dir);
    const audio = { samples: speechLike(2), sampleRate: 16000, channels: 1, source: 'x' };
    const spec = clf.features(audio);
    const raw = await clf.rawProbabilitiesOf(spec);
    const floor = noiseFloorOf(spec, clf.featureParams)!;
    expect(floor).toBeGreaterThan(-1);
    expect(floor).toBeLessThan(1.01);
    const h = -raw.reduce((a, q) => a + (q > 0 ? q * Math.log(q) : 0), 0) / Math.log(5);
    const want = applyTemperature(raw, 1 / (0.5 + 0.3 * h + 0.9 * floor));
    const p = await clf.predictAudio(audio);
    EMOTIONS.forEach((e, i) => expect(p.probabilities[e]).toBeCloseTo(want[i]!, 6));
    clf.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('test-time warps: one column of statistics per warp, probabilities averaged over them, calibrated with the plain features\' noise floor; bad lists refused', async () => {
    const noiseCal = { method: 'temperature', temperature: 2, entropySlope: 0.3, noiseSlope: 0.9 };
    const warps = [0.9, 1, 1.1];
    const dir = mkdtempSync(join(tmpdir(), 'ser-tta-'));
    cpSync(defaultModelDir(), dir, { recursive: true });
    const bundled = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    const write = (extra: object): void => writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...bundled, calibration: noiseCal, testWarps: undefined, ...extra }));
    write({});
    const plain = await Classifier.load(dir);
    write({ testWarps: warps });
    const tta = await Classifier.load(dir);
    expect(tta.testWarps).toEqual(warps);
    const audio = { samples: speechLike(2), sampleRate: 16000, channels: 1, source: 'x' };
    const spec = tta.features(audio);
    expect(spec.frames).toBe(3);
    const mean = new Float32Array(5);
    for (let k = 0; k < warps.length; k++) {
      const col = timeColumn(spec, k);
      // column k is exactly the statistics computed with that warp
      expect(Array.from(col.data)).toEqual(Array.from(extractFeatures(audio, { ...plain.featureParams, melWarp: warps[k] }).data));
      const p = await plain.rawProbabilitiesOf(col);
      p.forEach((q, c) => (mean[c]! += q / warps.length));
    }
    expect(Array.from(timeColumn(spec, 1).data)).toEqual(Array.from(plain.features(audio).data));
    const raw = await tta.rawProbabilitiesOf(spec);
    raw.forEach((q, c) => expect(q).toBeCloseTo(mean[c]!, 6));
    const floor = noiseFloorOf(plain.features(audio), plain.featureParams)!;
    const h = -raw.reduce((a, q) => a + (q > 0 ? q * Math.log(q) : 0), 0) / Math.log(5);
    const want = applyTemperature(raw, 1 / (0.5 + 0.3 * h + 0.9 * floor));
    const got = await tta.predictAudio(audio);
    EMOTIONS.forEach((e, i) => expect(got.probabilities[e]).toBeCloseTo(want[i]!, 6));
    // the plain model's prediction differs (the warps change the answer's numbers)
    const p0 = await plain.predictAudio(audio);
    expect(EMOTIONS.some((e) => Math.abs(p0.probabilities[e]! - got.probabilities[e]!) > 1e-4)).toBe(true);
    await expect(tta.rawProbabilitiesOf(plain.features(audio))).rejects.toThrow(/one column per warp, got 1/);
    plain.dispose();
    tta.dispose();
    for (const bad of [[0.9, 1.1], [], [1, -1], 'x']) {
      write({ testWarps: bad });
      await expect(Classifier.load(dir)).rejects.toThrow(/testWarps must be a non-empty list of positive warp factors including 1/);
    }
    rmSync(dir, { recursive: true, force: true });
    const tiny = await makeTinyModelFolder();
    const meta = JSON.parse(readFileSync(join(tiny, 'metadata.json'), 'utf8'));
    writeFileSync(join(tiny, 'metadata.json'), JSON.stringify({ ...meta, testWarps: [1] }));
    await expect(Classifier.load(tiny)).rejects.toThrow(/testWarps need utterance-statistics features/);
  });

  it('test-time warps with a per-utterance normalisation: each warp\'s statistics are normalised on their own, as training normalises each input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-tta-norm-'));
    cpSync(defaultModelDir(), dir, { recursive: true });
    const bundled = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...bundled, calibration: undefined, normalization: 'utterance', testWarps: [0.9, 1, 1.1] }));
    const clf = await Classifier.load(dir);
    const audio = { samples: speechLike(2), sampleRate: 16000, channels: 1, source: 'x' };
    const spec = clf.features(audio);
    [0.9, 1, 1.1].forEach((w, k) => {
      const want = normalizeSpectrogram(extractFeatures(audio, { ...clf.featureParams, melWarp: w }), 'utterance');
      expect(Array.from(timeColumn(spec, k).data)).toEqual(Array.from(want.data));
    });
    clf.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resamples any input to the model\'s own rate: the same sound at 16, 44.1 and 48 kHz gives (nearly) the same answer', async () => {
    const dir = await makeTinyModelFolder();
    const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, featureParams: { ...meta.featureParams, sampleRate: 16000, nFft: 1024, hopLength: 256 } }));
    const m = await Classifier.load(dir);
    const at = (sr: number) => m.predictSamples(speechLike(2, sr), sr);
    const [a, b, c] = [await at(16000), await at(44100), await at(48000)];
    for (const e of EMOTIONS) {
      expect(Math.abs(b.probabilities[e]! - a.probabilities[e]!)).toBeLessThan(0.02);
      expect(Math.abs(c.probabilities[e]! - a.probabilities[e]!)).toBeLessThan(0.02);
    }
    m.dispose();
  });

  it('predictAudio returns probabilities that sum to 1 and the duration', async () => {
    const p = await clf.predictSamples(speechLike(2), 16000);
    expect(p.durationSec).toBe(2);
    expect(Object.values(p.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(p.probabilities[p.emotion]).toBe(Math.max(...Object.values(p.probabilities)));
  });

  it('refuses silence and too-short clips with SerErrors, never a made-up emotion', async () => {
    const codes: string[] = [];
    for (const samples of [new Float32Array(32000), speechLike(0.05), new Float32Array(0)]) {
      try {
        await clf.predictSamples(samples, 16000);
        codes.push('predicted');
      } catch (e) {
        codes.push(isSerError(e) ? e.code : 'other');
      }
    }
    expect(codes).toEqual(['audio/silent', 'audio/too-short', 'audio/too-short']);
  });

  it('predictTimeline: windows with hop, last one clipped, silent and too-short windows marked', async () => {
    const y = new Float32Array(16000 * 5 + 400); // 5.025 s: last window 25 ms (too short for 2048 samples)
    y.set(speechLike(2), 0);
    y.set(speechLike(1.5, 16000, 3), 16000 * 3.5);
    const audio = { samples: y, sampleRate: 16000, channels: 1, source: 'mem' };
    const w = await clf.predictTimeline(audio, { segmentSec: 1, hopSec: 1 });
    expect(w.map((x) => [x.start, x.end])).toEqual([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 5.025]]);
    expect(w.map((x) => x.silent === true)).toEqual([false, false, true, false, false, true]);
    expect(w[2]).toEqual({ start: 2, end: 3, emotion: null, probabilities: null, silent: true });
    const whole1 = await clf.predictAudio({ ...audio, samples: y.subarray(0, 16000) });
    expect(w[0].probabilities).toEqual(whole1.probabilities);
    const over = await clf.predictTimeline(audio, { segmentSec: 2, hopSec: 1.5 });
    expect(over.map((x) => x.start)).toEqual([0, 1.5, 3, 4.5]);
    await expect(clf.predictTimeline(audio, { segmentSec: 0 })).rejects.toThrow(/must be > 0/);
  });
});
