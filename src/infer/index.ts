/**
 * Inference, public API (Node):
 *
 *   import { Classifier } from 'speech-emotion/infer';
 *   const clf = await Classifier.load();                 // bundled models/default, or a folder
 *   await clf.predictFile('clip.wav');                   // { emotion, probabilities, durationSec }
 *   await clf.predictTimeline(audio, { segmentSec: 3 }); // windows, silent ones marked
 *
 * Browser code imports `ClassifierCore` from './core.js' (no node: imports) instead.
 */
export { Classifier, defaultModelDir, ensureBackend, packageRoot } from './classifier.js';
export { ClassifierCore, checkAudio, SILENCE_DB, UNCERTAIN, type Prediction, type PredictOptions, type TimelineOptions, type TimelineWindow } from './core.js';
export { decodeAudioBrowserSafe, normalizeSpectrogram, type InferMetadata, type Normalization } from './deps.js';
