#!/usr/bin/env node
// The import graph of src/ and the rules of ARCHITECTURE.md's table: which folder may import which,
// and no import cycles. `node scripts/import-graph.mjs [SRC_DIR]` prints every violation (exit 1 if any);
// test/architecture/imports.test.ts runs the same check in CI.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let SRC = join(ROOT, 'src');

const BELOW_INFER = ['util', 'dsp', 'audio', 'features', 'data', 'model', 'train', 'eval', 'infer'];
/** ARCHITECTURE.md's "may import" column (every folder may import util/ and itself). */
export const MAY_IMPORT = {
  util: [],
  dsp: ['util'],
  audio: ['util', 'dsp'],
  features: ['util', 'dsp', 'audio'],
  data: ['util', 'dsp', 'audio', 'features'],
  model: ['util', 'features:type'],
  train: ['util', 'dsp', 'audio', 'features', 'data', 'model', 'eval/metrics.ts'],
  eval: ['util', 'dsp', 'audio', 'features', 'data', 'model', 'train'],
  infer: ['util', 'dsp', 'audio', 'features', 'model'],
  server: BELOW_INFER,
  web: BELOW_INFER,
  cli: ['*'],
  '': ['*'], // src/index.ts: the package's public API
};

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every relative import of every file under src/: { from, to (a src/ file), typeOnly }. */
export function importGraph() {
  const files = walk(SRC);
  const known = new Set(files);
  const edges = [];
  // static imports / re-exports (multi-line), side-effect imports, dynamic import('…')
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const f of files) {
    const text = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    for (const m of text.matchAll(re)) {
      const spec = m[4] ?? m[5] ?? m[6];
      if (!spec || !spec.startsWith('.')) continue;
      const to = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
      if (!known.has(to)) continue;
      const typeOnly = !!m[2] || (/^\{[^}]*\}$/.test(m[3] ?? '') && (m[3] ?? '').slice(1, -1).split(',').every((s) => !s.trim() || /^type\s/.test(s.trim())));
      edges.push({ from: rel(f), to: rel(to), typeOnly });
    }
  }
  return { files: files.map(rel), edges };
}

const rel = (p) => relative(SRC, p).split(sep).join('/');
const folderOf = (p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : '');

/** Imports that break the table: "from → to (rule)". */
export function upwardImports(edges) {
  const bad = [];
  for (const { from, to, typeOnly } of edges) {
    const a = folderOf(from), b = folderOf(to);
    if (a === b || b === 'util') continue;
    const allowed = MAY_IMPORT[a];
    if (!allowed) { bad.push(`${from} → ${to} (folder '${a}' is not in the table)`); continue; }
    const ok = allowed.includes('*') || allowed.includes(b) || (typeOnly && allowed.includes(`${b}:type`)) || allowed.includes(to);
    if (!ok) bad.push(`${from} → ${to}${typeOnly ? ' (type-only)' : ''}: ${a}/ may import ${allowed.join(', ') || 'nothing but util/'}`);
  }
  return bad;
}

/** Every import cycle (strongly connected component of more than one file, or a self-import), as file lists. */
export function cycles(files, edges) {
  const adj = new Map(files.map((f) => [f, []]));
  for (const e of edges) adj.get(e.from).push(e.to);
  let index = 0;
  const idx = new Map(), low = new Map(), stack = [], on = new Set(), out = [];
  const strong = (v) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
    for (const w of adj.get(v)) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || adj.get(v).includes(v)) out.push(comp.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) strong(f);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2]) SRC = resolve(process.argv[2]);
  const { files, edges } = importGraph();
  const bad = upwardImports(edges);
  const cyc = cycles(files, edges);
  for (const b of bad) console.log(`upward import: ${b}`);
  for (const c of cyc) console.log(`import cycle: ${c.join(' ↔ ')}`);
  console.log(`${files.length} files, ${edges.length} imports: ${bad.length} upward, ${cyc.length} cycles`);
  process.exitCode = bad.length || cyc.length ? 1 : 0;
}
