/**
 * `ser bench timeline [--data DIR] [--files N] [--chunk-ms MS] [--json]`: speed of the timeline on a
 * long recording — N corpus files (default 40, sorted by name, ≈ 3 min) joined with 1-s gaps:
 *  - `ser predict --timeline` path (`speechTimeline`): wall time and real-time factor;
 *  - streaming (`TimelineStream`, the engine of `ser listen` and `/api/stream`) fed in chunks of
 *    `--chunk-ms` as a live source would deliver them: real-time factor, and per segment the latency
 *    from end of speech to label = audio the detector had to hear after the speech (the closing
 *    pause, plus the rest of the chunk it arrived in) + compute time (median, 95th percentile, max).
 * Without --data a synthetic speech-like recording is used.
 */
import type { Command } from 'commander';
import type { AudioData } from '../../../audio/types.js';
import { loadAudio } from '../../../audio/load.js';
import { resample } from '../../../audio/resample.js';
import { listAudioFiles } from '../../../data/corpus.js';
import { speechTimeline, TimelineStream } from '../../../infer/timeline.js';
import { benchClassifier, syntheticClip } from './predict.js';
import { intFlag } from '../train.js';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

async function longRecording(data: string | undefined, files: number): Promise<{ audio: AudioData; note: string }> {
  const parts: Float32Array[] = [];
  let rate = 44100;
  let note: string;
  if (data) {
    const paths = listAudioFiles(data).slice(0, files);
    for (const [i, p] of paths.entries()) {
      const a = await loadAudio(p);
      if (i === 0) rate = a.sampleRate;
      parts.push(a.sampleRate === rate ? a.samples : resample(a.samples, a.sampleRate, rate));
    }
    note = `${paths.length} files of ${data} joined with 1-s gaps`;
  } else {
    for (let i = 0; i < files; i++) parts.push(syntheticClip(3, rate, i + 1));
    note = `${files} synthetic 3-s clips joined with 1-s gaps`;
  }
  const gap = rate;
  const n = parts.reduce((a, p) => a + p.length + gap, gap);
  const samples = new Float32Array(n);
  let pos = gap;
  for (const p of parts) {
    samples.set(p, pos);
    pos += p.length + gap;
  }
  return { audio: { samples, sampleRate: rate, channels: 1, source: 'bench' }, note };
}

export function registerBench(bench: Command): void {
  bench
    .command('timeline')
    .description('timeline speed on a long recording: predict --timeline real-time factor; streaming latency (end of speech → label) and real-time factor')
    .option('--data <dir>', 'corpus folder to join files from (default: synthetic speech-like audio)')
    .option('--files <n>', 'files to join', intFlag('files'), 40)
    .option('--chunk-ms <ms>', 'streaming chunk length', intFlag('chunk-ms'), 20)
    .option('--model <dir>', 'model folder (default: the bundled one)')
    .option('--json', 'one JSON object')
    .action(async (o: { data?: string; files: number; chunkMs: number; model?: string; json?: boolean }) => {
      const { clf, note: modelNote } = await benchClassifier(o.model);
      const { audio, note } = await longRecording(o.data, o.files);
      const dur = audio.samples.length / audio.sampleRate;
      await clf.predictAudio({ ...audio, samples: audio.samples.subarray(0, audio.sampleRate * 3) }); // warm-up
      const t0 = performance.now();
      const tl = await speechTimeline(clf, audio);
      const fileSec = (performance.now() - t0) / 1000;
      const stream = new TimelineStream(clf, audio.sampleRate);
      const chunk = Math.max(1, Math.round((o.chunkMs / 1000) * audio.sampleRate));
      const lat: number[] = [];
      const comp: number[] = [];
      const t1 = performance.now();
      for (let s = 0; s < audio.samples.length; s += chunk) {
        for (const seg of await stream.push(audio.samples.subarray(s, s + chunk))) {
          lat.push(seg.latencySec);
          comp.push(seg.computeSec);
        }
      }
      for (const seg of (await stream.end()).segments) {
        lat.push(seg.latencySec);
        comp.push(seg.computeSec);
      }
      const streamSec = (performance.now() - t1) / 1000;
      const r = {
        recording: note,
        model: modelNote,
        audioSec: dur,
        segments: tl.segments.filter((s) => s.speech).length,
        timeline: { wallSec: fileSec, rtf: fileSec / dur },
        stream: {
          chunkMs: o.chunkMs,
          wallSec: streamSec,
          rtf: streamSec / dur,
          segments: lat.length,
          latencySec: { median: quantile(lat, 0.5), p95: quantile(lat, 0.95), max: Math.max(...lat) },
          computeSec: { median: quantile(comp, 0.5), max: Math.max(...comp) },
        },
      };
      clf.dispose();
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      else {
        process.stdout.write(
          `${r.recording}: ${dur.toFixed(1)} s, ${r.segments} speech segments (model ${r.model})\n` +
            `predict --timeline: ${fileSec.toFixed(2)} s, real-time factor ${r.timeline.rtf.toFixed(4)}\n` +
            `stream (${o.chunkMs}-ms chunks): real-time factor ${r.stream.rtf.toFixed(4)}; latency end of speech → label ` +
            `median ${r.stream.latencySec.median.toFixed(3)} s, p95 ${r.stream.latencySec.p95.toFixed(3)} s, max ${r.stream.latencySec.max.toFixed(3)} s ` +
            `(compute median ${(1000 * r.stream.computeSec.median).toFixed(0)} ms, max ${(1000 * r.stream.computeSec.max).toFixed(0)} ms)\n`,
        );
      }
    });
}
