/**
 * Voice-activity detection: where in a recording someone speaks. Browser-safe (no node: imports) and
 * streaming by construction — `VadStream` takes samples as they arrive and reports each speech region
 * once it is finished; `detectSpeech` runs the same stream over a whole clip, so a file and a live
 * stream of the same audio give the same regions.
 *
 * Why our own and not an npm package: the maintained neural VADs on npm (@ricky0123/vad-web /
 * vad-node, wrapping Silero) need onnxruntime-web/-node (≈ 10–25 MB of wasm/native code) and ship
 * their model as a separate asset fetched at run time in the browser; nothing smaller runs offline in
 * both Node and the browser. The problem here is narrower (speech against silence or steady noise in
 * recordings of one speaker at a time), and a classic detector does it in ~200 lines at < 1 % of
 * real time, measured in `ser evaluate --timeline` (BENCHMARKS.md):
 *
 *  - every 10 ms, a 25 ms Hann frame → power spectrum (the project's `realFft`);
 *  - band level: power in 150–4000 Hz (where voiced speech lives; hum and hiss outside are ignored),
 *    in dB re full scale (a full-scale sine in the band ≈ −3 dB);
 *  - spectral flatness in the same band (geometric / arithmetic mean of the power): voiced speech is
 *    harmonic (low flatness), white-ish noise is flat (high);
 *  - an adaptive noise floor: the minimum of the 50-ms-smoothed band level over the last `floorSec`
 *    (minimum statistics — follows a rising or falling background, needs no silence at the start
 *    once a few seconds have passed);
 *  - a frame is active when its level is `thresholdDb` above the floor, above `absoluteDb`, within
 *    `rangeDb` of the loudest smoothed level of the same window, and its
 *    flatness is below `maxFlatness` (or it is `loudDb` above the floor, whatever the flatness);
 *  - hangover: a region stays open through pauses shorter than `minSilenceSec` and closes after that
 *    much inactivity; regions with less than `minSpeechSec` of active frames are dropped (clicks);
 *  - boundaries are the first / last active frame, padded by `padSec`;
 *  - regions longer than `maxRegionSec` are cut at the quietest frame between `cutMinSec` and
 *    `cutMaxSec` from their start (and so on), so no region outgrows what a classifier of single
 *    utterances handles — decided online, so streaming emits long speech without waiting for its end.
 */
import { realFft, type RealFft } from '../dsp/rfft.js';
import { hannWindow } from '../dsp/window.js';
import { SerError } from '../util/errors.js';
import type { AudioData } from './types.js';

/** Tuning of the detector; every field has a default (`VAD_DEFAULTS`). */
export interface VadOptions {
  /** Analysis frame length and hop (seconds). */
  frameSec?: number;
  hopSec?: number;
  /** Band whose level and flatness are measured (Hz). */
  lowHz?: number;
  highHz?: number;
  /** Level above the noise floor that makes a frame active (dB). */
  thresholdDb?: number;
  /** Level above the floor that counts as speech whatever the flatness (dB). */
  loudDb?: number;
  /** Frames quieter than this (dB re full scale) are never speech. */
  absoluteDb?: number;
  /** Frames more than this below the loudest (smoothed) level of the last `floorSec` are never speech (dB). */
  rangeDb?: number;
  /** Largest spectral flatness (0–1) of an active frame. */
  maxFlatness?: number;
  /** Window of the minimum-statistics noise floor (seconds). */
  floorSec?: number;
  /** Pauses shorter than this stay inside a region (hangover, seconds). */
  minSilenceSec?: number;
  /** Regions with less active time than this are dropped (seconds). */
  minSpeechSec?: number;
  /** Padding added before and after each region (seconds). */
  padSec?: number;
  /** Regions are cut when they grow longer than this (seconds; Infinity = never). */
  maxRegionSec?: number;
  /** A cut falls at the quietest frame this far from the region's start (seconds). */
  cutMinSec?: number;
  cutMaxSec?: number;
}

export const VAD_DEFAULTS: Readonly<Required<VadOptions>> = Object.freeze({
  frameSec: 0.025,
  hopSec: 0.01,
  lowHz: 150,
  highHz: 4000,
  thresholdDb: 12,
  loudDb: 25,
  absoluteDb: -65,
  rangeDb: 50,
  maxFlatness: 0.45,
  floorSec: 5,
  minSilenceSec: 0.4,
  minSpeechSec: 0.2,
  padSec: 0,
  maxRegionSec: 6,
  cutMinSec: 2.5,
  cutMaxSec: 4.5,
});

/** One speech region in seconds from the start of the stream. `cut` marks an end made by `maxRegionSec`. */
export interface SpeechRegion {
  start: number;
  end: number;
  /** The region was cut here because it grew too long (speech goes on). */
  cutEnd?: true;
  /** The region starts at such a cut. */
  cutStart?: true;
}

