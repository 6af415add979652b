/** Drawing helpers of the web app: waveform, log-mel image, probability bars, timeline. */
import type { Spectrogram } from '../features/types.js';
import type { Timeline, TimelineSegment } from '../infer/timeline.js';

/** Colour of each emotion (CSS variables of app.css; fallback grey). */
export function emotionColor(label: string | null): string {
  const known = ['angry', 'disgust', 'fear', 'happy', 'sad'];
  return label && known.includes(label) ? `var(--${label})` : 'var(--silent)';
}

/** Min/max envelope of `samples` across the canvas width. */
export function drawWaveform(canvas: HTMLCanvasElement, samples: Float32Array): void {
  const ctx = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#7aa2ff';
  const per = Math.max(1, Math.floor(samples.length / w));
  for (let x = 0; x < w; x++) {
    const start = Math.floor((x * samples.length) / w);
    let lo = 0;
    let hi = 0;
    for (let i = start; i < Math.min(samples.length, start + per); i++) {
      const v = samples[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const y0 = ((1 - hi) / 2) * h;
    const y1 = ((1 - lo) / 2) * h;
    ctx.fillRect(x, y0, 1, Math.max(1, y1 - y0));
  }
}

/** A perceptual dark→bright colour ramp (approximating "magma"), t in [0, 1]. */
export function ramp(t: number): [number, number, number] {
  const stops: Array<[number, number, number]> = [
    [0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** The log-mel image: low frequencies at the bottom, frames left to right, dB range min..max. */
export function drawSpectrogram(canvas: HTMLCanvasElement, spec: Spectrogram): void {
  const { nMels, frames, data } = spec;
  canvas.width = Math.max(1, frames);
  canvas.height = nMels;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(frames, nMels);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < lo) lo = data[i];
    if (data[i] > hi) hi = data[i];
  }
  const span = hi - lo || 1;
  for (let m = 0; m < nMels; m++) {
    const y = nMels - 1 - m;
    for (let t = 0; t < frames; t++) {
      const [r, g, b] = ramp((data[m * frames + t] - lo) / span);
      const o = (y * frames + t) * 4;
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** Bars of every label's probability, highest first marked. */
export function renderBars(el: HTMLElement, probabilities: Record<string, number>, top: string): void {
  el.replaceChildren(
    ...Object.entries(probabilities).map(([label, p]) => {
      const row = document.createElement('div');
      row.className = `bar${label === top ? ' top' : ''}`;
      row.dataset.label = label;
      row.dataset.probability = String(p);
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = label;
      const track = document.createElement('div');
      track.className = 'track';
      const fill = document.createElement('div');
      fill.className = 'fill';
      fill.style.width = `${(p * 100).toFixed(2)}%`;
      fill.style.background = emotionColor(label);
      track.append(fill);
      const pct = document.createElement('span');
      pct.className = 'pct';
      pct.textContent = `${(p * 100).toFixed(1)}%`;
      row.append(name, track, pct);
      return row;
    }),
  );
}

/**
 * The timeline under the waveform: one block per segment, width by duration, coloured by emotion
 * (non-speech grey). Hover shows the segment's probabilities; click calls `onSelect` (the app shows
 * its bars). A finished timeline carries `data-timeline-segments="<speech segments>"`; a live one
 * (still recording) carries `data-live` instead.
 */
export function renderTimeline(
  el: HTMLElement,
  axis: HTMLElement,
  timeline: Pick<Timeline, 'segments' | 'durationSec'>,
  opts: { live?: boolean; onSelect?: (s: TimelineSegment) => void } = {},
): void {
  const duration = Math.max(timeline.durationSec, 1e-3);
  const pct = (p: number) => `${(p * 100).toFixed(1)}%`;
  el.replaceChildren(
    ...timeline.segments.map((s) => {
      const d = document.createElement('div');
      d.className = s.speech ? 'seg speech' : 'seg gap';
      d.style.left = `${(100 * s.start) / duration}%`;
      d.style.width = `${(100 * Math.max(0, Math.min(s.end, duration) - s.start)) / duration}%`;
      d.style.background = emotionColor(s.emotion);
      d.dataset.emotion = s.emotion ?? 'none';
      d.dataset.start = String(s.start);
      d.dataset.end = String(s.end);
      const probs = s.probabilities
        ? Object.entries(s.probabilities)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `${k} ${pct(v)}`)
            .join(', ')
        : '';
      d.title = `${s.start.toFixed(2)}–${s.end.toFixed(2)} s: ${s.speech ? `${s.emotion} (${probs})` : 'no speech'}`;
      if (s.speech) {
        d.textContent = s.end - s.start > duration / 25 ? (s.emotion ?? '') : '';
        d.tabIndex = 0;
        d.addEventListener('click', () => opts.onSelect?.(s));
      }
      return d;
    }),
  );
  const speech = timeline.segments.filter((s) => s.speech).length;
  if (opts.live) {
    el.dataset.live = String(speech);
    delete el.dataset.timelineSegments;
  } else {
    delete el.dataset.live;
    el.dataset.timelineSegments = String(speech);
  }
  const ticks = 5;
  axis.replaceChildren(
    ...Array.from({ length: ticks + 1 }, (_, i) => {
      const t = document.createElement('span');
      t.textContent = `${((duration * i) / ticks).toFixed(1)} s`;
      return t;
    }),
  );
}

/** One condition of a model's unseen-speaker estimate (metadata `metrics.unseenSpeakerEstimate.conditions`). */
export interface ConditionEstimate { accuracy: number; uar?: number; ece?: number; extra?: boolean; description?: string }

/**
 * The model's robustness matrix as a table (condition, accuracy, ECE), in metadata order; extra conditions (never
 * used for any choice) marked †. Each row carries `data-condition`; the table `data-conditions="<rows>"`.
 */
export function renderRobustness(el: HTMLElement, conditions: Record<string, ConditionEstimate>): void {
  const table = document.createElement('table');
  table.className = 'robustness';
  const head = document.createElement('tr');
  for (const h of ['condition', 'accuracy', 'calibration error']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  table.append(head);
  const names = Object.keys(conditions);
  for (const name of names) {
    const c = conditions[name]!;
    const tr = document.createElement('tr');
    tr.dataset.condition = name;
    if (c.description) tr.title = c.description;
    const cells = [`${name}${c.extra ? ' †' : ''}`, `${(100 * c.accuracy).toFixed(1)}%`, typeof c.ece === 'number' ? c.ece.toFixed(3) : '—'];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    table.append(tr);
  }
  table.dataset.conditions = String(names.length);
  const note = document.createElement('p');
  note.className = 'hint';
  note.textContent = 'The same recipe trained without each speaker in turn and scored on that speaker’s recordings re-made under each condition (leave-one-speaker-out): what to expect on a voice the model never heard. Not this model’s own score.' +
    (names.some((n) => conditions[n]!.extra) ? ' † a condition no choice of the recipe or its calibration ever saw.' : '');
  el.replaceChildren(table, note);
}
