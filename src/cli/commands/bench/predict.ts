/**
 * `ser bench predict [--data DIR] [--model DIR] [--limit N] [--json]`: inference speed —
 * files/s and real-time factor over real files (decode + features + model, each timed), and
 * ms per 6-s clip (features + model on a generated clip).
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { featureParams } from '../../../features/params.js';
import { resample } from '../../../audio/resample.js';
import { describeCalibration } from '../../../model/calibration.js';
import { Classifier, defaultModelDir, ensureBackend } from '../../../infer/classifier.js';
import { isAudioFileName, loadAudio } from '../../../audio/load.js';
import { saveModelFolder } from '../../../model/io.js';
import { buildModel, checkArch } from '../../../model/architectures.js';
import { EMOTIONS } from '../../../util/labels.js';
import { SerError } from '../../../util/errors.js';
import type { AudioData } from '../../../audio/types.js';

/**
 * The classifier to benchmark: `dir`, else the bundled model, else an untrained `arch` model
 * (same cost per prediction as a trained one) saved to a temp folder. Returns a note of which.
 */
export async function benchClassifier(dir?: string, arch = 'cnn4'): Promise<{ clf: Classifier; note: string; dir: string }> {
  if (dir) return { clf: await Classifier.load(dir), note: dir, dir };
  if (existsSync(join(defaultModelDir(), 'model.json'))) return { clf: await Classifier.load(), note: defaultModelDir(), dir: defaultModelDir() };
  await ensureBackend();
  const tmp = mkdtempSync(join(tmpdir(), 'ser-bench-model-'));
  const model = buildModel(checkArch(arch), {}, 1);
  await saveModelFolder(tmp, model, { labels: [...EMOTIONS], featureParams: featureParams(), arch: checkArch(arch), archOptions: {}, normalization: 'utterance', recipe: 'untrained (benchmark)' });
  model.dispose();
  return { clf: await Classifier.load(tmp), note: `untrained ${arch} (no bundled model yet; speed only)`, dir: tmp };
}

/** A deterministic speech-like test clip: harmonics of a gliding pitch with syllable envelope plus a little noise. */
export function syntheticClip(seconds: number, sampleRate = 44100, seed = 1): Float32Array {
  const n = Math.round(seconds * sampleRate);
  const y = new Float32Array(n);
  let phase = 0;
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    phase += (2 * Math.PI * (140 + 40 * Math.sin(2 * Math.PI * 0.7 * t + seed))) / sampleRate;
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(h * phase) / h;
    s = (s * 1664525 + 1013904223) >>> 0;
    y[i] = 0.3 * (0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t + seed)) * v + 0.005 * (s / 2 ** 32 - 0.5);
  }
  return y;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

/** Audio files of a folder (sorted), first `limit`. */
function listAudio(dir: string, limit: number): string[] {
  return readdirSync(dir)
    .filter((n) => isAudioFileName(n))
    .sort()
    .slice(0, limit)
    .map((n) => join(dir, n));
}

export interface PredictBenchResult {
  model: string;
  backend: string;
  files: number;
  audioSec: number;
  filesPerSec: number;
  realTimeFactor: number;
  msPerFile: { decode: number; features: number; model: number; total: number };
  /** Process CPU time per file (less distorted than wall time on a shared machine). */
  cpuMsPerFile: number;
  msPer6sClip: number;
  msPer6sClipFeatures: number;
  msPer6sClipModel: number;
  /** Resampling the 6-s clip from 44.1 kHz to the model's input rate (inside features); null: the model takes any rate. */
  msPer6sClipResample: number | null;
  /** Applying the stored calibration to one prediction's probabilities, µs; null: none stored. */
  usCalibration: number | null;
}

