#!/usr/bin/env node
/**
 * Assemble the hand-written WAT kernels in src/model/kernels/simd/ (tfjs kernels) and src/dsp/wasm/ (the
 * resampler's inner loop) with wabt (a devDependency) and write each folder's module.ts: the wasm bytes
 * as base64, committed so runtime and the browser bundle never need wabt. `--check` compares instead of
 * writing (exit 1 if a module.ts is stale).
 *
 * Every *.wat in the folder is a complete module of its own (so each can be read and assembled alone)
 * that imports the memory as `(import "env" "memory" (memory 1))`; they are merged into ONE module (one
 * compile, one instance per tfjs heap) by taking each file's body without that import, in file-name order.
 * Function and label names must therefore be unique across files (wabt reports duplicates).
 *
 * Two modules are written: the kernels as written, where `f32x4.relaxed_madd` (relaxed SIMD, fused
 * multiply-add where the CPU has it) may be used, and a baseline in which every `(f32x4.relaxed_madd a b c)`
 * is rewritten to `(f32x4.add (f32x4.mul a b) c)`, for engines without relaxed SIMD (simd/index.ts picks).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const dir = join(src, 'model', 'kernels', 'simd');
const MEMORY_IMPORT = '(import "env" "memory" (memory 1))';
/** The folders assembled: the tfjs kernels (baseline and relaxed-SIMD builds), and the DSP module (baseline only). */
const TARGETS = [
  { dir, relaxed: true },
  { dir: join(src, 'dsp', 'wasm'), relaxed: false },
];

/** The .wat files of `d`, sorted (the order fixes the function indices, hence the bytes). */
export function watFiles(d = dir) {
  return readdirSync(d).filter((f) => f.endsWith('.wat')).sort();
}

/** The body of one .wat module: between `(module` and its last `)`, without the memory import. */
function moduleBody(file, text) {
  const start = text.search(/^\(module\b/m);
  const end = text.lastIndexOf(')');
  if (start < 0 || end < start) throw new Error(`${file}: expected a top-level (module ...)`);
  const body = text.slice(start + '(module'.length, end);
  if (!body.includes(MEMORY_IMPORT)) throw new Error(`${file}: expected ${MEMORY_IMPORT}`);
  return body.replace(MEMORY_IMPORT, '');
}

/** The merged module text: one memory import, then every file's functions. */
export function mergedWat(d = dir) {
  const parts = watFiles(d).map((f) => `;; ---- ${f}\n` + moduleBody(f, readFileSync(join(d, f), 'utf8')));
  return `(module\n  ${MEMORY_IMPORT}\n${parts.join('\n')}\n)\n`;
}

/** End index (exclusive) of the s-expression opening at `open` (text[open] === '('). */
function sexprEnd(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === ';' && text[i + 1] === ';') {
      i = text.indexOf('\n', i);
      if (i < 0) break;
    } else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced parentheses at ${open}`);
}

/** `text` with every `(f32x4.relaxed_madd a b c)` (folded form, three folded operands) as mul + add. */
export function withoutRelaxed(text) {
  const OP = '(f32x4.relaxed_madd';
  let out = '';
  let pos = 0;
  for (;;) {
    const at = text.indexOf(OP, pos);
    if (at < 0) return out + text.slice(pos);
    const end = sexprEnd(text, at);
    const args = [];
    let i = at + OP.length;
    while (i < end - 1) {
      if (text[i] === '(') {
        const e = sexprEnd(text, i);
        args.push(withoutRelaxed(text.slice(i, e)));
        i = e;
      } else if (/\s/.test(text[i])) i++;
      else throw new Error(`relaxed_madd operands must be folded expressions (at ${at})`);
    }
    if (args.length !== 3) throw new Error(`relaxed_madd with ${args.length} operands (at ${at})`);
    out += text.slice(pos, at) + `(f32x4.add (f32x4.mul ${args[0]} ${args[1]}) ${args[2]})`;
    pos = end;
  }
}

/**
 * The wasm bytes of the merged .wat files (deterministic: no names section, canonical LEBs); with
 * `relaxed` false, the baseline module (relaxed_madd rewritten as mul + add).
 */
export async function assemble(relaxed = false, d = dir) {
  const { default: wabt } = await import('wabt');
  const w = await wabt();
  const text = relaxed ? mergedWat(d) : withoutRelaxed(mergedWat(d));
  const mod = w.parseWat('simd-kernels.wat', text, { simd: true, bulk_memory: true, relaxed_simd: relaxed });
  try {
    mod.resolveNames();
    mod.validate();
    return mod.toBinary({ canonicalize_lebs: true, write_debug_names: false }).buffer;
  } finally {
    mod.destroy();
  }
}

const base64Lines = (bytes) => (Buffer.from(bytes).toString('base64').match(/.{1,100}/g) ?? []).map((l) => `  '${l}'`).join(' +\n') + ';';

/** The text of module.ts for the baseline and the relaxed-SIMD bytes (the DSP folder: baseline only). */
export function moduleSource(bytes, relaxedBytes, d = dir) {
  if (d !== dir) {
    return [
      `// GENERATED by scripts/build-simd.mjs from ${watFiles(d).join(', ')}. Do not edit; re-run the script.`,
      '/** The DSP wasm module (bytes, base64; baseline SIMD). */',
      'export const DSP_WASM_BASE64 =',
      base64Lines(bytes),
      '',
    ].join('\n');
  }
  return [
    `// GENERATED by scripts/build-simd.mjs from ${watFiles().join(', ')}. Do not edit; re-run the script.`,
    '/** The SIMD kernels module (wasm bytes, base64): baseline SIMD, relaxed_madd as mul + add. */',
    'export const SIMD_WASM_BASE64 =',
    base64Lines(bytes),
    '/** The same kernels with relaxed SIMD (f32x4.relaxed_madd: fused multiply-add where the CPU has it). */',
    'export const SIMD_RELAXED_WASM_BASE64 =',
    base64Lines(relaxedBytes),
    '',
  ].join('\n');
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  let stale = false;
  for (const t of TARGETS) {
    const outFile = join(t.dir, 'module.ts');
    const text = moduleSource(await assemble(false, t.dir), t.relaxed ? await assemble(true, t.dir) : null, t.dir);
    if (process.argv.includes('--check')) {
      if (readFileSync(outFile, 'utf8') !== text) {
        console.error(`${outFile} is stale: run node scripts/build-simd.mjs`);
        stale = true;
      } else console.log(`${outFile} is up to date`);
    } else {
      writeFileSync(outFile, text);
      console.log(`wrote ${outFile}`);
    }
  }
  if (stale) process.exit(1);
}
