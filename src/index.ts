/**
 * speech-emotion, the library. One call for the common case:
 *
 *   import { Classifier } from 'speech-emotion';
 *   const clf = await Classifier.load();            // the bundled model, or Classifier.load('path/to/model')
 *   const { emotion, probabilities } = await clf.predictFile('clip.wav');
 *
 * The building blocks follow the data flow (see ARCHITECTURE.md).
 */
export { Classifier, ClassifierCore, UNCERTAIN, type Prediction, type PredictOptions, type TimelineWindow } from './infer/index.js';
export { loadAudio, decodeAudio } from './audio/load.js';
export type { AudioData } from './audio/types.js';
export { resample } from './audio/resample.js';
export { reduceNoise } from './audio/denoise.js';
export { peakNormalize } from './audio/normalize.js';
export { extractFeatures, featureKey } from './features/pipeline.js';
export { melFilterbank } from './features/mel.js';
export { powerToDb } from './features/db.js';
export { DEFAULT_FEATURE_PARAMS, featureParams, type FeatureParams } from './features/params.js';
export type { Spectrogram } from './features/types.js';
export { scanCorpus } from './data/corpus.js';
export { stratifiedSplit, leaveOneSpeakerOut } from './data/splits.js';
export { RECIPES, getRecipe, type Recipe } from './train/recipes.js';
export { SerError } from './util/errors.js';
