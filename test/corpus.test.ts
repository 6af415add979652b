import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { AESDD_DIR, HAVE_CORPUS, noteCorpusSkip } from './corpus';

noteCorpusSkip('corpus presence');

describe.skipIf(!HAVE_CORPUS)('shared corpus', () => {
  it('holds FLAC files', () => {
    expect(readdirSync(AESDD_DIR).filter((f) => f.endsWith('.flac')).length).toBeGreaterThan(0);
  });
});
