import { describe, expect, it } from 'vitest';
import { melRange } from '../../src/features/mel.js';
import { featureParams } from '../../src/features/params.js';

describe('melRange: the Hz range the mel bands span', () => {
  it('fmax as given; fmax null is the Nyquist frequency of the feature rate, or of the file rate', () => {
    expect(melRange(featureParams({ fmin: 20, fmax: 7600 }))).toEqual({ fmin: 20, fmax: 7600 });
    expect(melRange(featureParams({ fmax: null, sampleRate: 16000 }))).toEqual({ fmin: 0, fmax: 8000 });
    expect(melRange(featureParams({ fmax: null, sampleRate: 16000 }), 44100)).toEqual({ fmin: 0, fmax: 8000 });
    expect(melRange(featureParams({ fmax: null, sampleRate: null }), 44100)).toEqual({ fmin: 0, fmax: 22050 });
  });

  it('fmax null without any rate is an error, not a silent 8000', () => {
    expect(() => melRange(featureParams({ fmax: null, sampleRate: null }))).toThrow(/set features.sampleRate or features.fmax/);
  });
});
