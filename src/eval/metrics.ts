/**
 * Classification metrics over integer class indices: confusion matrix (rows = true labels,
 * columns = predictions), accuracy, per-class precision / recall / F1, unweighted average
 * recall (UAR, the mean of per-class recalls) and macro F1, plus fold summaries.
 */
import { SerError } from '../util/errors.js';

/** k × k counts, `m[t][p]` = how many items of true class t were predicted as p. */
export type ConfusionMatrix = number[][];

function checkPair(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): void {
  if (yTrue.length !== yPred.length) {
    throw new SerError('eval/length-mismatch', `metrics: yTrue has ${yTrue.length} items but yPred has ${yPred.length}`);
  }
  if (!Number.isInteger(k) || k < 1) throw new SerError('eval/bad-k', `metrics: class count k must be a positive integer, got ${k}`);
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as number;
    const p = yPred[i] as number;
    if (!Number.isInteger(t) || t < 0 || t >= k) throw new SerError('eval/bad-label', `metrics: yTrue[${i}] = ${t} is not a class index in 0..${k - 1}`);
    if (!Number.isInteger(p) || p < 0 || p >= k) throw new SerError('eval/bad-label', `metrics: yPred[${i}] = ${p} is not a class index in 0..${k - 1}`);
  }
}

/** Confusion matrix with rows = true labels and columns = predicted labels. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): ConfusionMatrix {
  checkPair(yTrue, yPred, k);
  const m: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) (m[yTrue[i] as number] as number[])[yPred[i] as number]! += 1;
  return m;
}

/** Fraction of items predicted correctly (0 for no items). */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  if (yTrue.length !== yPred.length) {
    throw new SerError('eval/length-mismatch', `accuracy: yTrue has ${yTrue.length} items but yPred has ${yPred.length}`);
  }
  if (yTrue.length === 0) return 0;
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

/** Per-class precision, recall, F1 and support (true count) from a confusion matrix. */
export interface ClassScores {
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

/**
 * Per-class precision / recall / F1 from a confusion matrix. A class never predicted has
 * precision 0; a class with no true items has recall 0; F1 is 0 when precision + recall is 0
 * (scikit-learn's `zero_division=0`).
 */
export function perClassScores(cm: ConfusionMatrix): ClassScores {
  const k = cm.length;
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  for (let c = 0; c < k; c++) {
    const row = cm[c] as number[];
    const tp = row[c] as number;
    let rowSum = 0;
    let colSum = 0;
    for (let j = 0; j < k; j++) {
      rowSum += row[j] as number;
      colSum += (cm[j] as number[])[c] as number;
    }
    const p = colSum > 0 ? tp / colSum : 0;
    const r = rowSum > 0 ? tp / rowSum : 0;
    precision.push(p);
    recall.push(r);
    f1.push(p + r > 0 ? (2 * p * r) / (p + r) : 0);
    support.push(rowSum);
  }
  return { precision, recall, f1, support };
}

/**
 * Unweighted average recall: the mean of per-class recalls over classes that have at least
 * one true item (classes absent from yTrue are left out, so a missing class does not count as 0).
 */
export function unweightedAverageRecall(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): number {
  const s = perClassScores(confusionMatrix(yTrue, yPred, k));
  let sum = 0;
  let n = 0;
  for (let c = 0; c < k; c++) {
    if ((s.support[c] as number) > 0) {
      sum += s.recall[c] as number;
      n++;
    }
  }
  return n > 0 ? sum / n : 0;
}

/**
 * Macro F1: the plain mean of per-class F1 over the classes that occur in yTrue or yPred
 * (scikit-learn's `f1_score(average='macro')` with its default labels).
 */
export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): number {
  const cm = confusionMatrix(yTrue, yPred, k);
  const s = perClassScores(cm);
  let sum = 0;
  let n = 0;
  for (let c = 0; c < k; c++) {
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += cm[t]![c]!;
    if (s.support[c] === 0 && predicted === 0) continue;
    sum += s.f1[c] as number;
    n++;
  }
  return n > 0 ? sum / n : 0;
}

/** Index of the largest value (first one on ties). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if ((v[i] as number) > (v[best] as number)) best = i;
  return best;
}

/** Every headline metric of one evaluation. */
export interface Evaluation {
  n: number;
  accuracy: number;
  uar: number;
  macroF1: number;
  confusion: ConfusionMatrix;
  perClass: ClassScores;
}

/** Computes every metric at once for predictions `yPred` against `yTrue` over k classes. */
export function evaluatePredictions(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): Evaluation {
  const confusion = confusionMatrix(yTrue, yPred, k);
  return {
    n: yTrue.length,
    accuracy: accuracy(yTrue, yPred),
    uar: unweightedAverageRecall(yTrue, yPred, k),
    macroF1: macroF1(yTrue, yPred, k),
    confusion,
    perClass: perClassScores(confusion),
  };
}

