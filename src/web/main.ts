/**
 * The web app: choose/drop a file or record from the microphone; the model runs in the page (tfjs
 * wasm) with the same feature code as the CLI, or — in server mode — the audio is posted to
 * /api/predict. Shows waveform, log-mel, probability bars and, for longer audio, a timeline.
 * The result element carries `data-emotion="<label>"` (and `data-probabilities` as JSON).
 */
import { encodeWav } from '../audio/wav.js';
import type { AudioData } from '../audio/types.js';
import type { ClassifierCore, TimelineWindow } from '../infer/core.js';
import { decodeAudioBrowserSafe, extractFeatures } from '../infer/deps.js';
import { describeError, SerError } from '../util/errors.js';
import { backendName, loadBrowserClassifier } from './model.js';
import { drawSpectrogram, drawWaveform, emotionColor, renderBars, renderTimeline } from './render.js';

/** Audio longer than this (seconds) also gets a timeline. */
const TIMELINE_MIN_SEC = 6;
const SEGMENT_SEC = 3;
const HOP_SEC = 1.5;

interface Result {
  emotion: string;
  probabilities: Record<string, number>;
  confidence?: number;
  durationSec: number;
  timeline?: TimelineWindow[];
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
    const score = val && typeof val.uar === 'number' ? ` · validation UAR ${(val.uar * 100).toFixed(1)}%` : '';
    $('model-info').textContent = `${m.arch ?? 'model'}${recipe ? ` (${recipe})` : ''} · labels ${c.labels.join(', ')}${score}`;
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

/** Decodes with the project's WAV/FLAC decoders; other formats through WebAudio (resampled). */
async function decode(bytes: Uint8Array, name: string): Promise<AudioData> {
  try {
    return await decodeAudioBrowserSafe(bytes, name);
  } catch (e) {
    if (!(e instanceof SerError) || e.code !== 'audio/not-audio') throw e;
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
  const p = await c.predictAudio(audio, { minConfidence: minConfidence() });
  const r: Result = { ...p, mode: 'browser' };
  if (p.durationSec > TIMELINE_MIN_SEC) r.timeline = await c.predictTimeline(audio, { segmentSec: SEGMENT_SEC, hopSec: HOP_SEC });
  return r;
}

async function predictOnServer(bytes: Uint8Array, name: string, durationSec: number | null): Promise<Result> {
  const params = new URLSearchParams({ minConfidence: String(minConfidence()) });
  if (durationSec === null || durationSec > TIMELINE_MIN_SEC) { params.set('segments', String(SEGMENT_SEC)); params.set('hop', String(HOP_SEC)); }
  const res = await fetch(`/api/predict?${params}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-filename': encodeURIComponent(name) },
    body: new Uint8Array(bytes),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  if (body.timeline && body.durationSec <= TIMELINE_MIN_SEC) delete body.timeline;
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
  if (result.timeline && result.timeline.length > 1) {
    tw.classList.remove('hidden');
    renderTimeline($('timeline'), $('timeline-axis'), result.timeline, result.durationSec);
  } else tw.classList.add('hidden');
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
    proc.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    src.connect(proc);
    proc.connect(ctx.destination);
    btn.classList.add('recording');
    btn.textContent = '■ Stop';
    status('Recording… click Stop when done');
    recording = {
      stop: async () => {
        proc.disconnect();
        src.disconnect();
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
