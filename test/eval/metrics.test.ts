import { describe, expect, it } from 'vitest';
import {
  accuracy, argmax, confusionMatrix, evaluatePredictions, macroF1, meanStd, perClassScores,
  summarizeFolds, unweightedAverageRecall,
} from '../../src/eval/metrics.js';

// Hand-worked example, 3 classes, 8 items.
// true: 0 0 0 1 1 2 2 2
// pred: 0 1 0 1 2 2 2 0
const yTrue = [0, 0, 0, 1, 1, 2, 2, 2];
const yPred = [0, 1, 0, 1, 2, 2, 2, 0];

describe('metrics', () => {
  it('confusion matrix has true labels as rows', () => {
    expect(confusionMatrix(yTrue, yPred, 3)).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [1, 0, 2],
    ]);
  });

  it('accuracy = 5/8', () => {
    expect(accuracy(yTrue, yPred)).toBe(5 / 8);
    expect(accuracy([], [])).toBe(0);
  });

  it('per-class precision / recall / F1 by hand', () => {
    const s = perClassScores(confusionMatrix(yTrue, yPred, 3));
    // class 0: tp 2, predicted 3, true 3 → p 2/3, r 2/3
    // class 1: tp 1, predicted 2, true 2 → p 1/2, r 1/2
    // class 2: tp 2, predicted 3, true 3 → p 2/3, r 2/3
    expect(s.precision[0]).toBeCloseTo(2 / 3, 12);
    expect(s.recall[1]).toBeCloseTo(1 / 2, 12);
    expect(s.f1[2]).toBeCloseTo(2 / 3, 12);
    expect(s.support).toEqual([3, 2, 3]);
  });

  it('UAR is the mean of per-class recalls, not accuracy', () => {
    expect(unweightedAverageRecall(yTrue, yPred, 3)).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3, 12);
    // imbalanced: 4 of class 0 all right, 1 of class 1 wrong → accuracy 0.8, UAR 0.5
    expect(unweightedAverageRecall([0, 0, 0, 0, 1], [0, 0, 0, 0, 0], 2)).toBe(0.5);
    expect(accuracy([0, 0, 0, 0, 1], [0, 0, 0, 0, 0])).toBe(0.8);
  });

  it('macro F1 by hand (with a never-predicted class)', () => {
    // class 0: p 4/5, r 1 → F1 8/9; class 1: p 0, r 0 → 0; mean 4/9
    expect(macroF1([0, 0, 0, 0, 1], [0, 0, 0, 0, 0], 2)).toBeCloseTo(4 / 9, 12);
    expect(macroF1(yTrue, yPred, 3)).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3, 12);
    // a class absent from both true and predicted labels is left out (scikit-learn default)
    expect(macroF1([0, 1], [0, 1], 5)).toBe(1);
  });

  it('rejects mismatched lengths and out-of-range labels', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/yTrue has 2 items but yPred has 1/);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/yTrue\[1\] = 3/);
  });

  it('evaluatePredictions bundles everything; argmax picks the first max', () => {
    const e = evaluatePredictions(yTrue, yPred, 3);
    expect(e.n).toBe(8);
    expect(e.accuracy).toBe(0.625);
    expect(argmax([0.1, 0.5, 0.5, 0.2])).toBe(1);
  });

  it('summarizeFolds: mean, population std, per speaker, pooled confusion', () => {
    expect(meanStd([1, 3])).toEqual({ mean: 2, std: 1 });
    const s = summarizeFolds([
      { fold: 'speaker 1', accuracy: 0.5, uar: 0.4, macroF1: 0.3, n: 2, confusion: [[1, 1], [0, 0]] },
      { fold: 'speaker 2', accuracy: 1, uar: 1, macroF1: 1, n: 2, confusion: [[1, 0], [0, 1]] },
    ]);
    expect(s.folds).toBe(2);
    expect(s.accuracy.mean).toBe(0.75);
    expect(s.accuracy.std).toBe(0.25);
    expect(s.uar.mean).toBeCloseTo(0.7, 12);
    expect(s.perFold['speaker 2']!.accuracy).toBe(1);
    expect(s.pooledConfusion).toEqual([[2, 1], [0, 1]]);
    expect(s.pooledAccuracy).toBe(0.75);
  });
});
