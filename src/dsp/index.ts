/** Pure numeric DSP: FFT plans, windows, STFT/ISTFT, frame helpers. */
export * from './fft.js';
export * from './rfft.js';
export * from './window.js';
export * from './frame.js';
export * from './stft.js';
