/** The nested selection's overall choice (eval/robustness.ts) and its table in REPORT.md (cli/commands/evaluate.ts). */
import { describe, expect, it } from 'vitest';
import { calibrationGroups, calibrationProcedures, innerProcedureScores, outcomeFromPredictions, overallChoice, scoreLoso, type HeldOut, type LosoOutcome, type LosoPredictions, type PredictionGroup } from '../../src/eval/robustness.js';
import { PROBABILITY_FORMS, calibrate, chooseCalibration, fitCalibration } from '../../src/model/calibration.js';
import { argmax, evaluatePredictions, expectedCalibrationError } from '../../src/eval/metrics.js';
import { selectionTable } from '../../src/cli/commands/evaluate.js';

const scores = {
  '1': { a: 0.5, b: 0.6, c: 0.4 },
  '2': { a: 0.7, b: 0.5, c: 0.4 },
  '3': { a: 0.5, b: 0.6, c: 0.4 },
};

describe('overallChoice', () => {
  it('takes the configuration most folds chose', () => {
    expect(overallChoice({ '1': 'b', '2': 'a', '3': 'b' }, scores)).toBe('b');
    expect(overallChoice({ '1': 'a', '2': 'a', '3': 'c' }, scores)).toBe('a');
  });
  it('breaks a tie by the inner score averaged over all folds, not by order', () => {
    // a: mean 0.567, c: 0.4 — a wins whichever fold is listed first
    expect(overallChoice({ '1': 'c', '2': 'a' }, { '1': scores['1'], '2': scores['2'] })).toBe('a');
    expect(overallChoice({ '1': 'a', '2': 'c' }, { '1': scores['1'], '2': scores['2'] })).toBe('a');
    // b: (0.6 + 0.5) / 2 = 0.55 against a: (0.5 + 0.7) / 2 = 0.6
    expect(overallChoice({ '1': 'b', '2': 'a' }, { '1': scores['1'], '2': scores['2'] })).toBe('a');
  });
});

describe('selectionTable', () => {
  it('one row per configuration, inner scores in %, each fold\'s choice in bold, votes, and the overall choice', () => {
    const t = selectionTable({ candidates: ['a', 'b', 'c'], criterion: 'mean UAR', chosen: { '1': 'b', '2': 'a', '3': 'b' }, innerScores: scores, overall: 'b' });
    expect(t).toBe([
      'Nested selection among 3 configurations (criterion: mean UAR); inner scores in %, each fold\'s choice in bold:',
      '',
      '| configuration | held out 1 | held out 2 | held out 3 | folds choosing it |',
      '|---|---|---|---|---|',
      '| a | 50.0 | **70.0** | 50.0 | 1 |',
      '| b | **60.0** | 50.0 | **60.0** | 2 |',
      '| c | 40.0 | 40.0 | 40.0 | 0 |',
      '',
      'Overall choice (most folds; ties: best mean inner score): `b`.',
      '',
    ].join('\n'));
  });
});

