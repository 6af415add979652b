/** Temperature scaling (model/calibration.ts) and calibration metrics (eval/metrics.ts). */
import { describe, expect, it } from 'vitest';
import { applyTemperature, calibrate, calibratedLoss, calibratedNll, chooseCalibration, describeCalibration, fitCalibration, fitTemperature, needsNoiseFloor, normalizedEntropy, parseCalibration, temperatureOf, temperedNll } from '../../src/model/calibration.js';
import { expectedCalibrationError, reliabilityBins } from '../../src/eval/metrics.js';
import { createRng } from '../../src/util/rng.js';

const softmax = (z: number[]) => { const m = Math.max(...z); const e = z.map((v) => Math.exp(v - m)); const s = e.reduce((a, b) => a + b, 0); return e.map((v) => v / s); };

describe('applyTemperature', () => {
  it('T = 1 is the identity; T > 1 softens, T < 1 sharpens, the arg-max never moves', () => {
    const p = [0.7, 0.2, 0.1];
    expect([...applyTemperature(p, 1)]).toEqual([...Float32Array.from(p)]);
    const soft = applyTemperature(p, 2);
    const sharp = applyTemperature(p, 0.5);
    expect(soft[0]).toBeLessThan(0.7);
    expect(sharp[0]).toBeGreaterThan(0.7);
    for (const q of [soft, sharp]) {
      expect(q.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(q.indexOf(Math.max(...q))).toBe(0);
    }
  });
  it('equals softmax(logits / T) for softmax outputs', () => {
    const z = [2, 0.5, -1, 0.1];
    const got = applyTemperature(softmax(z), 1.7);
    const want = softmax(z.map((v) => v / 1.7));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });
  it('calibrate reads a stored calibration, and none leaves the probabilities alone', () => {
    expect([...calibrate([0.5, 0.5], null)]).toEqual([0.5, 0.5]);
    expect(calibrate([0.9, 0.1], { method: 'temperature', temperature: 3 })[0]).toBeCloseTo(applyTemperature([0.9, 0.1], 3)[0]!, 7);
  });
});

describe('fitTemperature', () => {
  it('recovers the temperature that generated the labels', () => {
    // logits z; labels drawn from softmax(z / 2.5): the model's raw softmax(z) is over-confident by T = 2.5
    const rng = createRng(11);
    const probs: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const z = Array.from({ length: 5 }, () => 3 * rng.normal());
      const truth = softmax(z.map((v) => v / 2.5));
      let u = rng.next(), k = 0;
      while (k < 4 && u > truth[k]!) u -= truth[k++]!;
      probs.push(softmax(z));
      labels.push(k);
    }
    const t = fitTemperature(probs, labels);
    expect(t).toBeGreaterThan(2.35);
    expect(t).toBeLessThan(2.65);
    // and it is the minimum of the NLL
    expect(temperedNll(probs, labels, t)).toBeLessThan(temperedNll(probs, labels, t * 1.1));
    expect(temperedNll(probs, labels, t)).toBeLessThan(temperedNll(probs, labels, t / 1.1));
    // calibrating brings the expected calibration error down
    expect(expectedCalibrationError(probs.map((p) => applyTemperature(p, t)), labels)).toBeLessThan(0.02);
    expect(expectedCalibrationError(probs, labels)).toBeGreaterThan(0.1);
  });
});

/** Raw outputs softmax(z) and labels drawn from softmax(z / T(h)), 1/T(h) = b0 + b1·h, h the raw output's normalised entropy. */
function synthetic(n: number, b0: number, b1: number, seed: number): { probs: number[][]; labels: number[] } {
  const rng = createRng(seed);
  const probs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: 5 }, () => (0.5 + 3 * rng.next()) * rng.normal());
    const p = softmax(z);
    const truth = softmax(z.map((v) => v * (b0 + b1 * normalizedEntropy(p))));
    let u = rng.next(), k = 0;
    while (k < 4 && u > truth[k]!) u -= truth[k++]!;
    probs.push(p);
    labels.push(k);
  }
  return { probs, labels };
}

