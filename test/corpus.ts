/** Where the shared AESDD corpus is, if it is here: SER_AESDD_DIR, else ../shared/aesdd. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

export const SHARED_DIR = resolve(process.env.SER_SHARED_DIR ?? resolve(HERE, '../../shared'));
export const AESDD_DIR = process.env.SER_AESDD_DIR ? resolve(process.env.SER_AESDD_DIR) : resolve(SHARED_DIR, 'aesdd');
export const FIXTURES_DIR = resolve(SHARED_DIR, 'fixtures');
export const REFERENCE_DIR = resolve(SHARED_DIR, 'reference');

export const HAVE_CORPUS = existsSync(AESDD_DIR);
export const HAVE_SHARED = existsSync(FIXTURES_DIR) && existsSync(REFERENCE_DIR);

let warned = false;
/** Call at the top of a corpus test file; prints once why those tests are skipped. */
export function noteCorpusSkip(what: string): void {
  if (!HAVE_CORPUS && !warned) {
    warned = true;
    console.warn(`\n[corpus tests skipped] ${what}: no corpus at ${AESDD_DIR} (set SER_AESDD_DIR or put ../shared beside the repo)\n`);
  }
}
