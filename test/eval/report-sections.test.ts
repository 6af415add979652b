import { describe, expect, it } from 'vitest';
import { reportBlocks } from '../../src/eval/report.js';
import type { ExperimentSummary } from '../../src/eval/summary.js';

const summary = (extra: Partial<ExperimentSummary> = {}): ExperimentSummary => ({
  data: '/corpus', files: 10, speakers: ['1'], labelNames: ['angry', 'sad'], quick: false, jobs: 1, seed: 42,
  featureKey: 'k', configs: [], failed: [], skippedFiles: [], totalSeconds: 1, startedAt: '2026-12-06T00:00:00.000Z',
  ...extra,
});
const paragraphAfter = (s: ExperimentSummary, heading: string): string => {
  const b = reportBlocks(s);
  const i = b.findIndex((x) => x.kind === 'h' && x.text.startsWith(heading));
  const next = b[i + 1]!;
  return next.kind === 'p' ? next.text : '';
};

describe('report sections of protocols that did not run', () => {
  it('says --protocols left a protocol out when it was not asked for', () => {
    expect(paragraphAfter(summary(), 'Headline: unseen speakers')).toBe('Not run in this experiment (`--protocols` left this protocol out).');
    expect(paragraphAfter(summary(), "The study's protocol")).toBe('Not run in this experiment (`--protocols` left this protocol out).');
  });

  it('gives the reason when leave-one-speaker-out was asked for but the corpus cannot support it', () => {
    const s = summary({ losoSkipped: 'it needs a speaker for every file and at least 2 speakers (found 1)' });
    expect(paragraphAfter(s, 'Headline: unseen speakers')).toBe('Not run: it needs a speaker for every file and at least 2 speakers (found 1).');
  });
});