describe('entropy-dependent temperature', () => {
  it('normalizedEntropy: 0 for one-hot, 1 for uniform, ln-based in between', () => {
    expect(normalizedEntropy([1, 0, 0, 0, 0])).toBe(0);
    expect(normalizedEntropy([0.2, 0.2, 0.2, 0.2, 0.2])).toBeCloseTo(1, 12);
    expect(normalizedEntropy([0.5, 0.5, 0, 0])).toBeCloseTo(Math.log(2) / Math.log(4), 12);
  });

  it('temperatureOf / calibrate: 1/T = 1/temperature + slope·h, clamped to [1/20, 20]; without a slope, one temperature', () => {
    const p = [0.5, 0.5, 0, 0];
    expect(temperatureOf(p, { method: 'temperature', temperature: 2 })).toBe(2);
    expect(temperatureOf(p, { method: 'temperature', temperature: 2, entropySlope: 1 })).toBeCloseTo(1 / (0.5 + 0.5), 12);
    expect(temperatureOf(p, { method: 'temperature', temperature: 2, entropySlope: -10 })).toBe(20);
    expect(temperatureOf(p, null)).toBe(1);
    const q = [0.7, 0.2, 0.1];
    const t = 1 / (1 / 3 + 0.4 * normalizedEntropy(q));
    expect([...calibrate(q, { method: 'temperature', temperature: 3, entropySlope: 0.4 })]).toEqual([...applyTemperature(q, t)]);
  });

  it('fitCalibration recovers the parameters that generated the labels, and beats one temperature in likelihood', () => {
    const { probs, labels } = synthetic(20000, 0.35, 0.6, 5);
    const cal = fitCalibration(probs, labels, 'entropy-temperature');
    expect(1 / cal.temperature).toBeGreaterThan(0.3);
    expect(1 / cal.temperature).toBeLessThan(0.4);
    expect(cal.entropySlope!).toBeGreaterThan(0.45);
    expect(cal.entropySlope!).toBeLessThan(0.75);
    const one = fitCalibration(probs, labels, 'temperature');
    expect(one).toEqual({ method: 'temperature', temperature: fitTemperature(probs, labels) });
    expect(calibratedNll(probs, labels, cal)).toBeLessThan(calibratedNll(probs, labels, one));
    // it is a minimum: moving either parameter raises the NLL
    const f = calibratedNll(probs, labels, cal);
    for (const [dt, ds] of [[1.05, 0], [1 / 1.05, 0], [1, 0.05], [1, -0.05]] as const) {
      expect(calibratedNll(probs, labels, { ...cal, temperature: cal.temperature * dt, entropySlope: cal.entropySlope! + ds })).toBeGreaterThan(f);
    }
  });

  it('chooseCalibration picks by held-out groups: the entropy form when the data need it, one temperature when they do not', () => {
    const groups = (b1: number) => [1, 2, 3, 4].map((s) => synthetic(3000, b1 ? 0.35 : 0.5, b1, s));
    const need = chooseCalibration(groups(0.6));
    expect(need.form).toBe('entropy-temperature');
    expect(need.nll['entropy-temperature']).toBeLessThan(need.nll.temperature);
    expect(need.calibration.entropySlope).toBeDefined();
    const plain = chooseCalibration(groups(0));
    expect(plain.form).toBe('temperature');
    expect(plain.calibration.entropySlope).toBeUndefined();
    const all = groups(0);
    expect(plain.calibration.temperature).toBe(fitTemperature(all.flatMap((g) => g.probs), all.flatMap((g) => g.labels)));
  });

  it('by Brier score: recovers the same generating parameters (a proper score), and a minimum of the Brier score', () => {
    const { probs, labels } = synthetic(20000, 0.35, 0.6, 5);
    const cal = fitCalibration(probs, labels, 'entropy-temperature', 'brier');
    expect(1 / cal.temperature).toBeGreaterThan(0.3);
    expect(1 / cal.temperature).toBeLessThan(0.4);
    expect(cal.entropySlope!).toBeGreaterThan(0.45);
    expect(cal.entropySlope!).toBeLessThan(0.75);
    const f = calibratedLoss(probs, labels, cal, 'brier');
    for (const [dt, ds] of [[1.05, 0], [1 / 1.05, 0], [1, 0.05], [1, -0.05]] as const) {
      expect(calibratedLoss(probs, labels, { ...cal, temperature: cal.temperature * dt, entropySlope: cal.entropySlope! + ds }, 'brier')).toBeGreaterThan(f);
    }
    const one = fitCalibration(probs, labels, 'temperature', 'brier');
    expect(one).toEqual({ method: 'temperature', temperature: fitTemperature(probs, labels, 'brier') });
    expect(calibratedLoss(probs, labels, one, 'brier')).toBeGreaterThan(f);
  });

  it('a few confidently wrong outputs set the likelihood\'s temperature, not the Brier score\'s', () => {
    // well calibrated outputs (labels drawn from them), then 2 % of outputs 99.9 % sure of a wrong class
    const { probs, labels } = synthetic(10000, 1, 0, 9);
    const wrong = 200;
    for (let i = 0; i < wrong; i++) { probs.push([0.999, 0.00025, 0.00025, 0.00025, 0.00025]); labels.push(1 + (i % 4)); }
    const tN = fitTemperature(probs, labels, 'nll'), tB = fitTemperature(probs, labels, 'brier');
    // generated at T = 1: the likelihood's fit moves to ≈ 1.28, the Brier score's stays near 1 (≈ 1.03)
    expect(tN).toBeGreaterThan(1.2);
    expect(tB).toBeLessThan(1.1);
    // on the well calibrated part (98 % of the outputs), the Brier fit leaves them nearer calibrated
    const good = probs.slice(0, 10000), goodLabels = labels.slice(0, 10000);
    const ece = (t: number) => expectedCalibrationError(good.map((p) => applyTemperature(p, t)), goodLabels);
    expect(ece(tB)).toBeLessThan(ece(tN));
  });

  it('chooseCalibration by Brier score: the form, the objective, and both held-out scores of both forms', () => {
    const groups = [1, 2, 3, 4].map((s) => synthetic(1500, 0.35, 0.6, s));
    const c = chooseCalibration(groups, 'brier');
    expect(c.objective).toBe('brier');
    expect(c.form).toBe('entropy-temperature');
    expect(c.brier['entropy-temperature']).toBeLessThan(c.brier.temperature);
    for (const f of ['temperature', 'entropy-temperature'] as const) {
      expect(c.nll[f]).toBeGreaterThan(0);
      expect(c.brier[f]).toBeGreaterThan(0);
      expect(c.brier[f]).toBeLessThan(1);
    }
    const all = { probs: groups.flatMap((g) => g.probs), labels: groups.flatMap((g) => g.labels) };
    expect(c.calibration).toEqual(fitCalibration(all.probs, all.labels, 'entropy-temperature', 'brier'));
  });

  it('parseCalibration keeps the slope, refuses malformed ones; describeCalibration names both forms', () => {
    expect(parseCalibration({ method: 'temperature', temperature: 2, entropySlope: 0.3, fittedOn: 'x' })).toEqual({ method: 'temperature', temperature: 2, entropySlope: 0.3, fittedOn: 'x' });
    expect(parseCalibration(null)).toBeNull();
    expect(() => parseCalibration({ method: 'temperature', temperature: 0 })).toThrow(/calibration must be/);
    expect(() => parseCalibration({ method: 'platt', temperature: 2 })).toThrow(/calibration must be/);
    expect(describeCalibration({ method: 'temperature', temperature: 2.1 })).toBe('temperature 2.100');
    expect(describeCalibration({ method: 'temperature', temperature: 2.5, entropySlope: 0.3 })).toBe("temperature 2.500 at entropy 0, 1/T + 0.300 × the raw output's normalised entropy");
    expect(describeCalibration(null)).toBe('none');
  });
});

