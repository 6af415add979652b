/** Features: mel scale, filterbanks, dB, MFCC, deltas, the pipeline and its cache. */
export * from './types.js';
export * from './params.js';
export * from './mel.js';
export * from './db.js';
export * from './melspec.js';
export * from './pipeline.js';
