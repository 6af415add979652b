import { describe, expect, it } from 'vitest';
import { barChart, confusionMatrix, histogram, histogramBins, lineChart, waveform, niceTicks } from '../../src/util/plot/index.js';

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe('SVG charts', () => {
  it('niceTicks gives round steps covering the range', () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
  it('barChart draws one bar per category with labels and values, escaping text', () => {
    const svg = barChart(['angry', 'sad', 'a<b'], [100, 98, 3], { title: 'Files & counts' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(count(svg, /<rect [^>]*><title>/g)).toBe(3);
    expect(svg).toContain('>angry</text>');
    expect(svg).toContain('>98</text>');
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('Files &amp; counts');
  });
  it('histogramBins counts exactly, last bin closed', () => {
    const h = histogramBins([0, 0.5, 1, 1.5, 2, 2], 2, 0, 2);
    expect(h.edges).toEqual([0, 1, 2]);
    expect(h.counts).toEqual([2, 4]);
    expect(histogramBins([NaN, 1, 1], 1).counts).toEqual([2]);
  });
  it('histogram overlays several series with a legend', () => {
    const svg = histogram({ angry: [1, 2, 3], sad: [2, 3, 4] }, { bins: 3, xLabel: 'seconds' });
    expect(svg).toContain('>angry</text>');
    expect(svg).toContain('>sad</text>');
    expect(svg).toContain('seconds');
  });
  it('lineChart draws a path per series and breaks on NaN', () => {
    const svg = lineChart([
      { name: 'train loss', y: [1, 0.5, 0.25] },
      { name: 'val loss', y: [1.2, NaN, 0.4], dashed: true },
    ]);
    expect(count(svg, /<path /g)).toBe(2);
    const paths = svg.match(/<path d="([^"]+)"/g)!;
    expect(count(paths[1]!, /M/g)).toBe(2);
    expect(svg).toContain('>val loss</text>');
  });
  it('confusionMatrix shows counts and row percentages', () => {
    const svg = confusionMatrix(['a', 'b'], [[3, 1], [0, 4]]);
    expect(count(svg, /<rect x="\d+" y="\d+" width="64"/g)).toBe(4);
    expect(svg).toContain('>75%</text>');
    expect(svg).toContain('>100%</text>');
    expect(svg).toContain('a → b: 1');
  });
  it('waveform reduces a long signal to one envelope path', () => {
    const sr = 8000;
    const y = Float32Array.from({ length: sr * 2 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 220 * i) / sr));
    const svg = waveform(y, sr, { columns: 100 });
    expect(count(svg, /<path /g)).toBe(1);
    expect(svg.length).toBeLessThan(20000);
    expect(svg).toContain('time (s)');
  });
});