/** Per-frame measurements (exposed for tests and plots). */
export interface VadFrame {
  levelDb: number;
  flatness: number;
  floorDb: number;
  active: boolean;
}

/**
 * A streaming voice-activity detector at a fixed sample rate. `push(samples)` returns the regions
 * that finished with this chunk; `flush()` ends the stream and returns the open region, if any.
 */
export class VadStream {
  readonly sampleRate: number;
  readonly opts: Readonly<Required<VadOptions>>;
  private readonly frameLen: number;
  private readonly hop: number;
  private readonly fft: RealFft;
  private readonly window: Float64Array;
  private readonly loBin: number;
  private readonly hiBin: number;
  private readonly norm: number;
  /** Samples not yet consumed by a frame: [bufStart, bufStart + buf.length) of the stream. */
  private buf = new Float32Array(0);
  private bufStart = 0;
  /** Next frame index. */
  private frame = 0;
  private readonly smoothLen = 5;
  private readonly recent: number[] = [];
  /** Monotonic deque (frame, smoothed level) for the sliding minimum. */
  private readonly minQ: Array<[number, number]> = [];
  /** The same for the sliding maximum. */
  private readonly maxQ: Array<[number, number]> = [];
  private readonly floorFrames: number;
  /** Open region: first active frame, last active frame, active frame count; per-frame levels since start. */
  private open: { first: number; last: number; active: number; cutStart: boolean; levels: number[]; startSample?: number } | null = null;
  private readonly onFrame?: (f: VadFrame) => void;
  private ended = false;

