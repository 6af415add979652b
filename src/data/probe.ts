/**
 * Decodes every file of a scanned corpus once, to find broken and empty files before
 * training: those move from `items` to `problems`; the rest get their duration.
 */
import type { AudioData } from '../audio/types.js';
import { describeError, isSerError } from '../util/errors.js';
import type { Corpus, CorpusItem, ScanProblem } from './corpus.js';
import { loadAudio } from '../audio/load.js';

/** A corpus item with what decoding it told us. */
export interface ProbedItem extends CorpusItem {
  /** Seconds. */
  duration: number;
  sampleRate: number;
  channels: number;
}

export interface ProbedCorpus extends Omit<Corpus, 'items'> {
  items: ProbedItem[];
}

export interface ProbeOptions {
  /** Called after each file (done, total, item path). */
  onProgress?: (done: number, total: number, path: string) => void;
  /** Decoder; default the project's loader. */
  load?: (path: string) => Promise<AudioData>;
  /** Files decoded at once (I/O overlap). */
  concurrency?: number;
  /** Called with each decoded file (e.g. to keep samples for plots) — avoids a second decode. */
  onAudio?: (item: ProbedItem, audio: AudioData) => void;
}

/**
 * Decodes each item; files that fail to decode (reason `broken`) or hold no samples (reason
 * `zero-duration`) become problems. Returns a new corpus; the input is not changed.
 */
export async function probeCorpus(corpus: Corpus, opts: ProbeOptions = {}): Promise<ProbedCorpus> {
  const load = opts.load ?? loadAudio;
  const total = corpus.items.length;
  const results: Array<ProbedItem | ScanProblem> = new Array(total);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const item = corpus.items[i] as CorpusItem;
      try {
        const audio = await load(item.path);
        if (audio.samples.length === 0 || audio.sampleRate <= 0) {
          results[i] = { path: item.path, reason: 'zero-duration', message: `${item.path}: no audio samples (duration 0)` };
        } else {
          const probed: ProbedItem = { ...item, duration: audio.samples.length / audio.sampleRate, sampleRate: audio.sampleRate, channels: audio.channels };
          results[i] = probed;
          opts.onAudio?.(probed, audio);
        }
      } catch (e) {
        const msg = describeError(e);
        // an empty data chunk decodes to nothing: that is a zero-duration file, not a broken one
        const zero = isSerError(e) && e.code === 'audio/no-data' && /\b0 samples\b|duration 0/.test(msg);
        results[i] = {
          path: item.path,
          reason: zero ? 'zero-duration' : 'broken',
          message: msg.includes(item.path) ? msg : `${item.path}: ${msg}`,
        };
      }
      done++;
      opts.onProgress?.(done, total, item.path);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 4, total));
  await Promise.all(Array.from({ length: n }, worker));
  const items: ProbedItem[] = [];
  const problems: ScanProblem[] = [...corpus.problems];
  for (const r of results) {
    if ('reason' in r) problems.push(r);
    else items.push(r);
  }
  return { ...corpus, items, problems };
}
