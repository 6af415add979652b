/**
 * Classifier for Node, transformers.js style:
 *
 *   const clf = await Classifier.load();            // the bundled models/default/
 *   const { emotion, probabilities } = await clf.predictFile('clip.wav');
 *
 * The prediction code itself is browser-safe and lives in core.ts; this file adds loading from disk.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AudioData } from '../audio/types.js';
import { SerError } from '../util/errors.js';
import { ClassifierCore, type Prediction, type PredictOptions, type TimelineOptions, type TimelineWindow } from './core.js';
import { initBackend } from './deps.js';
import { loadAudio, loadModelFolder } from './node-deps.js';

export type { Prediction, PredictOptions, TimelineOptions, TimelineWindow } from './core.js';

/** The package root (the folder holding package.json), from src/ or dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

/** The bundled model folder: `<package root>/models/default`. */
export function defaultModelDir(): string {
  return resolve(packageRoot(), 'models', 'default');
}

let backendReady: Promise<string> | null = null;
/** Initialises the tfjs backend once per process. */
export function ensureBackend(): Promise<string> {
  backendReady ??= initBackend();
  return backendReady;
}

/** A loaded emotion classifier (Node). */
export class Classifier extends ClassifierCore {
  /** The folder this model was loaded from. */
  dir = '';

  /** Loads a model folder (default: the bundled `models/default/`). */
  static async load(dir: string = defaultModelDir()): Promise<Classifier> {
    if (!existsSync(dir)) {
      throw new SerError(
        'model/missing',
        dir === defaultModelDir()
          ? `the bundled model folder ${dir} does not exist yet (train one, or pass --model DIR)`
          : `${dir}: no such model folder`,
      );
    }
    await ensureBackend();
    const { model, metadata } = await loadModelFolder(dir);
    const clf = new Classifier(model, metadata);
    clf.dir = dir;
    return clf;
  }

  /** Reads, decodes and predicts one audio file (any rate: it is resampled to the model's own). */
  async predictFile(path: string, opts: PredictOptions = {}): Promise<Prediction> {
    return this.predictAudio(await loadAudio(path), opts);
  }

  /** Reads a file and predicts a timeline of windows. */
  async predictFileTimeline(path: string, opts: TimelineOptions = {}): Promise<TimelineWindow[]> {
    return this.predictTimeline(await loadAudio(path), opts);
  }

  /** Predicts from raw samples (mono float32 at `sampleRate`). */
  async predictSamples(samples: Float32Array, sampleRate: number, source = 'samples', opts: PredictOptions = {}): Promise<Prediction> {
    const audio: AudioData = { samples, sampleRate, channels: 1, source };
    return this.predictAudio(audio, opts);
  }
}
