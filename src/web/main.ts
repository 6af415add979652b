/**
 * The web app: choose/drop a file or record from the microphone; the model runs in the page (tfjs
 * wasm) with the same feature code as the CLI, or — in server mode — the audio is posted to
 * /api/predict. Shows waveform, log-mel, probability bars and, for audio longer than 6 s, the
 * voice-activity timeline (`data-timeline-segments` on #timeline); while recording from the
 * microphone, a rolling timeline computed in the page.
 * The result element carries `data-emotion="<label>"` (and `data-probabilities` as JSON).
 */
import { encodeWav } from '../audio/wav.js';
import type { AudioData } from '../audio/types.js';
import type { ClassifierCore } from '../infer/core.js';
import { predictClip, TimelineStream, type ClipAnswer, type StreamSegment, type TimelineSegment } from '../infer/timeline.js';
import { decodeAudioSync } from '../audio/decode.js';
import { extractFeatures } from '../features/pipeline.js';
import { describeError, SerError } from '../util/errors.js';
import { backendName, loadBrowserClassifier } from './model.js';
import { drawSpectrogram, drawWaveform, emotionColor, renderBars, renderRobustness, renderTimeline, type ConditionEstimate } from './render.js';

/** Audio longer than this (seconds) gets the voice-activity timeline (and its whole-file answer). */
const TIMELINE_MIN_SEC = 6;