export function registerBench(bench: Command): void {
  bench
    .command('predict')
    .description('inference speed: files/s, real-time factor, ms per 6-s clip (decode, features, model timed apart)')
    .option('--data <dir>', 'folder of audio files (default: generated clips)')
    .option('--model <dir>', 'model folder (default: the bundled model, else an untrained cnn4)')
    .option('--arch <name>', 'architecture of the untrained stand-in model', 'cnn4')
    .option('--limit <n>', 'files to time', (v) => Number(v), 60)
    .option('--repeats <n>', 'timed runs of the 6-s clip', (v) => Number(v), 10)
    .option('--json', 'print one JSON object')
    .action(async (opts: { data?: string; model?: string; arch: string; limit: number; repeats: number; json?: boolean }) => {
      if (!(opts.limit >= 1) || !(opts.repeats >= 1)) throw new SerError('cli/bad-option', '--limit and --repeats must be ≥ 1');
      const { clf, note } = await benchClassifier(opts.model, opts.arch);
      const backend = await ensureBackend();
      const dataDir = opts.data ?? null;
      let audios: Array<() => Promise<AudioData>>;
      if (dataDir) {
        const files = listAudio(dataDir, opts.limit);
        if (files.length === 0) throw new SerError('bench/no-data', `${dataDir}: no audio files`);
        audios = files.map((f) => () => loadAudio(f));
      } else {
        audios = Array.from({ length: Math.min(opts.limit, 20) }, (_, i) => async () => ({
          samples: syntheticClip(3 + (i % 3), 44100, i + 1), sampleRate: 44100, channels: 1, source: `synthetic-${i}`,
        }));
      }
      // warm-up (wasm compile, kernel caches)
      const warm = await audios[0]();
      await clf.probabilitiesOf(clf.features(warm));
      const t = { decode: 0, features: 0, model: 0 };
      const cpu0 = process.cpuUsage();
      let audioSec = 0;
      let n = 0;
      for (const get of audios) {
        const t0 = performance.now();
        const audio = await get();
        const t1 = performance.now();
        let spec;
        try {
          spec = clf.features(audio);
        } catch {
          continue; // silent / too short: not a prediction
        }
        const t2 = performance.now();
        await clf.probabilitiesOf(spec);
        const t3 = performance.now();
        t.decode += t1 - t0;
        t.features += t2 - t1;
        t.model += t3 - t2;
        audioSec += audio.samples.length / audio.sampleRate;
        n++;
      }
      const total = t.decode + t.features + t.model;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const clip: AudioData = { samples: syntheticClip(6, 44100, 7), sampleRate: 44100, channels: 1, source: 'synthetic-6s' };
      const fe: number[] = [];
      const mo: number[] = [];
      const all: number[] = [];
      for (let i = 0; i < opts.repeats; i++) {
        const a = performance.now();
        const spec = clf.features(clip);
        const b = performance.now();
        await clf.probabilitiesOf(spec);
        const c = performance.now();
        fe.push(b - a);
        mo.push(c - b);
        all.push(c - a);
      }
      // what the product model adds: resampling to its rate (part of features above) and calibration
      const rate = clf.featureParams.sampleRate;
      const rs: number[] = [];
      if (rate !== null && rate !== clip.sampleRate) {
        for (let i = 0; i < opts.repeats; i++) {
          const a = performance.now();
          resample(clip.samples, clip.sampleRate, rate);
          rs.push(performance.now() - a);
        }
      }
      let usCal: number | null = null;
      if (clf.calibration) {
        const spec = clf.features(clip);
        const probs = await clf.rawProbabilitiesOf(spec);
        const reps = 20000;
        const a = performance.now();
        for (let i = 0; i < reps; i++) clf.calibrated(probs, spec);
        usCal = ((performance.now() - a) * 1000) / reps;
      }
      const r: PredictBenchResult = {
        model: note,
        backend,
        files: n,
        audioSec: +audioSec.toFixed(2),
        filesPerSec: +((n / total) * 1000).toFixed(2),
        realTimeFactor: +(total / 1000 / audioSec).toFixed(4),
        msPerFile: { decode: +(t.decode / n).toFixed(2), features: +(t.features / n).toFixed(2), model: +(t.model / n).toFixed(2), total: +(total / n).toFixed(2) },
        cpuMsPerFile: +(cpuMs / n).toFixed(2),
        msPer6sClip: +median(all).toFixed(2),
        msPer6sClipFeatures: +median(fe).toFixed(2),
        msPer6sClipModel: +median(mo).toFixed(2),
        msPer6sClipResample: rs.length ? +median(rs).toFixed(2) : null,
        usCalibration: usCal === null ? null : +usCal.toFixed(3),
      };
      clf.dispose();
      if (opts.json) {
        console.log(JSON.stringify({ data: dataDir ?? 'synthetic', ...r }));
        return;
      }
      console.log(`model: ${r.model} · backend ${r.backend} · data ${dataDir ?? 'synthetic clips'}`);
      console.log(`${r.files} files, ${r.audioSec} s of audio: ${r.filesPerSec} files/s, real-time factor ${r.realTimeFactor} (${(1 / r.realTimeFactor).toFixed(0)}× faster than real time)`);
      console.log(`per file: decode ${r.msPerFile.decode} ms + features ${r.msPerFile.features} ms + model ${r.msPerFile.model} ms = ${r.msPerFile.total} ms wall (${r.cpuMsPerFile} ms CPU)`);
      console.log(`6-s clip (44.1 kHz): ${r.msPer6sClip} ms (features ${r.msPer6sClipFeatures} ms, model ${r.msPer6sClipModel} ms; median of ${opts.repeats})`);
      if (r.msPer6sClipResample !== null) console.log(`  of which resampling 44.1 kHz → ${rate} Hz: ${r.msPer6sClipResample} ms`);
      if (r.usCalibration !== null) console.log(`calibration (${describeCalibration(clf.calibration)}): ${r.usCalibration} µs per prediction`);
    });
}
