/**
 * Probability calibration by temperature scaling (Guo et al. 2017): p_k ∝ p_k^(1/T), which is
 * softmax(logits / T) for a softmax model. T > 1 softens over-confident outputs; the arg-max never
 * changes. Optionally the temperature depends on how unsure the raw prediction already is: the inverse
 * temperature grows linearly with the raw probabilities' normalised entropy h ∈ [0, 1],
 * 1/T(h) = 1/temperature + entropySlope · h — a confident raw output is softened more than one that
 * already spreads its mass (as outputs on noisy audio do). A third form adds the input's noise floor
 * (`noiseFloor` of the utterance statistics: how close its quiet moments come to its loud level) as a
 * second covariate, 1/T = 1/temperature + entropySlope · h + noiseSlope · floor: a model can be
 * over-confident on clean speech and honest in steady noise at the same output entropy, which no function
 * of the probabilities alone can tell apart. The forms are fitted on out-of-fold
 * predictions of held-out speakers (`fitCalibration`; which form, by `chooseCalibration`) by one of two
 * proper scores: the Brier score (the default of robustness runs: bounded per prediction, so a held-out
 * speaker's few confidently wrong outputs do not set the temperature for all) or the log-likelihood
 * (unbounded: those outputs pull the temperature up, and the other outputs come out under-confident), stored in a model's metadata (`calibration`) and applied by inference in the
 * CLI, the server and the browser alike (`calibrate`). Browser-safe.
 */
import { SerError } from '../util/errors.js';

/** What a model folder's metadata.json stores under `calibration`. */
export interface Calibration {
  method: 'temperature';
  /** The temperature of a raw prediction with normalised entropy 0 (the only one when `entropySlope` is absent or 0). */
  temperature: number;
  /** 1/T(h) = 1/temperature + entropySlope · h, h = the raw probabilities' entropy / ln(classes). */
  entropySlope?: number;
  /** 1/T(h, floor) = 1/temperature + entropySlope · h + noiseSlope · floor, floor = the input's `noiseFloor` (its features must be utterance statistics). */
  noiseSlope?: number;
  /** How it was fitted (free text, e.g. "out-of-fold, 5 held-out speakers, 1008 predictions"). */
  fittedOn?: string;
}

/**
 * The calibration forms: one temperature, a temperature that depends on the raw prediction's entropy, or on
 * its entropy and the input's noise floor (only where the inputs' noise floors are known).
 */
export type CalibrationForm = 'temperature' | 'entropy-temperature' | 'noise-temperature';
export const CALIBRATION_FORMS: readonly CalibrationForm[] = ['temperature', 'entropy-temperature', 'noise-temperature'];
/** The forms that need only the probabilities. */
export const PROBABILITY_FORMS: readonly CalibrationForm[] = ['temperature', 'entropy-temperature'];

/** What a calibration is fitted to minimise: mean negative log-likelihood, or mean Brier score (squared error of the probability vector). */
export type CalibrationObjective = 'nll' | 'brier';
export const CALIBRATION_OBJECTIVES: readonly CalibrationObjective[] = ['nll', 'brier'];

/** Reads a stored calibration (metadata.calibration, a report's); anything malformed is a `model/bad-metadata` error (a model must not silently lose its calibration). */
export function parseCalibration(v: unknown): Calibration | null {
  if (v === undefined || v === null) return null;
  const c = v as Partial<Calibration>;
  const slope = c.entropySlope ?? 0;
  const noise = c.noiseSlope ?? 0;
  const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  if (c.method !== 'temperature' || !finite(c.temperature) || !((c.temperature as number) > 0) || !finite(slope) || !finite(noise)) {
    throw new SerError('model/bad-metadata', `metadata.json: calibration must be {"method": "temperature", "temperature": T > 0, "entropySlope"?: a number, "noiseSlope"?: a number}, got ${JSON.stringify(v)}`);
  }
  return {
    method: 'temperature', temperature: c.temperature as number, ...(slope ? { entropySlope: slope } : {}), ...(noise ? { noiseSlope: noise } : {}),
    ...(typeof c.fittedOn === 'string' ? { fittedOn: c.fittedOn } : {}),
  };
}

/** Temperatures are kept in [1/20, 20]. */
const MIN_INV_T = 1 / 20, MAX_INV_T = 20;

/** Entropy of `probs` divided by ln(number of classes): 0 for a one-hot output, 1 for a uniform one. */
export function normalizedEntropy(probs: ArrayLike<number>): number {
  const n = probs.length;
  if (n < 2) return 0;
  let h = 0;
  for (let i = 0; i < n; i++) {
    const p = probs[i] as number;
    if (p > 0) h -= p * Math.log(p);
  }
  return h / Math.log(n);
}

