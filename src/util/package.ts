/**
 * Where this package's own files are: the package root, and the compiled scripts that run in their
 * own thread or process (worker threads, child jobs). Every pool finds its script here, one way.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerError } from './errors.js';

/** The package root (the folder with package.json above this module). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

/**
 * The compiled script `dist/<folder>/<name>.js`: beside the caller (`callerUrl`, its
 * `import.meta.url`) when the caller itself runs from dist/, else under the package root (running
 * from sources under tsx/vitest: the scripts need `npm run build`, which `npm test` runs first).
 * Threads and child processes run compiled JavaScript only, so they need no TypeScript loader.
 */
export function compiledScript(callerUrl: string, distPath: string): string {
  const here = fileURLToPath(callerUrl);
  const beside = join(dirname(here), basename(distPath));
  if (here.endsWith('.js') && existsSync(beside)) return beside;
  const built = join(packageRoot(), distPath);
  if (existsSync(built)) return built;
  throw new SerError('util/not-built', `the compiled script ${distPath} was not found (near ${here}); run \`npm run build\` first`);
}
