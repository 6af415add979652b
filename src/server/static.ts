/**
 * Static files of the web app, served from a whitelist built at startup: a request path is only ever
 * looked up in this map, never joined onto a filesystem path.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../util/package.js';

/** One servable file: where it is on disk and its content type. */
export interface StaticFile {
  path: string;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

/** Where the web bundle is written (`dist/webapp/`). */
export function webAppDir(): string {
  return resolve(packageRoot(), 'dist', 'webapp');
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** True when the bundle is missing or older than any source it is built from. */
export function webBundleStale(root = packageRoot()): boolean {
  const bundle = join(root, 'dist', 'webapp', 'app.js');
  if (!existsSync(bundle)) return true;
  const built = statSync(bundle).mtimeMs;
  const sources = ['src/web', 'src/infer', 'src/features', 'src/audio', 'src/dsp', 'src/model'].map((d) => newestMtime(join(root, d)));
  return Math.max(...sources) > built;
}

/**
 * Builds the web bundle with `scripts/build-web.mjs` when it is missing or stale. Returns a note of
 * what happened; never throws when the sources are absent but a bundle exists.
 */
export async function ensureWebBundle(root = packageRoot()): Promise<string> {
  if (!webBundleStale(root)) return 'web bundle up to date';
  const script = join(root, 'scripts', 'build-web.mjs');
  if (!existsSync(script)) return existsSync(join(root, 'dist', 'webapp', 'app.js')) ? 'web bundle present (no build script)' : 'web bundle missing';
  try {
    await promisify(execFile)(process.execPath, [script], { cwd: root });
    return 'web bundle rebuilt';
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr || (e as Error).message;
    return `web bundle build failed: ${msg.trim().split('\n').slice(0, 5).join(' ')}`;
  }
}

/**
 * The URL → file map: the web app at `/`, the model folder's files at `/model/…` (only those named by
 * model.json plus metadata.json) and the tfjs wasm binaries at `/wasm/…`.
 */
export function staticFiles(modelDir: string | null, root = packageRoot()): Map<string, StaticFile> {
  const map = new Map<string, StaticFile>();
  const add = (url: string, path: string) => {
    if (existsSync(path) && statSync(path).isFile()) map.set(url, { path, type: TYPES[extname(path)] ?? 'application/octet-stream' });
  };
  const web = join(root, 'dist', 'webapp');
  if (existsSync(web)) for (const name of readdirSync(web)) add(`/${name}`, join(web, name));
  if (map.has('/index.html')) map.set('/', map.get('/index.html')!);
  const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  if (existsSync(wasmDir)) for (const name of readdirSync(wasmDir)) if (name.endsWith('.wasm')) add(`/wasm/${name}`, join(wasmDir, name));
  if (modelDir) {
    add('/model/model.json', join(modelDir, 'model.json'));
    add('/model/metadata.json', join(modelDir, 'metadata.json'));
    try {
      const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
      for (const group of json.weightsManifest ?? []) {
        for (const p of group.paths ?? []) {
          // Only plain file names inside the model folder.
          if (typeof p === 'string' && /^[\w.-]+$/.test(p)) add(`/model/${p}`, join(modelDir, p));
        }
      }
    } catch {
      /* a damaged model.json: the browser simply gets no weights */
    }
  }
  return map;
}
