/** The nested selection's overall choice (eval/robustness.ts) and its table in REPORT.md (cli/commands/evaluate.ts). */
import { describe, expect, it } from 'vitest';
import { calibrationGroups, overallChoice, type PredictionGroup } from '../../src/eval/robustness.js';
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
  it('without inner predictions (one recipe, no selection) uses the outer ones there are', () => {
    expect(calibrationGroups('a', ['2'], { '1': 'a', '2': 'a' }, outer, () => [])).toEqual({ groups: [g(0.2)], source: 'outer' });
  });
});