interface Result extends ClipAnswer {
  mode: 'browser' | 'server';
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (s: string) => ($('status').textContent = s);

let clf: ClassifierCore | null = null;
const ready = loadBrowserClassifier()
  .then((c) => {
    clf = c;
    status(`Model ready · ${backendName()} backend`);
    const m = c.metadata as { arch?: string; recipe?: unknown; metrics?: Record<string, unknown> };
    const recipe = typeof m.recipe === 'string' ? m.recipe : (m.recipe as { name?: string } | undefined)?.name;
    const val = (m.metrics?.validation ?? null) as { accuracy?: number; uar?: number } | null;
    const matrix = (m.metrics?.unseenSpeakerEstimate as { conditions?: Record<string, ConditionEstimate> } | undefined)?.conditions;
    const unseen = matrix?.original?.accuracy;
    const score = typeof unseen === 'number'
      ? ` · ≈ ${(unseen * 100).toFixed(0)}% on a speaker it never heard`
      : val && typeof val.uar === 'number' ? ` · validation UAR ${(val.uar * 100).toFixed(1)}%` : '';
    $('model-info').textContent = `${m.arch ?? 'model'}${recipe ? ` (${recipe})` : ''} · labels ${c.labels.join(', ')}${score}`;
    if (matrix && Object.keys(matrix).length > 0) {
      renderRobustness($('robustness-table'), matrix);
      $('robustness').classList.remove('hidden');
    }
    return c;
  })
  .catch((e) => {
    status('Model failed to load — server mode only');
    showError(`Could not load the model in the browser: ${describeError(e)}`);
    $<HTMLInputElement>('server-mode').checked = true;
    return null;
  });

/** Hooks for tests and the curious: `await window.serApp.ready`, `window.serApp.last`. */
(window as unknown as { serApp: unknown }).serApp = {
  ready,
  get last() {
    return lastResult;
  },
};
let lastResult: Result | null = null;

function showError(msg: string): void {
  const el = $('error');
  el.textContent = msg;
  el.classList.remove('hidden');
}

/**
 * Decodes with the project's WAV/FLAC decoders (audio/decode.ts, as the CLI does); other formats
 * through WebAudio (resampled) instead of bundling audio-decode.
 */
async function decode(bytes: Uint8Array, name: string): Promise<AudioData> {
  try {
    return decodeAudioSync(bytes, name);
  } catch (e) {
    if (!(e instanceof SerError) || (e.code !== 'audio/not-audio' && e.code !== 'audio/unsupported-encoding')) throw e;
  }
  const ctx = new OfflineAudioContext(1, 1, 44100);
  let buf: AudioBuffer;
  try {
    buf = await ctx.decodeAudioData(bytes.slice().buffer);
  } catch {
    throw new SerError('audio/not-audio', `${name}: the browser cannot decode this file`);
  }
  const out = new Float32Array(buf.length);
  for (let c = 0; c < buf.numberOfChannels; c++) {
    const d = buf.getChannelData(c);
    for (let i = 0; i < out.length; i++) out[i] += d[i] / buf.numberOfChannels;
  }
  return { samples: out, sampleRate: buf.sampleRate, channels: buf.numberOfChannels, source: name };
}

async function predictInBrowser(audio: AudioData): Promise<Result> {
  const c = clf ?? (await ready);
  if (!c) throw new SerError('model/unavailable', 'the model is not loaded in the browser; use server mode');
  const durationSec = audio.samples.length / audio.sampleRate;
  return { ...(await predictClip(c, audio, { vad: durationSec > TIMELINE_MIN_SEC, minConfidence: minConfidence() })), mode: 'browser' };
}

async function predictOnServer(bytes: Uint8Array, name: string, durationSec: number | null): Promise<Result> {
  const params = new URLSearchParams({ minConfidence: String(minConfidence()) });
  if (durationSec === null || durationSec > TIMELINE_MIN_SEC) params.set('timeline', '1');
  const res = await fetch(`/api/predict?${params}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-filename': encodeURIComponent(name) },
    body: new Uint8Array(bytes),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return { ...body, mode: 'server' };
}

/** The "Min. confidence" field: below it the answer is "uncertain" (0 = always a label). */
function minConfidence(): number {
  const v = Number($<HTMLInputElement>('min-confidence').value);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

function show(result: Result, audio: AudioData | null): void {
  lastResult = result;
  const el = $('result');
  el.classList.remove('hidden');
  el.dataset.emotion = result.emotion;
  el.dataset.probabilities = JSON.stringify(result.probabilities);
  el.dataset.mode = result.mode;
  const em = $('emotion');
  em.textContent = result.emotion;
  em.style.color = emotionColor(result.emotion);
  $('meta').innerHTML = '';
  $('meta').append(
    `${result.durationSec.toFixed(2)} s`,
    ...(result.confidence !== undefined ? [` · confidence ${(result.confidence * 100).toFixed(0)}%`] : []),
    document.createElement('br'),
    result.mode === 'browser' ? `computed in your browser (${backendName()})` : 'computed on the server',
  );
  renderBars($('bars'), result.probabilities, result.emotion);
  const tw = $('timeline-wrap');
  $('timeline-detail').classList.add('hidden');
  if (result.timeline) {
    tw.classList.remove('hidden');
    renderTimeline($('timeline'), $('timeline-axis'), result.timeline, { onSelect: showSegment });
  } else {
    tw.classList.add('hidden');
    delete $('timeline').dataset.timelineSegments;
  }
  if (audio) {
    drawWaveform($<HTMLCanvasElement>('wave'), audio.samples);
    const params = clf?.featureParams;
    if (params) {
      try {
        drawSpectrogram($<HTMLCanvasElement>('spec'), extractFeatures(audio, params));
      } catch {
        /* too short to draw: the error is already shown by prediction */
      }
    }
  }
}

/** The probabilities of one timeline segment (click on the timeline). */
function showSegment(s: TimelineSegment): void {
  const box = $('timeline-detail');
  box.classList.remove('hidden');
  box.querySelector('.what')!.textContent = `${s.start.toFixed(2)}–${s.end.toFixed(2)} s: ${s.emotion} (confidence ${((s.confidence ?? 0) * 100).toFixed(1)}%)`;
  renderBars(box.querySelector('.bars') as HTMLElement, s.probabilities ?? {}, s.emotion ?? '');
  $('timeline').querySelectorAll('.seg').forEach((el) => {
    (el as HTMLElement).classList.toggle('selected', (el as HTMLElement).dataset.start === String(s.start));
  });
}

/** While recording: the rolling timeline of what was said so far (computed in the page). */
function showLive(segments: StreamSegment[], heardSec: number): void {
  $('result').classList.remove('hidden');
  $('timeline-wrap').classList.remove('hidden');
  $('emotion').textContent = segments.length ? `${segments[segments.length - 1]!.emotion} …` : 'listening…';
  $('emotion').style.color = emotionColor(segments[segments.length - 1]?.emotion ?? null);
  renderTimeline($('timeline'), $('timeline-axis'), { segments, durationSec: Math.max(heardSec, 5) }, { live: true, onSelect: showSegment });
}

async function handleBytes(bytes: Uint8Array, name: string): Promise<void> {
  $('error').classList.add('hidden');
  const serverMode = $<HTMLInputElement>('server-mode').checked;
  status(`Analysing ${name}…`);
  const t0 = performance.now();
  try {
    let audio: AudioData | null = null;
    try {
      audio = await decode(bytes, name);
    } catch (e) {
      if (!serverMode) throw e;
    }
    const result = serverMode
      ? await predictOnServer(bytes, name, audio ? audio.samples.length / audio.sampleRate : null)
      : await predictInBrowser(audio!);
    show(result, audio);
    status(`${name} · ${(performance.now() - t0).toFixed(0)} ms · ${result.mode}`);
  } catch (e) {
    $('result').classList.add('hidden');
    delete $('result').dataset.emotion;
    showError(describeError(e));
    status('Failed');
  }
}

async function handleFile(file: File): Promise<void> {
  await handleBytes(new Uint8Array(await file.arrayBuffer()), file.name);
}

// ---- file input and drag & drop
$<HTMLInputElement>('file').addEventListener('change', (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (f) void handleFile(f);
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files?.[0];
  if (f) void handleFile(f);
});

// ---- microphone: raw PCM at the context rate, encoded as WAV so both modes see the same bytes
let recording: { stop: () => Promise<void> } | null = null;
$('record').addEventListener('click', async () => {
  const btn = $('record');
  if (recording) {
    const r = recording;
    recording = null;
    btn.classList.remove('recording');
    btn.textContent = '● Record';
    await r.stop();
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    const ctx = new AudioContext();
    const src = ctx.createMediaStreamSource(stream);
    const proc = ctx.createScriptProcessor(4096, 1, 1);
    const chunks: Float32Array[] = [];
    // rolling timeline: the same TimelineStream as `ser listen` and /api/stream, in the page
    const c = clf ?? (await ready);
    const live = c ? new TimelineStream(c, ctx.sampleRate) : null;
    const liveSegments: StreamSegment[] = [];
    let chain = Promise.resolve();
    // the previous result's details do not belong to the live view
    $('timeline-detail').classList.add('hidden');
    $('bars').replaceChildren();
    $('meta').textContent = 'live · computed in your browser';
    showLive(liveSegments, 0);
    proc.onaudioprocess = (e) => {
      const chunk = new Float32Array(e.inputBuffer.getChannelData(0));
      chunks.push(chunk);
      if (!live) return;
      const at = performance.now();
      chain = chain
        .then(async () => {
          liveSegments.push(...(await live.push(chunk, at)));
          if (recording) showLive(liveSegments, live.receivedSec);
        })
        .catch(() => undefined);
    };
    src.connect(proc);
    proc.connect(ctx.destination);
    btn.classList.add('recording');
    btn.textContent = '■ Stop';
    status('Recording… click Stop when done');
    recording = {
      stop: async () => {
        proc.disconnect();
        src.disconnect();
        await chain;
        stream.getTracks().forEach((t) => t.stop());
        const n = chunks.reduce((a, c) => a + c.length, 0);
        const samples = new Float32Array(n);
        let off = 0;
        for (const c of chunks) {
          samples.set(c, off);
          off += c.length;
        }
        const rate = ctx.sampleRate;
        await ctx.close();
        await handleBytes(encodeWav(samples, rate, { encoding: 'float32' }), 'recording.wav');
      },
    };
  } catch (e) {
    showError(`Microphone unavailable: ${describeError(e)}`);
  }
});
