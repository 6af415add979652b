#!/usr/bin/env node
// Entry point of the `ser` CLI; the code lives in dist/ (built by `npm ci` / `npm run build`).
import('../dist/cli/index.js').then((m) => m.main(process.argv)).catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('ser: the project is not built yet; run `npm ci` (or `npm run build`) first.');
  } else {
    console.error(e);
  }
  process.exit(2);
});