  constructor(sampleRate: number, options: VadOptions = {}, onFrame?: (f: VadFrame) => void) {
    if (!(sampleRate >= 4000) || !Number.isFinite(sampleRate)) {
      throw new SerError('audio/bad-rate', `voice activity detection needs a sample rate of at least 4000 Hz, got ${sampleRate}`);
    }
    const o = { ...VAD_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<VadOptions>;
    if (!(o.hopSec > 0) || !(o.frameSec >= o.hopSec) || !(o.minSilenceSec >= 0) || !(o.cutMaxSec > o.cutMinSec) || !(o.maxRegionSec > o.cutMaxSec)) {
      throw new SerError('infer/bad-option', 'voice activity options: need frameSec ≥ hopSec > 0, minSilenceSec ≥ 0 and cutMinSec < cutMaxSec < maxRegionSec');
    }
    this.sampleRate = sampleRate;
    this.opts = Object.freeze(o);
    this.frameLen = Math.max(16, Math.round(o.frameSec * sampleRate));
    this.hop = Math.max(1, Math.round(o.hopSec * sampleRate));
    let n = 16;
    while (n < this.frameLen) n *= 2;
    this.fft = realFft(n);
    // the window padded with zeros to the FFT size
    this.window = new Float64Array(n);
    this.window.set(hannWindow(this.frameLen));
    let w2 = 0;
    for (let i = 0; i < this.frameLen; i++) w2 += this.window[i]! ** 2;
    // one-sided band power / (N Σw²) ≈ mean square of the in-band signal
    this.norm = 2 / (n * w2);
    this.loBin = Math.max(1, Math.floor((o.lowHz * n) / sampleRate));
    this.hiBin = Math.min(n >> 1, Math.ceil((Math.min(o.highHz, sampleRate / 2) * n) / sampleRate));
    this.floorFrames = Math.max(1, Math.round(o.floorSec / o.hopSec));
    this.onFrame = onFrame;
  }

  /** Seconds of audio consumed by frames so far. */
  get processedSec(): number {
    return (this.frame * this.hop) / this.sampleRate;
  }

  /** Stream time (seconds) where the region being detected starts (before padding), or null. */
  get openSince(): number | null {
    if (!this.open) return null;
    return (this.open.startSample ?? this.open.first * this.hop) / this.sampleRate;
  }

  /** Feeds samples; returns the speech regions finished by them (in order). */
  push(samples: Float32Array): SpeechRegion[] {
    if (this.ended) throw new SerError('infer/stream-ended', 'voice activity stream already flushed');
    const out: SpeechRegion[] = [];
    const joined = new Float32Array(this.buf.length + samples.length);
    joined.set(this.buf);
    joined.set(samples, this.buf.length);
    let pos = 0; // offset in joined of the next frame's start
    while (pos + this.frameLen <= joined.length) {
      this.step(joined, pos, out);
      pos += this.hop;
    }
    this.buf = joined.slice(pos);
    this.bufStart += pos;
    return out;
  }

  /** Ends the stream: the open region (if long enough) is returned as finished. */
  flush(): SpeechRegion[] {
    if (this.ended) return [];
    this.ended = true;
    const out: SpeechRegion[] = [];
    // the tail shorter than a frame: one zero-padded frame so the last ~frameLen of audio is seen
    if (this.buf.length > 0) {
      const last = new Float32Array(this.frameLen);
      last.set(this.buf.subarray(0, this.frameLen));
      this.step(last, 0, out);
    }
    if (this.open) this.close(out, this.bufStart + this.buf.length);
    return out;
  }

  private step(x: Float32Array, pos: number, out: SpeechRegion[]): void {
    const f = this.frame++;
    const { fft, loBin, hiBin } = this;
    fft.forwardWindowed(x, pos, this.window, 0, x.length, hiBin + 1);
    let sum = 0;
    let logSum = 0;
    for (let k = loBin; k <= hiBin; k++) {
      const p = fft.outRe[k]! ** 2 + fft.outIm[k]! ** 2 + 1e-20;
      sum += p;
      logSum += Math.log(p);
    }
    const nb = hiBin - loBin + 1;
    const flatness = Math.exp(logSum / nb) / (sum / nb);
    const levelDb = Math.max(-120, 10 * Math.log10(sum * this.norm + 1e-12));
    // 50-ms smoothed level (power average) for the floor
    this.recent.push(10 ** (levelDb / 10));
    if (this.recent.length > this.smoothLen) this.recent.shift();
    const smooth = 10 * Math.log10(this.recent.reduce((a, b) => a + b, 0) / this.recent.length);
    const q = this.minQ;
    while (q.length && q[q.length - 1]![1] >= smooth) q.pop();
    q.push([f, smooth]);
    while (q[0]![0] <= f - this.floorFrames) q.shift();
    const floorDb = q[0]![1];
    const mq = this.maxQ;
    while (mq.length && mq[mq.length - 1]![1] <= smooth) mq.pop();
    mq.push([f, smooth]);
    while (mq[0]![0] <= f - this.floorFrames) mq.shift();
    const topDb = mq[0]![1];
    const o = this.opts;
    const above = levelDb - floorDb;
    const active = levelDb > o.absoluteDb && levelDb > topDb - o.rangeDb && (above > o.loudDb || (above > o.thresholdDb && flatness < o.maxFlatness));
    this.onFrame?.({ levelDb, flatness, floorDb, active });

    const frameStart = this.bufStart + pos; // sample index of this frame in the stream
    if (this.open) this.open.levels.push(levelDb);
    if (active) {
      if (!this.open) this.open = { first: f, last: f, active: 0, cutStart: false, levels: [levelDb] };
      this.open.last = f;
      this.open.active++;
    }
    const r = this.open;
    if (!r) return;
    const silenceFrames = f - r.last;
    if (!active && silenceFrames * this.hop >= o.minSilenceSec * this.sampleRate) {
      this.close(out, frameStart + this.frameLen);
      return;
    }
    // too long: cut at the quietest frame within [cutMin, cutMax] of the region's start
    if ((f - r.first + 1) * this.hop >= o.maxRegionSec * this.sampleRate) {
      const a = Math.round((o.cutMinSec * this.sampleRate) / this.hop);
      const b = Math.min(r.levels.length - 1, Math.round((o.cutMaxSec * this.sampleRate) / this.hop));
      let cut = a;
      for (let i = a; i <= b; i++) if (r.levels[i]! < r.levels[cut]!) cut = i;
      const cutSample = (r.first + cut) * this.hop + (this.frameLen >> 1);
      out.push(this.region(r.startSample ?? r.first * this.hop, cutSample, r.cutStart, true));
      const first = r.first + cut + 1;
      this.open = { first, last: Math.max(first, r.last), active: r.active, cutStart: true, levels: r.levels.slice(cut + 1), startSample: cutSample };
    }
  }

  /** Emits the open region ending at its last active frame (if it holds enough speech). */
  private close(out: SpeechRegion[], limitSample: number): void {
    const r = this.open!;
    this.open = null;
    const o = this.opts;
    if (!r.cutStart && r.active * this.hop < o.minSpeechSec * this.sampleRate) return;
    const endSample = Math.min(limitSample, r.last * this.hop + this.frameLen);
    out.push(this.region(r.startSample ?? r.first * this.hop, endSample, r.cutStart, false));
  }

  private region(startSample: number, endSample: number, cutStart: boolean, cutEnd: boolean): SpeechRegion {
    const sr = this.sampleRate;
    const pad = this.opts.padSec;
    const reg: SpeechRegion = {
      start: cutStart ? startSample / sr : Math.max(0, startSample / sr - pad),
      end: cutEnd ? endSample / sr : endSample / sr + pad,
    };
    if (cutStart) reg.cutStart = true;
    if (cutEnd) reg.cutEnd = true;
    return reg;
  }
}

/** The speech regions of a whole clip (the streaming detector run over it; ends clipped to the clip). */
export function detectSpeech(audio: AudioData, options: VadOptions = {}): SpeechRegion[] {
  const vad = new VadStream(audio.sampleRate, options);
  const regions = [...vad.push(audio.samples), ...vad.flush()];
  const dur = audio.samples.length / audio.sampleRate;
  for (const r of regions) r.end = Math.min(dur, r.end);
  return regions;
}