/** Whether `cal` needs the input's noise floor (`calibrate`'s third argument). */
export function needsNoiseFloor(cal: Calibration | null | undefined): boolean {
  return !!cal?.noiseSlope;
}

/** The temperature `cal` applies to the raw prediction `probs` of an input with noise floor `floor` (1 without a calibration). */
export function temperatureOf(probs: ArrayLike<number>, cal: Calibration | null | undefined, floor?: number): number {
  if (cal?.method !== 'temperature') return 1;
  if (!cal.entropySlope && !cal.noiseSlope) return cal.temperature;
  if (cal.noiseSlope && !Number.isFinite(floor)) {
    throw new SerError('model/no-noise-floor', 'this calibration depends on the input\'s noise floor, which these features do not give (utterance statistics do)');
  }
  const inv = 1 / cal.temperature + (cal.entropySlope ?? 0) * normalizedEntropy(probs) + (cal.noiseSlope ? cal.noiseSlope * (floor as number) : 0);
  return 1 / Math.min(MAX_INV_T, Math.max(MIN_INV_T, inv));
}

/** `probs` (summing to 1) with temperature `t` applied, in place-free form. */
export function applyTemperature(probs: ArrayLike<number>, t: number): Float32Array {
  const n = probs.length;
  const out = new Float32Array(n);
  if (t === 1) {
    for (let i = 0; i < n; i++) out[i] = probs[i] as number;
    return out;
  }
  let max = -Infinity;
  const logs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    logs[i] = Math.log(Math.max(1e-30, probs[i] as number)) / t;
    if (logs[i]! > max) max = logs[i]!;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (logs[i] = Math.exp(logs[i]! - max));
  for (let i = 0; i < n; i++) out[i] = logs[i]! / sum;
  return out;
}

/** Applies a stored calibration (none = unchanged copy); `floor`: the input's noise floor, needed when `needsNoiseFloor(cal)`. */
export function calibrate(probs: ArrayLike<number>, cal: Calibration | null | undefined, floor?: number): Float32Array {
  return applyTemperature(probs, temperatureOf(probs, cal, floor));
}

/** One line for reports: "temperature 2.100", or "temperature 2.713 at entropy 0, 1/T + 0.306 × normalised entropy", or "none". */
export function describeCalibration(cal: Calibration | null | undefined): string {
  if (!cal) return 'none';
  const base = `temperature ${cal.temperature.toFixed(3)}`;
  const term = (x: number, what: string): string => ` ${x < 0 ? '−' : '+'} ${Math.abs(x).toFixed(3)} × ${what}`;
  if (cal.noiseSlope) return `${base} at entropy 0 and noise floor 0, 1/T${term(cal.entropySlope ?? 0, "the raw output's normalised entropy")}${term(cal.noiseSlope, "the input's noise floor")}`;
  return cal.entropySlope ? `${base} at entropy 0, 1/T${term(cal.entropySlope, "the raw output's normalised entropy")}` : base;
}

/** One prediction's loss: −log p[label], or Σ_k (p_k − [k = label])². */
function lossOf(p: ArrayLike<number>, label: number, objective: CalibrationObjective): number {
  if (objective === 'nll') return -Math.log(Math.max(1e-12, p[label]!));
  let s = 0;
  for (let k = 0; k < p.length; k++) { const d = p[k]! - (k === label ? 1 : 0); s += d * d; }
  return s;
}

/** Mean loss (`objective`, default NLL) of `labels` under `probs` calibrated by `cal` (`floors`: the inputs' noise floors, for a calibration that needs them). */
export function calibratedLoss(probs: readonly ArrayLike<number>[], labels: readonly number[], cal: Calibration, objective: CalibrationObjective, floors?: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < probs.length; i++) sum += lossOf(calibrate(probs[i]!, cal, floors?.[i]), labels[i]!, objective);
  return probs.length ? sum / probs.length : 0;
}

/** Mean negative log-likelihood of `labels` under `probs` calibrated by `cal`. */
export function calibratedNll(probs: readonly ArrayLike<number>[], labels: readonly number[], cal: Calibration): number {
  return calibratedLoss(probs, labels, cal, 'nll');
}

/**
 * The calibration of `form` that minimises `objective` on these predictions. 'temperature':
 * `fitTemperature`. 'entropy-temperature' by NLL: the inverse temperature b0 + b1·h is linear in the two
 * parameters and the NLL of a softmax is convex in its inverse temperature, so the NLL is convex in
 * (b0, b1): Newton's method (exact 2×2 Hessian, step halved until the loss falls), from the single
 * temperature's fit. By Brier score (not convex): a golden-section search over the slope b1, each slope's
 * b0 found by another (`fitBrierEntropy`). Written out here because they are two-parameter fits, not
 * worth an optimisation library.
 */