/**
 * Outputs of two kinds at the same entropies: "clean" inputs (noise floor 0) whose labels follow the outputs
 * softened by T = 1/b0, and "noisy" ones (floor 0.5) whose labels follow the outputs themselves
 * (1/T = b0 + b2 · 0.5 = 1 with b2 = 2 (1 − b0)).
 */
function twoKinds(n: number, b0: number, seed: number): { probs: number[][]; labels: number[]; floors: number[] } {
  const rng = createRng(seed);
  const out = { probs: [] as number[][], labels: [] as number[], floors: [] as number[] };
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: 5 }, () => (0.5 + 3 * rng.next()) * rng.normal());
    const p = softmax(z);
    const floor = i % 2 ? 0.5 : 0;
    const truth = softmax(z.map((v) => v * (floor ? 1 : b0)));
    let u = rng.next(), k = 0;
    while (k < 4 && u > truth[k]!) u -= truth[k++]!;
    out.probs.push(p);
    out.labels.push(k);
    out.floors.push(floor);
  }
  return out;
}

describe('noise-floor-dependent temperature', () => {
  it('temperatureOf: 1/T = 1/temperature + entropySlope·h + noiseSlope·floor; without the floor it refuses', () => {
    const cal = { method: 'temperature' as const, temperature: 2, entropySlope: 0.3, noiseSlope: 0.8 };
    const p = [0.6, 0.3, 0.1];
    expect(1 / temperatureOf(p, cal, 0.25)).toBeCloseTo(0.5 + 0.3 * normalizedEntropy(p) + 0.8 * 0.25, 12);
    expect([...calibrate(p, cal, 0.25)]).toEqual([...applyTemperature(p, temperatureOf(p, cal, 0.25))]);
    expect(needsNoiseFloor(cal)).toBe(true);
    expect(needsNoiseFloor({ method: 'temperature', temperature: 2, entropySlope: 0.3 })).toBe(false);
    expect(() => calibrate(p, cal)).toThrow(/noise floor/);
    expect(() => calibrate(p, cal, Number.NaN)).toThrow(/noise floor/);
  });

  it('fitCalibration recovers the generating parameters where no function of the probabilities alone can', () => {
    const { probs, labels, floors } = twoKinds(20000, 0.4, 3);
    const cal = fitCalibration(probs, labels, 'noise-temperature', 'brier', floors);
    expect(1 / cal.temperature).toBeGreaterThan(0.35);
    expect(1 / cal.temperature).toBeLessThan(0.45);
    expect(Math.abs(cal.entropySlope!)).toBeLessThan(0.15);
    expect(cal.noiseSlope!).toBeGreaterThan(1.0);
    expect(cal.noiseSlope!).toBeLessThan(1.4);
    const ent = fitCalibration(probs, labels, 'entropy-temperature', 'brier');
    expect(calibratedLoss(probs, labels, cal, 'brier', floors)).toBeLessThan(calibratedLoss(probs, labels, ent, 'brier'));
    // each kind comes out calibrated: mean confidence within 0.02 of accuracy (the entropy form misses one kind by more)
    for (const kind of [0, 0.5]) {
      const idx = floors.flatMap((f, i) => (f === kind ? [i] : []));
      const gap = (c: typeof cal) => idx.reduce((a, i) => { const q = calibrate(probs[i]!, c, floors[i]); const m = Math.max(...q); return a + m - (q.indexOf(m) === labels[i] ? 1 : 0); }, 0) / idx.length;
      expect(Math.abs(gap(cal))).toBeLessThan(0.02);
      expect(Math.abs(gap(ent))).toBeGreaterThan(0.04);
    }
    // a minimum of the Brier score: moving any parameter raises it
    const f = calibratedLoss(probs, labels, cal, 'brier', floors);
    for (const d of [[1.05, 0, 0], [1 / 1.05, 0, 0], [1, 0.05, 0], [1, -0.05, 0], [1, 0, 0.05], [1, 0, -0.05]] as const) {
      expect(calibratedLoss(probs, labels, { ...cal, temperature: cal.temperature * d[0], entropySlope: cal.entropySlope! + d[1], noiseSlope: cal.noiseSlope! + d[2] }, 'brier', floors)).toBeGreaterThan(f);
    }
    expect(() => fitCalibration(probs, labels, 'noise-temperature', 'brier')).toThrow(/noise floor/);
  });

  it('chooseCalibration offers the noise form only when every group has noise floors, and picks it when the data need it', () => {
    const groups = [1, 2, 3, 4].map((s) => twoKinds(1200, 0.4, s));
    const c = chooseCalibration(groups, 'brier');
    expect(c.form).toBe('noise-temperature');
    expect(c.brier['noise-temperature']).toBeLessThan(c.brier['entropy-temperature']!);
    const noFloors = groups.map(({ probs, labels }) => ({ probs, labels }));
    const d = chooseCalibration(noFloors, 'brier');
    expect(Object.keys(d.brier)).toEqual(['temperature', 'entropy-temperature']);
    expect(() => chooseCalibration(noFloors, 'brier', 'noise-temperature')).toThrow(/noise floors/);
  });

  it('parseCalibration keeps the noise slope; describeCalibration names it', () => {
    const cal = { method: 'temperature', temperature: 2, entropySlope: 0.3, noiseSlope: -0.5 };
    expect(parseCalibration(cal)).toEqual(cal);
    expect(() => parseCalibration({ ...cal, noiseSlope: 'x' })).toThrow(/calibration must be/);
    expect(describeCalibration(parseCalibration(cal))).toBe("temperature 2.000 at entropy 0 and noise floor 0, 1/T + 0.300 × the raw output's normalised entropy − 0.500 × the input's noise floor");
  });
});

