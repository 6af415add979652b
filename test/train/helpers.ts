/** Small generated data and a tiny deterministic pure-JS trainer for loop tests. */
import type { Spectrogram } from '../../src/features/types.js';
import type { TrainData } from '../../src/train/loop.js';
import type { Trainer, TrainerFactory } from '../../src/train/trainer.js';
import { createRng } from '../../src/util/rng.js';

/** `perClass` spectrograms per class: class c has energy in band c (plus noise), lengths 6..20 frames. */
export function toyData(k = 3, perClass = 6, nMels = 8, seed = 1): TrainData {
  const rng = createRng(seed);
  const specs: Spectrogram[] = [];
  const labels: number[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < perClass; i++) {
      const frames = 6 + rng.int(15);
      const data = new Float32Array(nMels * frames);
      for (let m = 0; m < nMels; m++) for (let t = 0; t < frames; t++) data[m * frames + t] = -60 + 10 * rng.normal() + (m === c ? 40 : 0);
      specs.push({ data, nMels, frames });
      labels.push(c);
    }
  }
  return { specs, labels, labelNames: Array.from({ length: k }, (_, i) => `c${i}`) };
}

/** Softmax regression on the time-mean of each band, plain SGD. Deterministic. */
export const linearTrainerFactory: TrainerFactory = async (spec) => {
  const k = spec.archOptions.numClasses!;
  const d = spec.archOptions.rows!;
  const rng = createRng(spec.seed);
  let W = Float32Array.from({ length: k * d }, () => 0.01 * rng.normal());
  let b = new Float32Array(k);
  let lr = spec.lr;
  let step = 0;
  const feat = (s: Spectrogram): Float32Array => {
    const f = new Float32Array(d);
    for (let m = 0; m < d; m++) {
      let a = 0;
      for (let t = 0; t < s.frames; t++) a += s.data[m * s.frames + t]!;
      f[m] = a / Math.max(1, s.frames);
    }
    return f;
  };
  const probs = (f: Float32Array): Float32Array => {
    const z = new Float32Array(k);
    for (let c = 0; c < k; c++) {
      let a = b[c]!;
      for (let m = 0; m < d; m++) a += W[c * d + m]! * f[m]!;
      z[c] = a;
    }
    const mx = Math.max(...z);
    let s = 0;
    for (let c = 0; c < k; c++) s += (z[c] = Math.exp(z[c]! - mx));
    for (let c = 0; c < k; c++) z[c] = z[c]! / s;
    return z;
  };
  const t: Trainer = {
    threads: 1,
    async trainBatch(specs, targets) {
      const gW = new Float32Array(W.length);
      const gb = new Float32Array(k);
      let loss = 0;
      specs.forEach((s, i) => {
        const f = feat(s);
        const p = probs(f);
        for (let c = 0; c < k; c++) {
          const y = targets[i * k + c]!;
          loss -= y * Math.log(Math.max(1e-12, p[c]!));
          const g = (p[c]! - y) / specs.length;
          gb[c]! += g;
          for (let m = 0; m < d; m++) gW[c * d + m]! += g * f[m]!;
        }
      });
      for (let i = 0; i < W.length; i++) W[i]! -= lr * gW[i]!;
      for (let c = 0; c < k; c++) b[c]! -= lr * gb[c]!;
      step++;
      return loss / specs.length;
    },
    async predict(specs) {
      return specs.map((s) => probs(feat(s)));
    },
    async getState() {
      return { W: new Float32Array(W), b: new Float32Array(b), step, lr };
    },
    async setState(s) {
      const st = s as { W: Float32Array; b: Float32Array; step: number; lr: number };
      W = new Float32Array(st.W);
      b = new Float32Array(st.b);
      step = st.step;
      lr = st.lr;
    },
    setLearningRate(x) {
      lr = x;
    },
    dispose() {},
  };
  return t;
};

/** A 16-bit PCM mono WAV file's bytes. */
export function wavBytes(samples: Float32Array, sampleRate: number): Uint8Array {
  const n = samples.length;
  const buf = new Uint8Array(44 + 2 * n);
  const dv = new DataView(buf.buffer);
  const str = (o: number, s: string) => [...s].forEach((c, i) => dv.setUint8(o + i, c.charCodeAt(0)));
  str(0, 'RIFF');
  dv.setUint32(4, 36 + 2 * n, true);
  str(8, 'WAVE');
  str(12, 'fmt ');
  dv.setUint32(16, 16, true);
  dv.setUint16(20, 1, true);
  dv.setUint16(22, 1, true);
  dv.setUint32(24, sampleRate, true);
  dv.setUint32(28, sampleRate * 2, true);
  dv.setUint16(32, 2, true);
  dv.setUint16(34, 16, true);
  str(36, 'data');
  dv.setUint32(40, 2 * n, true);
  for (let i = 0; i < n; i++) dv.setInt16(44 + 2 * i, Math.max(-32767, Math.min(32767, Math.round(samples[i]! * 32767))), true);
  return buf;
}

/**
 * Writes a tiny AESDD-named corpus into `dir`: for each emotion a different tone (plus noise),
 * `perEmotion` files per speaker, lengths 0.3–0.6 s at 8 kHz.
 */
export function writeToyCorpus(dir: string, write: (path: string, bytes: Uint8Array) => void, speakers = [1, 2], perEmotion = 3, seed = 3): void {
  const rng = createRng(seed);
  const sr = 8000;
  const freqs: Record<string, number> = { a: 300, d: 600, f: 1200, h: 2000, s: 3000 };
  for (const spk of speakers) {
    for (const [e, f0] of Object.entries(freqs)) {
      for (let i = 1; i <= perEmotion; i++) {
        const n = Math.round(sr * (0.3 + 0.3 * rng.next()));
        const y = new Float32Array(n);
        const f = f0 * (1 + 0.05 * (spk - 1));
        for (let t = 0; t < n; t++) y[t] = 0.5 * Math.sin((2 * Math.PI * f * t) / sr) + 0.05 * rng.normal();
        write(`${dir}/${e}${String(i).padStart(2, '0')} (${spk}).wav`, wavBytes(y, sr));
      }
    }
  }
}