export function fitCalibration(probs: readonly ArrayLike<number>[], labels: readonly number[], form: CalibrationForm = 'entropy-temperature', objective: CalibrationObjective = 'nll', floors?: readonly number[]): Calibration {
  if (form === 'noise-temperature') return fitNoiseTemperature(probs, labels, objective, floors);
  if (form === 'entropy-temperature' && objective === 'brier' && probs.length > 0) return fitBrierEntropy(probs, labels);
  const t = fitTemperature(probs, labels, objective);
  if (form === 'temperature' || probs.length === 0) return { method: 'temperature', temperature: t };
  const n = probs.length;
  const logs = probs.map((p) => Float64Array.from(p as ArrayLike<number>, (v) => Math.log(Math.max(1e-30, v))));
  const h = probs.map(normalizedEntropy);
  // per prediction at inverse temperature b: loss, d/db, d²/db²
  const point = (i: number, b: number): [number, number, number] => {
    const l = logs[i]!;
    let max = -Infinity;
    for (const v of l) max = Math.max(max, b * v);
    let z = 0, m1 = 0, m2 = 0;
    for (const v of l) { const e = Math.exp(b * v - max); z += e; m1 += e * v; m2 += e * v * v; }
    m1 /= z; m2 /= z;
    const y = l[labels[i]!]!;
    return [max + Math.log(z) - b * y, m1 - y, Math.max(0, m2 - m1 * m1)];
  };
  const inv = (w: readonly number[], i: number) => w[0]! + w[1]! * h[i]!;
  const loss = (w: readonly number[]): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const b = inv(w, i);
      if (!(b >= MIN_INV_T && b <= MAX_INV_T)) return Infinity;
      s += point(i, b)[0];
    }
    return s / n;
  };
  let w = [1 / t, 0];
  let f = loss(w);
  for (let it = 0; it < 100; it++) {
    let g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
    for (let i = 0; i < n; i++) {
      const [, g, v] = point(i, inv(w, i));
      const hi = h[i]!;
      g0 += g; g1 += g * hi; h00 += v; h01 += v * hi; h11 += v * hi * hi;
    }
    h00 += 1e-9; h11 += 1e-9;
    const det = h00 * h11 - h01 * h01;
    let d0 = -(h11 * g0 - h01 * g1) / det, d1 = -(h00 * g1 - h01 * g0) / det;
    let next = [w[0]! + d0, w[1]! + d1], fn = loss(next);
    for (let k = 0; k < 40 && !(fn <= f); k++) { d0 /= 2; d1 /= 2; next = [w[0]! + d0, w[1]! + d1]; fn = loss(next); }
    if (!(fn <= f)) break;
    const done = f - fn < 1e-13;
    w = next; f = fn;
    if (done) break;
  }
  return { method: 'temperature', temperature: 1 / w[0]!, entropySlope: w[1]! };
}

/** The held-out scores of each calibration form (mean over all predictions of their group left out). */
export interface CalibrationChoice {
  calibration: Calibration;
  form: CalibrationForm;
  /** What each form was fitted by and chosen by. */
  objective: CalibrationObjective;
  /** Each form's leave-one-group-out mean NLL and Brier score (fitted by `objective`); the noise form only where the groups have noise floors. */
  nll: Partial<Record<CalibrationForm, number>>;
  brier: Partial<Record<CalibrationForm, number>>;
}

/** Held-out predictions to fit a calibration on: probabilities, labels and, where known, the inputs' noise floors. */
export interface CalibrationGroup { probs: readonly ArrayLike<number>[]; labels: readonly number[]; floors?: readonly number[] }

/**
 * Which calibration form to use, chosen on held-out groups (e.g. speakers): each form is fitted (by
 * `objective`) on all groups but one and scored on the left-out group's predictions; the form with the
 * lower pooled held-out `objective` is fitted on all groups and returned, with both scores of every form
 * (or `form`, when the caller chose it by other means: the scores are then for reference). The probability
 * forms always; the noise form too when every group has noise floors. Never sees data outside `groups`.
 */