describe('expectedCalibrationError and reliabilityBins', () => {
  it('computes the count-weighted gap per bin', () => {
    // two predictions at confidence 0.9 (one right), two at 0.6 (both right), 10 bins
    const probs = [[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]];
    const labels = [0, 1, 0, 1];
    const bins = reliabilityBins(probs, labels, 10);
    expect(bins[9]).toMatchObject({ count: 2, accuracy: 0.5 });
    expect(bins[9]!.confidence).toBeCloseTo(0.9, 9);
    expect(bins[6]).toMatchObject({ count: 2, accuracy: 1 });
    expect(expectedCalibrationError(probs, labels, 10)).toBeCloseTo(0.5 * 0.4 + 0.5 * 0.4, 9);
  });
});

describe('expectedCalibrationErrorFloor', () => {
  it('is what calibrated predictions show from sampling alone: well above 0 for few, near 0 for many', async () => {
    const { expectedCalibrationErrorFloor } = await import('../../src/eval/metrics.js');
    const rng = createRng(3);
    const make = (n: number) => Array.from({ length: n }, () => softmax(Array.from({ length: 5 }, () => 2 * rng.normal())));
    const few = expectedCalibrationErrorFloor(make(100), 15, 100);
    const many = expectedCalibrationErrorFloor(make(20000), 15, 10);
    expect(few).toBeGreaterThan(0.05);
    expect(many).toBeLessThan(0.02);
    expect(many).toBeGreaterThan(0);
  });
});