describe('calibrationGroups', () => {
  const g = (n: number): PredictionGroup => ({ probs: [Float32Array.of(n, 1 - n)], labels: [0] });
  const outer = new Map([['1', g(0.1)], ['2', g(0.2)], ['3', g(0.3)], ['4', g(0.4)]]);
  const inner = [g(0.9), g(0.8)];
  it('takes the held-out predictions of the other folds that trained the same configuration, when there are two or more', () => {
    const r = calibrationGroups('a', ['2', '3', '4'], { '1': 'a', '2': 'a', '3': 'b', '4': 'a' }, outer, () => inner);
    expect(r).toEqual({ groups: [g(0.2), g(0.4)], source: 'outer' });
  });
  it('falls back to the inner out-of-fold predictions when fewer than two other folds trained it', () => {
    expect(calibrationGroups('b', ['1', '2', '4'], { '1': 'a', '2': 'a', '3': 'b', '4': 'a' }, outer, () => inner)).toEqual({ groups: inner, source: 'inner' });
    expect(calibrationGroups('a', ['2', '3'], { '1': 'a', '2': 'a', '3': 'b' }, outer, () => inner)).toEqual({ groups: inner, source: 'inner' });
  });
  it('counts the folds that trained the configuration without choosing it (nested runs train every configuration on every outer fold)', () => {
    const also = new Map([['1', g(0.6)], ['2', g(0.7)], ['4', g(0.8)]]);
    const chosen = { '1': 'a', '2': 'a', '3': 'b', '4': 'a' };
    expect(calibrationGroups('b', ['1', '2', '4'], chosen, outer, () => inner, also)).toEqual({ groups: [g(0.6), g(0.7), g(0.8)], source: 'outer' });
    // a fold that chose it: its own outer predictions; one that did not: the other training
    expect(calibrationGroups('b', ['2', '3'], chosen, outer, () => inner, also)).toEqual({ groups: [g(0.7), g(0.3)], source: 'outer' });
    // still never the folds not listed (the one calibrated)
    expect(calibrationGroups('b', ['1'], chosen, outer, () => inner, also)).toEqual({ groups: inner, source: 'inner' });
  });
  it('without inner predictions (one recipe, no selection) uses the outer ones there are', () => {
    expect(calibrationGroups('a', ['2'], { '1': 'a', '2': 'a' }, outer, () => [])).toEqual({ groups: [g(0.2)], source: 'outer' });
  });
});

/**
 * Synthetic held-out predictions over 5 classes: a speaker's files under 'original' are over-confident (top 0.95,
 * right for 60 % of the files), under 'train-aug' and 'noisy' soft and calibrated (top 0.4, right for 40 %).
 */