export function chooseCalibration(groups: ReadonlyArray<CalibrationGroup>, objective: CalibrationObjective = 'nll', form?: CalibrationForm): CalibrationChoice {
  const withFloors = groups.length > 0 && groups.every((g) => g.floors !== undefined);
  const all = { probs: groups.flatMap((g) => g.probs), labels: groups.flatMap((g) => g.labels), floors: withFloors ? groups.flatMap((g) => g.floors!) : undefined };
  const forms = withFloors ? CALIBRATION_FORMS : PROBABILITY_FORMS;
  if (form && !forms.includes(form)) throw new SerError('model/no-noise-floor', `calibration form '${form}' needs the inputs' noise floors`);
  const scores = { nll: {}, brier: {} } as Record<CalibrationObjective, Partial<Record<CalibrationForm, number>>>;
  for (const f of forms) {
    if (groups.length < 2) {
      for (const o of CALIBRATION_OBJECTIVES) scores[o][f] = f === 'temperature' ? 0 : Infinity;
      continue;
    }
    const sums = { nll: 0, brier: 0 };
    for (const g of groups) {
      const rest = groups.filter((o) => o !== g);
      const cal = fitCalibration(rest.flatMap((o) => o.probs), rest.flatMap((o) => o.labels), f, objective, withFloors ? rest.flatMap((o) => o.floors!) : undefined);
      for (const o of CALIBRATION_OBJECTIVES) sums[o] += calibratedLoss(g.probs, g.labels, cal, o, g.floors) * g.probs.length;
    }
    for (const o of CALIBRATION_OBJECTIVES) scores[o][f] = sums[o] / Math.max(1, all.probs.length);
  }
  const by = scores[objective];
  const chosen = form ?? forms.reduce((best, f) => (by[f]! < by[best]! ? f : best), forms[0]!);
  return { calibration: fitCalibration(all.probs, all.labels, chosen, objective, all.floors), form: chosen, objective, nll: scores.nll, brier: scores.brier };
}

/** Mean loss (`objective`) of `labels` under `probs` tempered by `t`. */
function temperedLoss(probs: readonly ArrayLike<number>[], labels: readonly number[], t: number, objective: CalibrationObjective): number {
  let sum = 0;
  for (let i = 0; i < probs.length; i++) sum += lossOf(applyTemperature(probs[i]!, t), labels[i]!, objective);
  return probs.length ? sum / probs.length : 0;
}

/** Mean negative log-likelihood of `labels` under `probs` tempered by `t`. */
export function temperedNll(probs: readonly ArrayLike<number>[], labels: readonly number[], t: number): number {
  return temperedLoss(probs, labels, t, 'nll');
}

/** The minimum of `f` on [a, b] by golden-section search (`f` unimodal there), `iters` steps. */
function goldenMin(f: (x: number) => number, a: number, b: number, iters: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a), d = a + g * (b - a);
  let fc = f(c), fd = f(d);
  for (let i = 0; i < iters; i++) {
    if (fc < fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = f(c); }
    else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = f(d); }
  }
  return (a + b) / 2;
}

/**
 * The temperature minimising `objective` (default NLL) on `labels` (golden-section search on log T in
 * [1/20, 20]; both losses are unimodal in T).
 */
export function fitTemperature(probs: readonly ArrayLike<number>[], labels: readonly number[], objective: CalibrationObjective = 'nll'): number {
  if (probs.length === 0) return 1;
  return Math.exp(goldenMin((u) => temperedLoss(probs, labels, Math.exp(u), objective), Math.log(1 / MAX_INV_T), Math.log(1 / MIN_INV_T), 60));
}

/**
 * The entropy-dependent calibration with the least mean Brier score: the slope b1 by golden section on
 * [−4, 4], each slope's intercept b0 (as log b0) by another on [1/20, 20]; the inverse temperature clamped
 * to [1/20, 20] as `temperatureOf` applies it.
 */
function fitBrierEntropy(probs: readonly ArrayLike<number>[], labels: readonly number[]): Calibration {
  const { h, loss: at } = inverseTemperatureLoss(probs, labels, 'brier');
  const loss = (b0: number, b1: number): number => at((i) => b0 + b1 * h[i]!);
  const bestB0 = (b1: number): number => Math.exp(goldenMin((u) => loss(Math.exp(u), b1), Math.log(MIN_INV_T), Math.log(MAX_INV_T), 40));
  const b1 = goldenMin((x) => loss(bestB0(x), x), -4, 4, 40);
  return { method: 'temperature', temperature: 1 / bestB0(b1), entropySlope: b1 };
}

/**
 * The inner loop of the multi-parameter fits: each prediction's normalised entropy `h`, and `loss(inv)`, the
 * mean `objective` of `labels` under `probs` each tempered at inverse temperature `inv(i)` (clamped to
 * [1/20, 20] as `temperatureOf` clamps it), with the logs taken once.
 */
