/**
 * An ensemble in one model folder: K separately trained one-member `ser-mlp` models (same
 * standardisation, different seeds) become one `ser-mlp` model with `members: K`, whose output is
 * the mean of the members' softmax probabilities — what leave-one-speaker-out scores when it
 * averages K seeds, so the bundled model is the model that was measured.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel, type ArchOptions } from './architectures.js';
import { SerError } from '../util/errors.js';

/** Builds the K-member model and copies every member's weights into its tower. */
export function assembleMlpEnsemble(members: readonly tfl.LayersModel[], archOptions: ArchOptions): tfl.LayersModel {
  const K = members.length;
  if (K < 2) throw new SerError('model/bad-options', `an ensemble needs at least 2 members, got ${K}`);
  const model = buildModel('ser-mlp', { ...archOptions, members: K }, 1);
  const std = members[0]!.getLayer('standardize').getWeights();
  for (const m of members.slice(1)) {
    const w = m.getLayer('standardize').getWeights();
    const same = w.every((t, i) => {
      const a = t.dataSync(), b = std[i]!.dataSync();
      return a.length === b.length && a.every((v, j) => v === b[j]);
    });
    if (!same) throw new SerError('model/bad-options', 'ensemble members must share one input standardisation (train them on the same augmented data)');
  }
  model.getLayer('standardize').setWeights(std);
  members.forEach((m, k) => {
    for (const name of ['hidden', 'logits']) model.getLayer(`${name}_${k}`).setWeights(m.getLayer(name).getWeights());
  });
  return model;
}
