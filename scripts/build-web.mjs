#!/usr/bin/env node
// Bundles the web app (src/web/main.ts → dist/webapp/app.js) with esbuild and copies index.html and
// app.css beside it. `ser serve` runs this on startup when the bundle is missing or older than its
// sources; `node scripts/build-web.mjs` builds it by hand.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'webapp');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'src', 'web', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  // node-only branches (e.g. locating the wasm files in node_modules) never run in the page; the page
  // decodes WAV/FLAC with audio/decode.ts's decodeAudioSync and other formats with WebAudio, so
  // decodeAudio's lazy audio-decode import (unused there) stays out of the bundle
  external: ['node:*', 'audio-decode'],
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(join(root, 'src', 'web', f), join(out, f));
console.log(`web bundle written to ${out}`);