/** One bin of a reliability diagram: predictions whose top probability fell in [lo, hi). */
export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean top probability of the bin's predictions (NaN when empty). */
  confidence: number;
  /** Share of the bin's predictions that were right (NaN when empty). */
  accuracy: number;
}

/** Top-label reliability bins: `bins` equal-width confidence bins over [0, 1]. */
export function reliabilityBins(probs: readonly ArrayLike<number>[], labels: readonly number[], bins = 15): ReliabilityBin[] {
  const out: ReliabilityBin[] = Array.from({ length: bins }, (_, b) => ({ lo: b / bins, hi: (b + 1) / bins, count: 0, confidence: 0, accuracy: 0 }));
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    const k = argmax(p);
    const c = p[k] as number;
    const bin = out[Math.min(bins - 1, Math.floor(c * bins))]!;
    bin.count++;
    bin.confidence += c;
    bin.accuracy += k === labels[i] ? 1 : 0;
  }
  for (const b of out) {
    b.confidence = b.count ? b.confidence / b.count : Number.NaN;
    b.accuracy = b.count ? b.accuracy / b.count : Number.NaN;
  }
  return out;
}

/**
 * Expected calibration error (top label, `bins` equal-width bins, Guo et al. 2017): the
 * count-weighted mean |accuracy − confidence| over the bins. 0 = confidences are exactly as often right as they claim.
 */
export function expectedCalibrationError(probs: readonly ArrayLike<number>[], labels: readonly number[], bins = 15): number {
  if (probs.length === 0) return Number.NaN;
  let e = 0;
  for (const b of reliabilityBins(probs, labels, bins)) if (b.count) e += (b.count / probs.length) * Math.abs(b.accuracy - b.confidence);
  return e;
}

/**
 * The ECE a perfectly calibrated model would show on this many predictions with these
 * confidences, from sampling alone: the mean ECE over `draws` label sets drawn from the
 * predicted probabilities themselves (seeded). With a few hundred predictions it is far from 0,
 * so an observed ECE is read against it.
 */
export function expectedCalibrationErrorFloor(probs: readonly ArrayLike<number>[], bins = 15, draws = 200, seed = 1): number {
  if (probs.length === 0) return Number.NaN;
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  let sum = 0;
  for (let d = 0; d < draws; d++) {
    const labels = probs.map((p) => {
      let u = next();
      for (let k = 0; k < p.length; k++) {
        u -= p[k] as number;
        if (u < 0) return k;
      }
      return p.length - 1;
    });
    sum += expectedCalibrationError(probs, labels, bins);
  }
  return sum / draws;
}

/** Mean and (population) standard deviation of a list of numbers; NaN mean for an empty list. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / xs.length;
  return { mean, std: Math.sqrt(v) };
}

/** One fold's result: its name (e.g. the held-out speaker) and its metrics. */
export interface FoldResult {
  fold: string;
  accuracy: number;
  uar: number;
  macroF1: number;
  n: number;
  confusion?: ConfusionMatrix;
}

/** Fold summary: mean ± std of each metric, the per-fold (per-speaker) values and the pooled confusion. */
export interface FoldSummary {
  folds: number;
  accuracy: { mean: number; std: number };
  uar: { mean: number; std: number };
  macroF1: { mean: number; std: number };
  perFold: Record<string, { accuracy: number; uar: number; macroF1: number; n: number }>;
  /** Sum of fold confusion matrices (when every fold has one), else null. */
  pooledConfusion: ConfusionMatrix | null;
  /** Accuracy of the pooled predictions (items weighted equally), null without confusions. */
  pooledAccuracy: number | null;
}

/** Summarises folds (e.g. leave-one-speaker-out): mean and std over folds plus per-fold values. */
export function summarizeFolds(results: readonly FoldResult[]): FoldSummary {
  const perFold: FoldSummary['perFold'] = {};
  for (const r of results) perFold[r.fold] = { accuracy: r.accuracy, uar: r.uar, macroF1: r.macroF1, n: r.n };
  let pooled: ConfusionMatrix | null = null;
  if (results.length > 0 && results.every((r) => r.confusion)) {
    const k = results[0]!.confusion!.length;
    pooled = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (const r of results) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) pooled[i]![j]! += r.confusion![i]![j]!;
  }
  let pooledAccuracy: number | null = null;
  if (pooled) {
    let tot = 0;
    let ok = 0;
    for (let i = 0; i < pooled.length; i++) for (let j = 0; j < pooled.length; j++) {
      tot += pooled[i]![j]!;
      if (i === j) ok += pooled[i]![j]!;
    }
    pooledAccuracy = tot > 0 ? ok / tot : 0;
  }
  return {
    folds: results.length,
    accuracy: meanStd(results.map((r) => r.accuracy)),
    uar: meanStd(results.map((r) => r.uar)),
    macroF1: meanStd(results.map((r) => r.macroF1)),
    perFold,
    pooledConfusion: pooled,
    pooledAccuracy,
  };
}