function inverseTemperatureLoss(probs: readonly ArrayLike<number>[], labels: readonly number[], objective: CalibrationObjective): { h: number[]; loss: (inv: (i: number) => number) => number } {
  const logs = probs.map((p) => Float64Array.from(p as ArrayLike<number>, (v) => Math.log(Math.max(1e-30, v))));
  const h = probs.map(normalizedEntropy);
  const q = new Float64Array(logs[0]?.length ?? 0);
  const loss = (inv: (i: number) => number): number => {
    let s = 0;
    for (let i = 0; i < logs.length; i++) {
      const l = logs[i]!, y = labels[i]!, b = Math.min(MAX_INV_T, Math.max(MIN_INV_T, inv(i)));
      let max = -Infinity;
      for (let k = 0; k < l.length; k++) { q[k] = b * l[k]!; if (q[k]! > max) max = q[k]!; }
      let z = 0;
      for (let k = 0; k < l.length; k++) z += (q[k] = Math.exp(q[k]! - max));
      if (objective === 'nll') s -= Math.log(Math.max(1e-12, q[y]! / z));
      else for (let k = 0; k < l.length; k++) { const d = q[k]! / z - (k === y ? 1 : 0); s += d * d; }
    }
    return s / logs.length;
  };
  return { h, loss };
}

/**
 * The noise-floor calibration (1/T = b0 + b1·h + b2·floor) with the least mean `objective`: Nelder–Mead
 * over the three parameters from the entropy-dependent fit (b2 = 0). Written out here because it is a
 * three-parameter fit of a smooth loss, not worth an optimisation library.
 */
function fitNoiseTemperature(probs: readonly ArrayLike<number>[], labels: readonly number[], objective: CalibrationObjective, floors: readonly number[] | undefined): Calibration {
  if (!floors || floors.length !== probs.length || floors.some((f) => !Number.isFinite(f))) {
    throw new SerError('model/no-noise-floor', "calibration form 'noise-temperature' needs every input's noise floor");
  }
  const start = fitCalibration(probs, labels, 'entropy-temperature', objective);
  if (probs.length === 0) return start;
  const { h, loss: at } = inverseTemperatureLoss(probs, labels, objective);
  // the intercept is the stored temperature's inverse: kept inside the range a temperature may have
  const loss = (w: readonly number[]): number => (w[0]! >= MIN_INV_T && w[0]! <= MAX_INV_T ? at((i) => w[0]! + w[1]! * h[i]! + w[2]! * floors[i]!) : Infinity);
  const w = nelderMead(loss, [1 / start.temperature, start.entropySlope ?? 0, 0], [0.05, 0.1, 0.2]);
  return { method: 'temperature', temperature: 1 / w[0]!, entropySlope: w[1]!, noiseSlope: w[2]! };
}

/** The minimum of `f` by the Nelder–Mead simplex (reflection 1, expansion 2, contraction ½, shrink ½), from `x0` with initial steps `step`. */
function nelderMead(f: (x: readonly number[]) => number, x0: readonly number[], step: readonly number[], maxIter = 400, tol = 1e-10): number[] {
  const n = x0.length;
  let simplex = [x0, ...x0.map((_, i) => x0.map((v, j) => v + (i === j ? step[i]! : 0)))].map((x) => ({ x: [...x], f: f(x) }));
  for (let it = 0; it < maxIter; it++) {
    simplex.sort((a, b) => a.f - b.f);
    if (Math.abs(simplex[n]!.f - simplex[0]!.f) < tol) break;
    const c = x0.map((_, j) => simplex.slice(0, n).reduce((a, s) => a + s.x[j]!, 0) / n);
    const worst = simplex[n]!;
    const along = (t: number): number[] => c.map((v, j) => v + t * (worst.x[j]! - v));
    const r = along(-1), fr = f(r);
    if (fr < simplex[0]!.f) {
      const e = along(-2), fe = f(e);
      simplex[n] = fe < fr ? { x: e, f: fe } : { x: r, f: fr };
    } else if (fr < simplex[n - 1]!.f) {
      simplex[n] = { x: r, f: fr };
    } else {
      const k = along(0.5), fk = f(k);
      if (fk < worst.f) simplex[n] = { x: k, f: fk };
      else {
        const best = simplex[0]!.x;
        simplex = simplex.map((s, i) => {
          if (i === 0) return s;
          const x = s.x.map((v, j) => best[j]! + 0.5 * (v - best[j]!));
          return { x, f: f(x) };
        });
      }
    }
  }
  simplex.sort((a, b) => a.f - b.f);
  return simplex[0]!.x;
}
