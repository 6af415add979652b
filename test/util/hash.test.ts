import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { sha256Hex } from '../../src/util/hash.js';

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vector and node:crypto on bytes and strings', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 255);
    expect(await sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await sha256Hex('ελληνικά')).toBe(createHash('sha256').update('ελληνικά', 'utf8').digest('hex'));
  });
});
