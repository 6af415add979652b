/**
 * The fidelity test's small fixed data set, generated (no corpus needed): 5 classes of 32-band
 * "spectrograms" of 36–44 frames (variable lengths, as the study's batch-1 input), each class a
 * band of energy at its own height whose level drifts over time, under noise strong enough that the
 * first epochs sit near chance. Written in torch_seed_curve.py's input format (features.f32 + index).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IndexEntry } from '../../src/eval/headline.js';
import { createRng } from '../../src/util/rng.js';

export const FIDELITY = Object.freeze({ classes: 5, nMels: 32, perClassTrain: 12, perClassTest: 8, epochs: 12, seeds: [0, 1, 2, 3, 4] });

export function writeFidelityData(dir: string): { features: string; index: string } {
  const rng = createRng('fidelity-data');
  const labels = ['angry', 'disgust', 'fear', 'happy', 'sad'];
  const data: number[] = [];
  const index: IndexEntry[] = [];
  for (const role of ['train', 'test'] as const) {
    const per = role === 'train' ? FIDELITY.perClassTrain : FIDELITY.perClassTest;
    for (let k = 0; k < per; k++) {
      for (let c = 0; c < FIDELITY.classes; c++) {
        const frames = 36 + rng.int(9);
        const centre = 4 + 6 * c + rng.uniform(-1.5, 1.5);
        const slope = rng.uniform(-0.5, 0.5);
        const offset = data.length;
        for (let m = 0; m < FIDELITY.nMels; m++) {
          for (let t = 0; t < frames; t++) {
            const band = Math.exp(-(((m - centre) / 2) ** 2)) * (1 + slope * (t / frames - 0.5));
            data.push(-40 + 12 * band + 8 * rng.normal());
          }
        }
        index.push({ label: labels[c]!, role, nMels: FIDELITY.nMels, frames, offset, file: `${role}-${c}-${k}`, speaker: '0' });
      }
    }
  }
  const features = join(dir, 'features.f32');
  const idx = join(dir, 'index.json');
  writeFileSync(features, new Uint8Array(new Float32Array(data).buffer));
  writeFileSync(idx, JSON.stringify(index));
  return { features, index: idx };
}
