import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { AESDD_DIR, HAVE_CORPUS, noteCorpusSkip } from '../corpus.js';
import { loadAudio } from '../../src/audio/load.js';
import { featureParams } from '../../src/features/params.js';
import { extractFeatures, utteranceInputs } from '../../src/features/pipeline.js';
import { pitchTrack } from '../../src/features/pitch.js';
import { utteranceStats } from '../../src/features/utterance.js';

noteCorpusSkip('utterance-stats parity with the research prototype');

// values of the research prototype (/work/research stats.py utt_feats(d, 'p95', 32)) for "a01 (1).flac"
const PROTOTYPE_BANDS: Record<number, number> = { 0: -48.78488, 31: -32.94065, 32: 4.82694, 70: -31.29702, 100: 4.54606, 130: 2.49843, 170: 3.41577, 191: 3.67921 };
const PROTOTYPE_PITCH = [0.47321, -1.51359, 0.27684, 1.79043, 0.2223, 0.58556, 0.84358, 0.96089, -12.02213, 7.67169, -23.2316, 7.83707, 4.16279];

describe.skipIf(!HAVE_CORPUS)('utterance stats on AESDD (corpus)', () => {
  it('match the research prototype on a01 (1).flac (prototype pitch: octaveTolerance 0)', async () => {
    const audio = await loadAudio(join(AESDD_DIR, 'a01 (1).flac'));
    const p = featureParams({ preprocess: 'none', representation: 'utterance-stats' });
    const { logMel } = utteranceInputs(audio, p);
    let peak = 0;
    for (const v of audio.samples) peak = Math.max(peak, Math.abs(v));
    const y = Float64Array.from(audio.samples, (v) => v / peak);
    const v = utteranceStats(logMel, pitchTrack(y, audio.sampleRate, { octaveTolerance: 0 }), { bands: 32, levelNorm: 'p95' });
    expect(v.length).toBe(205);
    for (const [i, e] of Object.entries(PROTOTYPE_BANDS)) expect(v[Number(i)]).toBeCloseTo(e, 3);
    PROTOTYPE_PITCH.forEach((e, i) => expect(v[192 + i]).toBeCloseTo(e, 3));
    // the pipeline's own vector (octave guard on) has the same band statistics
    const s = extractFeatures(audio, p);
    for (const [i, e] of Object.entries(PROTOTYPE_BANDS)) expect(s.data[Number(i)]).toBeCloseTo(e, 3);
  });
});
