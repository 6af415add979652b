/** Dependency-free SVG chart builders. Each returns a complete `<svg>` string. */
export { barChart, type BarChartOptions } from './bar.js';
export { histogram, histogramBins, type Histogram, type HistogramOptions } from './histogram.js';
export { lineChart, type LineSeries, type LineChartOptions } from './line.js';
export { confusionMatrix, type ConfusionMatrixOptions } from './confusion.js';
export { waveform, type WaveformOptions } from './waveform.js';
export { escapeXml, niceTicks, niceRange, PALETTE, colorAt, type ChartOptions } from './svg.js';
