/**
 * Train/test splits: stratified random (the study's protocol), leave-one-speaker-out (the
 * honest one) and a validation split carved from the training part only. All are
 * deterministic for a seed and independent of the input order (items are sorted by path first).
 */
import { SerError } from '../util/errors.js';
import { createRng } from '../util/rng.js';

/** The least an item needs for splitting. */
export interface SplitItem {
  path: string;
  label: string;
  speaker: string | null;
}

export interface Split<T> {
  train: T[];
  test: T[];
}

export interface Fold<T> extends Split<T> {
  /** The held-out speaker. */
  speaker: string;
}

function byPath<T extends SplitItem>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Compares ids numerically when both are integers ("2" < "10"), else as strings. */
export function compareIds(a: string, b: string): number {
  const na = Number(a), nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * How many of each class go to the test set: ceil(N·fraction) in all (like scikit-learn),
 * shared across classes in proportion to their size (largest remainder, ties to the larger
 * class, then label order).
 */
export function stratifiedCounts(classSizes: Map<string, number>, fraction: number): Map<string, number> {
  const total = [...classSizes.values()].reduce((a, b) => a + b, 0);
  const nTest = Math.min(total, Math.ceil(total * fraction - 1e-9));
  const out = new Map<string, number>();
  const rema: Array<[string, number, number]> = [];
  let given = 0;
  for (const [label, n] of classSizes) {
    const exact = total > 0 ? (n * nTest) / total : 0;
    const k = Math.floor(exact);
    out.set(label, k);
    given += k;
    rema.push([label, exact - k, n]);
  }
  rema.sort((a, b) => b[1] - a[1] || b[2] - a[2] || (a[0] < b[0] ? -1 : 1));
  for (let i = 0; given < nTest && i < rema.length; i++) {
    const [label, , n] = rema[i] as [string, number, number];
    if ((out.get(label) as number) < n) { out.set(label, (out.get(label) as number) + 1); given++; }
  }
  return out;
}

/**
 * Stratified random split: each label keeps its share in the test set (about `testFraction`
 * of the items). Speakers are mixed, as in the study — this protocol flatters the model.
 */
export function stratifiedSplit<T extends SplitItem>(items: readonly T[], testFraction = 0.2, seed = 42): Split<T> {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new SerError('data/bad-split', `testFraction must be between 0 and 1 (exclusive), got ${testFraction}`);
  }
  const sorted = byPath(items);
  const groups = new Map<string, T[]>();
  for (const it of sorted) {
    const g = groups.get(it.label);
    if (g) g.push(it); else groups.set(it.label, [it]);
  }
  const labels = [...groups.keys()].sort();
  const counts = stratifiedCounts(new Map(labels.map((l) => [l, (groups.get(l) as T[]).length])), testFraction);
  const rng = createRng(seed);
  const testSet = new Set<T>();
  for (const l of labels) {
    const g = rng.shuffle([...(groups.get(l) as T[])]);
    for (const it of g.slice(0, counts.get(l) ?? 0)) testSet.add(it);
  }
  return { train: sorted.filter((i) => !testSet.has(i)), test: sorted.filter((i) => testSet.has(i)) };
}

/** Distinct speakers of `items`, sorted (numerically when ids are numbers). */
export function speakersOf(items: readonly SplitItem[]): string[] {
  return [...new Set(items.map((i) => i.speaker).filter((s): s is string => s !== null))].sort(compareIds);
}

/**
 * Leave-one-speaker-out: one fold per speaker, that speaker's files as the test set and all
 * other speakers' files as training. Every item needs a speaker; at least two speakers.
 */
export function leaveOneSpeakerOut<T extends SplitItem>(items: readonly T[]): Array<Fold<T>> {
  const sorted = byPath(items);
  const missing = sorted.filter((i) => i.speaker === null);
  if (missing.length > 0) {
    throw new SerError('data/no-speaker', `leave-one-speaker-out needs a speaker for every file; ${missing.length} have none (e.g. ${missing[0]!.path}); use a format that names speakers or a CSV with a speaker column`);
  }
  const speakers = speakersOf(sorted);
  if (speakers.length < 2) {
    throw new SerError('data/too-few-speakers', `leave-one-speaker-out needs at least 2 speakers, found ${speakers.length}`);
  }
  return speakers.map((speaker) => ({
    speaker,
    train: sorted.filter((i) => i.speaker !== speaker),
    test: sorted.filter((i) => i.speaker === speaker),
  }));
}

export interface CarveOptions {
  /** Hold out whole speakers (of the training set) instead of a stratified sample of files. */
  bySpeaker?: boolean;
}

/**
 * Takes a validation set out of the TRAINING items only (the test set is never looked at
 * for model selection). Default: stratified by label, about `fraction` of the files. With
 * `bySpeaker`, whole training speakers are held out (randomly chosen, until at least
 * `fraction` of the files; at least one speaker stays in training).
 */
export function carveValidation<T extends SplitItem>(trainItems: readonly T[], fraction = 0.1, seed = 42, opts: CarveOptions = {}): { train: T[]; validation: T[] } {
  if (!(fraction > 0 && fraction < 1)) {
    throw new SerError('data/bad-split', `validation fraction must be between 0 and 1 (exclusive), got ${fraction}`);
  }
  if (!opts.bySpeaker) {
    const s = stratifiedSplit(trainItems, fraction, seed);
    return { train: s.train, validation: s.test };
  }
  const sorted = byPath(trainItems);
  const speakers = speakersOf(sorted);
  if (speakers.length < 2 || sorted.some((i) => i.speaker === null)) {
    throw new SerError('data/too-few-speakers', `a by-speaker validation split needs every training file to have a speaker and at least 2 training speakers (found ${speakers.length})`);
  }
  const order = createRng(seed).shuffle([...speakers]);
  const held = new Set<string>();
  let n = 0;
  for (const sp of order) {
    if (n >= fraction * sorted.length || held.size >= speakers.length - 1) break;
    held.add(sp);
    n += sorted.filter((i) => i.speaker === sp).length;
  }
  return {
    train: sorted.filter((i) => !held.has(i.speaker as string)),
    validation: sorted.filter((i) => held.has(i.speaker as string)),
  };
}