function heldOut(seed: number, n = 60, augTop = 0.4): HeldOut {
  let st = Math.imul(seed, 2654435761) >>> 0;
  const u = (): number => ((st = (Math.imul(st, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < 10; i++) u();
  const labels = Array.from({ length: n }, () => Math.floor(u() * 5));
  // right for exactly `right` fives of every five files, wrong to a random other class
  const row = (y: number, i: number, top: number, right: number): Float32Array => {
    const k = (i + seed) % 5 < right ? y : (y + 1 + Math.floor(u() * 4)) % 5;
    return Float32Array.from({ length: 5 }, (_, c) => (c === k ? top : (1 - top) / 4));
  };
  return {
    labels,
    raw: new Map([
      ['original', labels.map((y, i) => row(y, i, 0.95, 3))],
      ['train-aug', labels.map((y, i) => row(y, i, augTop, 2))],
      ['noisy', labels.map((y, i) => row(y, i, 0.4, 2))],
    ]),
  };
}

function outcome(withConditions: boolean, augTop = 0.4): LosoOutcome {
  const folds = ['1', '2', '3', '4'];
  const strip = (h: HeldOut): HeldOut => (withConditions ? h : { labels: h.labels, raw: new Map([...h.raw].filter(([k]) => k !== 'noisy')) });
  return {
    labels: ['a', 'b', 'c', 'd', 'e'], conditions: ['original', 'noisy'], calibrationSets: ['original', 'train-aug'],
    outer: folds.map((f, i) => ({ fold: f, ...heldOut(100 + i, 60, augTop) })),
    inner: new Map([['cfg', new Map(folds.map((f, i) => [f, new Map(folds.filter((o) => o !== f).map((o, j) => [o, strip(heldOut(1000 + 10 * i + j, 60, augTop))]))]))]]),
    chosen: Object.fromEntries(folds.map((f) => [f, 'cfg'])), innerScores: {},
  };
}

describe('the calibration procedure chosen by inner folds under every condition', () => {
  it('is one of each form fitted on every calibration set or on original audio alone', () => {
    expect(calibrationProcedures(['original', 'train-aug'])).toEqual({
      temperature: { form: 'temperature', sets: ['original', 'train-aug'] },
      'entropy-temperature': { form: 'entropy-temperature', sets: ['original', 'train-aug'] },
      'temperature on original': { form: 'temperature', sets: ['original'] },
      'entropy-temperature on original': { form: 'entropy-temperature', sets: ['original'] },
    });
    expect(Object.keys(calibrationProcedures(['original']))).toEqual([...PROBABILITY_FORMS]);
    // with the inputs' noise floors, the noise-floor form too
    expect(Object.keys(calibrationProcedures(['original', 'train-aug'], true))).toEqual([
      'temperature', 'entropy-temperature', 'noise-temperature', 'temperature on original', 'entropy-temperature on original', 'noise-temperature on original',
    ]);
  });
  it('scores each procedure by the mean over conditions of the pooled inner ECE, each inner speaker calibrated on the others', () => {
    const o = outcome(true);
    const byInner = o.inner.get('cfg')!.get('1')!;
    const procs = calibrationProcedures(o.calibrationSets);
    const got = innerProcedureScores(byInner, o.conditions, procs, 'brier')!;
    expect(Object.keys(got)).toEqual(Object.keys(procs));
    for (const [name, { form, sets }] of Object.entries(procs)) {
      const pooled = new Map(o.conditions.map((c) => [c, { p: [] as Float32Array[], y: [] as number[] }]));
      for (const [s, h] of byInner) {
        const rest = [...byInner].filter(([k]) => k !== s).map(([, g]) => g);
        const cal = fitCalibration(rest.flatMap((g) => sets.flatMap((set) => g.raw.get(set)!)), rest.flatMap((g) => sets.flatMap(() => g.labels)), form, 'brier');
        for (const c of o.conditions) { pooled.get(c)!.p.push(...h.raw.get(c)!.map((p) => calibrate(p, cal))); pooled.get(c)!.y.push(...h.labels); }
      }
      const want = o.conditions.reduce((a, c) => a + expectedCalibrationError(pooled.get(c)!.p, pooled.get(c)!.y), 0) / o.conditions.length;
      expect(got[name]).toBeCloseTo(want, 12);
    }
    // confident and soft outputs need different temperatures: the entropy-dependent form is better calibrated
    expect(got['entropy-temperature']).toBeLessThan(got.temperature!);
    // fitted on original audio alone, the soft outputs of the noisy condition are left as the confident ones need
    expect(got['entropy-temperature']).toBeLessThan(got['temperature on original']!);
  });
  it('decides every fold\'s form and the report\'s; without inner predictions under every condition the leave-one-speaker-out score decides', () => {
    const s = scoreLoso(outcome(true), 'brier');
    expect(s.calibrationProcedure!.chosen).toEqual({ '1': 'entropy-temperature', '2': 'entropy-temperature', '3': 'entropy-temperature', '4': 'entropy-temperature' });
    expect(s.calibrationProcedure!.overall).toBe('entropy-temperature');
    expect(s.calibrationChoice.form).toBe('entropy-temperature');
    for (const f of ['1', '2', '3', '4']) expect(s.foldCalibrations[f]!.entropySlope).toBeDefined();
    expect(s.calibrationSources.folds).toEqual({ '1': 'outer', '2': 'outer', '3': 'outer', '4': 'outer' });
    const without = scoreLoso(outcome(false), 'brier');
    expect(without.calibrationProcedure).toBeUndefined();
    const b = without.calibrationChoice.brier;
    expect(without.calibrationChoice.form).toBe(b['entropy-temperature'] < b.temperature ? 'entropy-temperature' : 'temperature');
    // the matrix does not depend on how the form was chosen: same arg-max
    expect(without.conditions.map((c) => c.accuracy)).toEqual(s.conditions.map((c) => c.accuracy));
  });
  it('offers the noise-floor form when every prediction has its noise floor, and calibrates each prediction with its own; a stored run keeps them', () => {
    const floorOf = (set: string, i: number): number => (set === 'original' ? 0.05 * (i % 3) : 0.5 + 0.05 * (i % 2));
    const withFloors = (h: HeldOut): HeldOut => ({ ...h, floors: new Map([...h.raw].map(([k, v]) => [k, v.map((_, i) => floorOf(k, i))])) });
    const base = outcome(true);
    const o: LosoOutcome = {
      ...base, outer: base.outer.map((f) => ({ ...withFloors(f), fold: f.fold })),
      inner: new Map([...base.inner].map(([c, m]) => [c, new Map([...m].map(([f, b]) => [f, new Map([...b].map(([k, h]) => [k, withFloors(h)]))]))])),
    };
    const s = scoreLoso(o, 'brier');
    expect(Object.keys(s.calibrationProcedure!.procedures)).toContain('noise-temperature');
    expect(Object.keys(s.calibrationProcedure!.scores['1']!)).toHaveLength(6);
    // the figures: every held-out prediction calibrated by its fold's calibration at its own noise floor
    const f1 = o.outer[0]!;
    const cal = s.foldCalibrations['1']!;
    const noisy = s.conditions.find((c) => c.condition === 'noisy')!;
    const want = o.outer.flatMap((f) => f.raw.get('noisy')!.map((p, i) => calibrate(p, s.foldCalibrations[f.fold]!, f.floors!.get('noisy')![i])));
    const wantConf = want.reduce((a, p) => a + Math.max(...p), 0) / want.length;
    expect(noisy.meanConfidence).toBeCloseTo(wantConf, 6);
    expect(f1.floors!.get('noisy')![1]).toBe(0.55);
    expect(cal).toBeDefined();
    // one inner speaker without floors: the probability forms only
    const partial: LosoOutcome = { ...o, inner: new Map([...o.inner].map(([c, m]) => [c, new Map([...m].map(([f, b]) => [f, new Map([...b].map(([k, h], j) => [k, f === '2' && j === 0 ? { labels: h.labels, raw: h.raw } : h]))]))])) };
    expect(Object.keys(scoreLoso(partial, 'brier').calibrationProcedure!.procedures)).toEqual(Object.keys(calibrationProcedures(o.calibrationSets)));
    // predictions.json holds them: a re-score gives the same figures
    const json = (h: HeldOut) => ({ files: h.labels.map((_, i) => `f${i}`), labels: h.labels, raw: Object.fromEntries([...h.raw].map(([k, v]) => [k, v.map((p) => Array.from(p))])), floors: Object.fromEntries(h.floors!) });
    const p: LosoPredictions = {
      labels: o.labels, sets: ['original', 'noisy', 'train-aug'], calibrationSets: o.calibrationSets,
      outer: o.outer.map((f) => ({ fold: f.fold, configuration: 'cfg', ...json(f) })),
      inner: { cfg: Object.fromEntries([...o.inner.get('cfg')!].map(([f, m]) => [f, Object.fromEntries([...m].map(([k, h]) => [k, json(h)]))])) },
    };
    const again = scoreLoso(outcomeFromPredictions(p), 'brier');
    expect(again.foldCalibrations).toEqual(s.foldCalibrations);
    expect(again.conditions).toEqual(s.conditions);
  });
  it('calibrates a fold that chose a configuration no other fold chose on the other folds\' predictions of it (alsoTrained), and a stored run keeps them', () => {
    const base = outcome(true);
    // fold 1 chose 'alt'; folds 2-4 trained 'alt' too, to calibrate it; fold 1 trained 'cfg' likewise
    const alt = (h: HeldOut): HeldOut => ({ labels: h.labels, raw: new Map([...h.raw].map(([k, v]) => [k, v.map((p) => p.map((x) => (x > 0.5 ? 0.6 : 0.1)))])) });
    const o: LosoOutcome = {
      ...base, chosen: { ...base.chosen, '1': 'alt' },
      inner: new Map([...base.inner, ['alt', base.inner.get('cfg')!]]),
      alsoTrained: new Map([
        ['alt', new Map(base.outer.slice(1).map((f) => [f.fold, alt(f)]))],
        ['cfg', new Map([['1', base.outer[0]!]])],
      ]),
    };
    o.outer = [{ ...alt(base.outer[0]!), fold: '1' }, ...base.outer.slice(1)];
    const s = scoreLoso(o, 'brier');
    expect(s.calibrationSources.folds).toEqual({ '1': 'outer', '2': 'outer', '3': 'outer', '4': 'outer' });
    expect(s.calibrationSources.alsoTrained).toEqual({ alt: ['2', '3', '4'], cfg: ['1'] });
    const proc = s.calibrationProcedure!.procedures[s.calibrationProcedure!.chosen['1']!]!;
    const groupOf = (h: HeldOut) => ({ probs: proc.sets.flatMap((c) => h.raw.get(c)!), labels: proc.sets.flatMap(() => h.labels) });
    expect(s.foldCalibrations['1']).toEqual(chooseCalibration(base.outer.slice(1).map((f) => groupOf(alt(f))), 'brier', proc.form).calibration);
    // fold 2 (chose 'cfg') is calibrated on folds 3, 4 and fold 1's 'cfg' predictions
    const proc2 = s.calibrationProcedure!.procedures[s.calibrationProcedure!.chosen['2']!]!;
    const groupOf2 = (h: HeldOut) => ({ probs: proc2.sets.flatMap((c) => h.raw.get(c)!), labels: proc2.sets.flatMap(() => h.labels) });
    expect(s.foldCalibrations['2']).toEqual(chooseCalibration([base.outer[0]!, base.outer[2]!, base.outer[3]!].map(groupOf2), 'brier', proc2.form).calibration);
    // a stored run keeps them
    const json = (h: HeldOut) => ({ files: h.labels.map((_, i) => `f${i}`), labels: h.labels, raw: Object.fromEntries([...h.raw].map(([k, v]) => [k, v.map((p) => Array.from(p))])) });
    const p: LosoPredictions = {
      labels: o.labels, sets: ['original', 'noisy', 'train-aug'], calibrationSets: o.calibrationSets,
      outer: o.outer.map((f) => ({ fold: f.fold, configuration: o.chosen[f.fold]!, ...json(f) })),
      inner: Object.fromEntries([...o.inner].map(([c, m]) => [c, Object.fromEntries([...m].map(([f, b]) => [f, Object.fromEntries([...b].map(([k, h]) => [k, json(h)]))]))])),
      alsoTrained: Object.fromEntries([...o.alsoTrained!].map(([c, m]) => [c, Object.fromEntries([...m].map(([f, h]) => [f, json(h)]))])),
    };
    const again = scoreLoso(outcomeFromPredictions(p), 'brier');
    expect(again.foldCalibrations).toEqual(s.foldCalibrations);
    expect(again.conditions).toEqual(s.conditions);
    expect(again.calibrationSources).toEqual(s.calibrationSources);
  });
  it('with the \'loso\' rule, chooses each fold\'s form as a run without candidates does: by the leave-one-speaker-out score of the other folds\' predictions, on every calibration set', () => {
    const o = outcome(true);
    const s = scoreLoso(o, 'brier', 'loso');
    expect(s.calibrationProcedure).toBeUndefined();
    for (const f of ['1', '2', '3', '4']) {
      const others = o.outer.filter((x) => x.fold !== f).map((x) => ({ probs: o.calibrationSets.flatMap((c) => x.raw.get(c)!), labels: o.calibrationSets.flatMap(() => x.labels) }));
      expect(s.foldCalibrations[f]).toEqual(chooseCalibration(others, 'brier').calibration);
    }
    // the same predictions, the same arg-max: only the calibration differs from the 'inner' rule's
    expect(s.conditions.map((c) => c.accuracy)).toEqual(scoreLoso(o, 'brier').conditions.map((c) => c.accuracy));
  });
  it('fits a fold chosen to calibrate on original audio alone on the other folds\' original audio only', () => {
    // only clean speech is tested, and the training-style copies are as confident but right less often: a
    // calibration fitted without them serves it best
    const o = { ...outcome(true, 0.95), conditions: ['original'] };
    const s = scoreLoso(o, 'brier');
    for (const f of ['1', '2', '3', '4']) {
      const name = s.calibrationProcedure!.chosen[f]!;
      expect(name.endsWith(' on original')).toBe(true);
      const { form } = s.calibrationProcedure!.procedures[name]!;
      const others = o.outer.filter((x) => x.fold !== f);
      const want = chooseCalibration(others.map((x) => ({ probs: x.raw.get('original')!, labels: x.labels })), 'brier', form).calibration;
      expect(s.foldCalibrations[f]).toEqual(want);
    }
  });
  it('re-scores a predictions.json: configurations from the outer folds, inner scores from the inner predictions, the older inner format split into its sets', () => {
    const o = outcome(true);
    const json = (h: HeldOut): { files: string[]; labels: number[]; raw: Record<string, number[][]> } => ({ files: h.labels.map((_, i) => `f${i}`), labels: h.labels, raw: Object.fromEntries([...h.raw].map(([k, v]) => [k, v.map((p) => Array.from(p))])) });
    const p: LosoPredictions = {
      labels: o.labels, sets: ['original', 'noisy', 'train-aug'], calibrationSets: o.calibrationSets,
      outer: o.outer.map((f) => ({ fold: f.fold, configuration: 'cfg', ...json(f) })),
      inner: { cfg: Object.fromEntries([...o.inner.get('cfg')!].map(([f, m]) => [f, Object.fromEntries([...m].map(([s, h]) => [s, json(h)]))])) },
    };
    const back = outcomeFromPredictions(p);
    expect(back.conditions).toEqual(['original', 'noisy']);
    expect(back.chosen).toEqual(o.chosen);
    expect(scoreLoso(back, 'brier').calibrationProcedure!.chosen).toEqual(scoreLoso(o, 'brier').calibrationProcedure!.chosen);
    const h = o.inner.get('cfg')!.get('2')!.get('1')!;
    // the inner score: the mean over inner speakers and conditions of the UAR
    const innerOf2 = [...o.inner.get('cfg')!.get('2')!.values()];
    const uarOf = (x: HeldOut, set: string): number => evaluatePredictions(x.labels, x.raw.get(set)!.map(argmax), 5).uar;
    expect(back.innerScores['2']!.cfg).toBeCloseTo(innerOf2.reduce((a, x) => a + uarOf(x, 'original') + uarOf(x, 'noisy'), 0) / (2 * innerOf2.length), 12);
    // older files: the calibration sets concatenated in `probs`
    const old = structuredClone(p) as unknown as { inner: Record<string, Record<string, Record<string, { labels: number[]; probs?: number[][]; raw?: unknown }>>> };
    for (const m of Object.values(old.inner.cfg!)) for (const g of Object.values(m)) { g.probs = [...(g.raw as Record<string, number[][]>)['original']!, ...(g.raw as Record<string, number[][]>)['train-aug']!]; g.labels = [...g.labels, ...g.labels]; delete g.raw; }
    const oldBack = outcomeFromPredictions(old as unknown as LosoPredictions);
    const g = oldBack.inner.get('cfg')!.get('2')!.get('1')!;
    expect(g.labels).toEqual(h.labels);
    expect(g.raw.get('train-aug')!.map((x) => Array.from(x))).toEqual(h.raw.get('train-aug')!.map((x) => Array.from(x)));
    expect([...g.raw.keys()]).toEqual(['original', 'train-aug']);
    // with only original audio among the conditions stored, the inner score is the mean UAR on original audio
    expect(oldBack.innerScores['2']!.cfg).toBeCloseTo(innerOf2.reduce((a, x) => a + uarOf(x, 'original'), 0) / innerOf2.length, 12);
    expect(scoreLoso(oldBack, 'brier').calibrationProcedure).toBeUndefined();
  });
});
