/**
 * Corpus readers: turn a folder (or a CSV manifest) into labelled items plus a list of
 * problems. Formats: AESDD, folder-per-label, CSV manifest, RAVDESS, CREMA-D, TESS, EMO-DB,
 * SAVEE. Files that cannot be used (unparseable name, unknown label, missing file) are
 * reported in `problems` and skipped; the scan carries on. Labels the user maps to `skip`
 * are counted in `excluded`. Nothing else is dropped.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { AUDIO_EXTENSIONS } from '../audio/load.js';
import { SerError } from '../util/errors.js';
import { EMOTIONS } from '../util/labels.js';

/** One labelled audio file. */
export interface CorpusItem {
  /** Absolute path of the audio file. */
  path: string;
  /**
   * The file's path relative to the corpus root (its CSV's folder), '/'-separated: names the file the same
   * wherever the corpus lies and however its path was typed — training seeds each file's augmentation draws with it.
   */
  id?: string;
  label: string;
  /** Speaker (actor) id, or null when the format does not say. */
  speaker: string | null;
  /** Marks a repeated recording (AESDD's trailing letter, EMO-DB's version letter). */
  take?: string;
}

export type ProblemReason =
  | 'unparseable-name'
  | 'unknown-label'
  | 'missing-file'
  | 'bad-row'
  | 'broken'
  | 'zero-duration';

/** A file (or manifest row) that was skipped, and why. */
export interface ScanProblem {
  path: string;
  reason: ProblemReason;
  message: string;
}

export type CorpusFormat = 'aesdd' | 'folders' | 'csv' | 'ravdess' | 'crema-d' | 'tess' | 'emodb' | 'savee';
export const CORPUS_FORMATS: readonly CorpusFormat[] = ['aesdd', 'folders', 'csv', 'ravdess', 'crema-d', 'tess', 'emodb', 'savee'];

/** The result of a scan. */
export interface Corpus {
  /** Absolute folder (or CSV file) that was scanned. */
  root: string;
  format: CorpusFormat;
  /** Usable items, sorted by path. */
  items: CorpusItem[];
  problems: ScanProblem[];
  /** Files deliberately left out by the label map (`label=skip`): count per original label. */
  excluded: Record<string, number>;
}

export interface ScanOptions {
  /** Corpus format; 'auto' (default) detects it from the file names / layout. */
  format?: CorpusFormat | 'auto';
  /**
   * Map dataset labels (native code like `ANG`/`W`, or its English name like `neutral`) to a
   * label of ours, or to `skip`. A label mapped to anything but `skip` is accepted even if it
   * is not one of the five emotions (e.g. `neutral=neutral`).
   */
  labelMap?: Record<string, string>;
  /** Accepted labels besides those named in labelMap; default the five AESDD emotions. */
  labels?: readonly string[];
  /** Audio file extensions (lowercase, no dot). */
  extensions?: readonly string[];
}


/** Parses `neutral=skip,calm=skip,ps=happy` into a map (keys lowercased). */
export function parseLabelMap(spec: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq <= 0 || eq === p.length - 1) {
      throw new SerError('data/bad-label-map', `--label-map: "${p}" is not of the form from=to (e.g. neutral=skip,ps=happy)`);
    }
    map[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().toLowerCase();
  }
  return map;
}

/** Common English spellings of emotion labels → our names (used by folders/CSV and TESS). */
const SYNONYMS: Record<string, string> = {
  anger: 'angry', angry: 'angry', ang: 'angry', mad: 'angry',
  disgust: 'disgust', disgusted: 'disgust', dis: 'disgust',
  fear: 'fear', fearful: 'fear', fea: 'fear', afraid: 'fear', scared: 'fear',
  happy: 'happy', happiness: 'happy', hap: 'happy', joy: 'happy',
  sad: 'sad', sadness: 'sad',
  neutral: 'neutral', neu: 'neutral',
  calm: 'calm',
  surprise: 'surprise', surprised: 'surprise', ps: 'surprise', 'pleasant_surprise': 'surprise', 'pleasant_surprised': 'surprise',
  boredom: 'boredom', bored: 'boredom',
};

/** AESDD: first letter of the name. */
const AESDD_LETTERS: Record<string, string> = { a: 'angry', d: 'disgust', f: 'fear', h: 'happy', s: 'sad' };
/** RAVDESS: the third field. */
const RAVDESS_EMOTIONS: Record<string, string> = { '01': 'neutral', '02': 'calm', '03': 'happy', '04': 'sad', '05': 'angry', '06': 'fear', '07': 'disgust', '08': 'surprise' };
/** CREMA-D: the third field. */
const CREMA_EMOTIONS: Record<string, string> = { ANG: 'angry', DIS: 'disgust', FEA: 'fear', HAP: 'happy', NEU: 'neutral', SAD: 'sad' };
/** EMO-DB: the sixth character (German initials). */
const EMODB_EMOTIONS: Record<string, string> = { W: 'angry', L: 'boredom', E: 'disgust', A: 'fear', F: 'happy', T: 'sad', N: 'neutral' };
/** SAVEE: the letter(s) before the number. */
const SAVEE_EMOTIONS: Record<string, string> = { a: 'angry', d: 'disgust', f: 'fear', h: 'happy', n: 'neutral', sa: 'sad', su: 'surprise' };

/** What a file name says, before label mapping. `code` is the native label, `name` its English name. */
export interface ParsedName {
  code: string;
  name: string | null;
  speaker: string | null;
  take?: string;
}

function stem(path: string): string {
  const b = basename(path);
  const e = extname(b);
  return e ? b.slice(0, -e.length) : b;
}

const AESDD_RE = /^([a-z])(\d{1,3})\s*\(\s*(\d+)\s*\)\s*([a-z]?)$/i;
const RAVDESS_RE = /^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$/;
const CREMA_RE = /^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2}|X{1,2})$/i;
const EMODB_RE = /^(\d{2})([a-z]\d{2})([A-Z])([a-z]?)$/;
const SAVEE_RE = /^(?:([A-Z]{2})_)?(sa|su|a|d|f|h|n)(\d{2})$/;
const TESS_RE = /^([A-Za-z]{3})_([A-Za-z]+)_([A-Za-z_]+)$/;

/** Parses one file name under a name-based format; null when the name does not fit. */
export function parseName(format: Exclude<CorpusFormat, 'folders' | 'csv'>, path: string): ParsedName | null {
  const s = stem(path);
  switch (format) {
    case 'aesdd': {
      const m = AESDD_RE.exec(s);
      if (!m) return null;
      const letter = (m[1] as string).toLowerCase();
      const take = (m[4] as string).toLowerCase();
      return { code: letter, name: AESDD_LETTERS[letter] ?? null, speaker: String(parseInt(m[3] as string, 10)), ...(take ? { take } : {}) };
    }
    case 'ravdess': {
      const m = RAVDESS_RE.exec(s);
      if (!m) return null;
      const code = m[3] as string;
      return { code, name: RAVDESS_EMOTIONS[code] ?? null, speaker: String(parseInt(m[7] as string, 10)) };
    }
    case 'crema-d': {
      const m = CREMA_RE.exec(s);
      if (!m) return null;
      const code = (m[3] as string).toUpperCase();
      return { code, name: CREMA_EMOTIONS[code] ?? null, speaker: m[1] as string };
    }
    case 'emodb': {
      const m = EMODB_RE.exec(s);
      if (!m) return null;
      const code = m[3] as string;
      return { code, name: EMODB_EMOTIONS[code] ?? null, speaker: m[1] as string, ...(m[4] ? { take: m[4] } : {}) };
    }
    case 'savee': {
      const m = SAVEE_RE.exec(s);
      if (!m) return null;
      // speaker: the prefix (DC_a01) or the parent folder (DC/a01.wav)
      const parent = basename(dirname(path));
      const speaker = m[1] ?? (/^[A-Z]{2}$/.test(parent) ? parent : null);
      const code = m[2] as string;
      return { code, name: SAVEE_EMOTIONS[code] ?? null, speaker };
    }
    case 'tess': {
      const m = TESS_RE.exec(s);
      if (!m) return null;
      const code = (m[3] as string).toLowerCase();
      return { code, name: SYNONYMS[code] ?? null, speaker: (m[1] as string).toUpperCase() };
    }
  }
}

/** Resolves a dataset label through the user's map and the accepted set. */
class LabelResolver {
  private readonly map: Record<string, string>;
  private readonly accepted: Set<string>;
  constructor(opts: ScanOptions) {
    this.map = Object.fromEntries(Object.entries(opts.labelMap ?? {}).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]));
    this.accepted = new Set([...(opts.labels ?? EMOTIONS)].map((l) => l.toLowerCase()));
    for (const v of Object.values(this.map)) if (v !== 'skip') this.accepted.add(v);
  }
  /** 'skip', an accepted label, or null (unknown). */
  resolve(code: string, name: string | null): { label: string | null; original: string } {
    const original = name ?? code;
    const mapped = this.map[code.toLowerCase()] ?? (name ? this.map[name.toLowerCase()] : undefined);
    if (mapped !== undefined) return { label: mapped, original };
    const l = (name ?? code).toLowerCase();
    return { label: this.accepted.has(l) ? l : null, original };
  }
  describe(): string {
    return [...this.accepted].join(', ');
  }
}

function isHidden(name: string): boolean {
  return name.startsWith('.') || name.startsWith('._') || name === '__MACOSX';
}

/** All audio files under `dir` (recursive, hidden files skipped), sorted. */
export function listAudioFiles(dir: string, extensions: readonly string[] = AUDIO_EXTENSIONS, maxDepth = 8): string[] {
  const exts = new Set(extensions.map((e) => e.toLowerCase().replace(/^\./, '')));
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (e) {
      throw new SerError('data/unreadable', `cannot read folder ${d}: ${(e as Error).message}`, { cause: e });
    }
    for (const ent of entries) {
      if (isHidden(ent.name)) continue;
      const p = join(d, ent.name);
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        try {
          const st = statSync(p);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue;
        }
      }
      if (isDir && depth < maxDepth) walk(p, depth + 1);
      else if (isFile && exts.has(extname(ent.name).slice(1).toLowerCase())) out.push(p);
    }
  };
  walk(dir, 0);
  return out.sort(comparePaths);
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const NAME_FORMATS = ['ravdess', 'crema-d', 'emodb', 'aesdd', 'savee', 'tess'] as const;

/**
 * Guesses the format of a corpus: a .csv path → csv; else the name-based format that
 * parses most audio files (at least half); else a top-level .csv manifest → csv; else audio in
 * sub-folders → folders.
 */
export function detectFormat(path: string, extensions: readonly string[] = AUDIO_EXTENSIONS): CorpusFormat {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new SerError('data/not-found', `corpus not found: ${abs} does not exist`);
  if (statSync(abs).isFile()) {
    if (extname(abs).toLowerCase() === '.csv') return 'csv';
    throw new SerError('data/unknown-format', `corpus ${abs} is a file; give a folder or a .csv manifest`);
  }
  const files = listAudioFiles(abs, extensions);
  if (files.length > 0) {
    let best: CorpusFormat | null = null;
    let bestCount = 0;
    for (const f of NAME_FORMATS) {
      const n = files.reduce((acc, p) => acc + (parseName(f, p) ? 1 : 0), 0);
      if (n > bestCount) { best = f; bestCount = n; }
    }
    if (best && bestCount >= files.length / 2) return best;
  }
  const csvs = readdirSync(abs).filter((n) => !isHidden(n) && n.toLowerCase().endsWith('.csv'));
  if (csvs.length === 1) return 'csv';
  if (files.some((p) => dirname(p) !== abs)) return 'folders';
  if (files.length === 0) throw new SerError('data/no-audio', `no audio files (${extensions.join(', ')}) under ${abs}`);
  throw new SerError('data/unknown-format', `cannot tell the corpus format of ${abs}: file names match no known format (AESDD, RAVDESS, CREMA-D, TESS, EMO-DB, SAVEE) and files are not in one folder per label; use --format`);
}

/** Splits CSV text into rows of fields (RFC 4180: quoted fields, "" escapes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += c;
    } else if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === ',') {
      row.push(field); field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); field = '';
      rows.push(row); row = [];
    } else field += c;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows.filter((r) => !(r.length === 1 && (r[0] as string).trim() === ''));
}

const HEADER_PATH = new Set(['path', 'file', 'filename', 'file_path', 'filepath', 'audio', 'wav']);

function scanCsv(csvPath: string, resolver: LabelResolver, corpus: Corpus): void {
  const rows = parseCsv(readFileSync(csvPath, 'utf8'));
  const base = dirname(csvPath);
  let start = 0;
  if (rows.length > 0 && HEADER_PATH.has((rows[0]![0] ?? '').trim().toLowerCase())) start = 1;
  for (let r = start; r < rows.length; r++) {
    const row = rows[r] as string[];
    const where = `${csvPath}:${r + 1}`;
    const rel = (row[0] ?? '').trim();
    const rawLabel = (row[1] ?? '').trim();
    if (!rel || !rawLabel) {
      corpus.problems.push({ path: where, reason: 'bad-row', message: `row ${r + 1}: needs path,label[,speaker], got ${JSON.stringify(row.join(','))}` });
      continue;
    }
    const path = resolve(base, rel);
    const lc = rawLabel.toLowerCase();
    const { label, original } = resolver.resolve(lc, SYNONYMS[lc] ?? lc);
    if (label === 'skip') { corpus.excluded[original] = (corpus.excluded[original] ?? 0) + 1; continue; }
    if (label === null) {
      corpus.problems.push({ path, reason: 'unknown-label', message: `${where}: label "${rawLabel}" is not one of ${resolver.describe()} (map it with --label-map ${lc}=<label> or ${lc}=skip)` });
      continue;
    }
    if (!existsSync(path)) {
      corpus.problems.push({ path, reason: 'missing-file', message: `${where}: file ${path} does not exist` });
      continue;
    }
    const speaker = (row[2] ?? '').trim();
    corpus.items.push({ path, label, speaker: speaker || null });
  }
}

function scanFolders(root: string, files: string[], resolver: LabelResolver, corpus: Corpus): void {
  for (const path of files) {
    const rel = relative(root, path);
    const parts = rel.split(sep);
    if (parts.length < 2) {
      corpus.problems.push({ path, reason: 'unparseable-name', message: `${rel}: not inside a label folder (expected DIR/<label>/file)` });
      continue;
    }
    const folder = (parts[0] as string).toLowerCase();
    const { label, original } = resolver.resolve(folder, SYNONYMS[folder] ?? folder);
    if (label === 'skip') { corpus.excluded[original] = (corpus.excluded[original] ?? 0) + 1; continue; }
    if (label === null) {
      corpus.problems.push({ path, reason: 'unknown-label', message: `${rel}: folder "${parts[0]}" is not one of ${resolver.describe()} (map it with --label-map ${folder}=<label> or ${folder}=skip)` });
      continue;
    }
    // a second folder level is taken as the speaker: DIR/<label>/<speaker>/file
    corpus.items.push({ path, label, speaker: parts.length >= 3 ? (parts[1] as string) : null });
  }
}

const FORMAT_RULES: Record<string, string> = {
  aesdd: '<e><NN> (<actor>)[take], e.g. "a01 (1).wav", "s01 (5)a.flac"',
  ravdess: 'MM-VV-EE-II-SS-RR-AA, e.g. "03-01-05-01-02-01-12.wav"',
  'crema-d': 'SPK_SEN_EMO_LVL, e.g. "1001_DFA_ANG_XX.wav"',
  emodb: 'SSTTTEV, e.g. "03a01Fa.wav"',
  savee: '[SPK_]<e><NN>, e.g. "DC_a01.wav" or "DC/sa01.wav"',
  tess: 'SPK_word_emotion, e.g. "OAF_back_angry.wav"',
};

/**
 * Scans a corpus folder (or a CSV manifest) into items and problems. Does not decode audio
 * (see `probeCorpus`). Throws SerError `data/not-found|no-audio|unknown-format` when the
 * corpus as a whole cannot be read.
 */
export function scanCorpus(path: string, opts: ScanOptions = {}): Corpus {
  const root = resolve(path);
  const extensions = opts.extensions ?? AUDIO_EXTENSIONS;
  if (!existsSync(root)) throw new SerError('data/not-found', `corpus not found: ${root} does not exist`);
  const format = !opts.format || opts.format === 'auto' ? detectFormat(root, extensions) : opts.format;
  if (!CORPUS_FORMATS.includes(format)) {
    throw new SerError('data/unknown-format', `unknown corpus format "${format}"; use one of auto, ${CORPUS_FORMATS.join(', ')}`);
  }
  const resolver = new LabelResolver(opts);
  const corpus: Corpus = { root, format, items: [], problems: [], excluded: {} };
  if (format === 'csv') {
    let csvPath = root;
    if (statSync(root).isDirectory()) {
      const csvs = readdirSync(root).filter((n) => !isHidden(n) && n.toLowerCase().endsWith('.csv'));
      if (csvs.length !== 1) throw new SerError('data/unknown-format', `${root}: expected exactly one .csv manifest in the folder, found ${csvs.length}; give the CSV file itself`);
      csvPath = join(root, csvs[0] as string);
    }
    corpus.root = csvPath;
    scanCsv(csvPath, resolver, corpus);
  } else {
    if (!statSync(root).isDirectory()) throw new SerError('data/unknown-format', `${root}: format ${format} needs a folder`);
    const files = listAudioFiles(root, extensions);
    if (files.length === 0) throw new SerError('data/no-audio', `no audio files (${extensions.join(', ')}) under ${root}`);
    if (format === 'folders') scanFolders(root, files, resolver, corpus);
    else {
      for (const p of files) {
        const parsed = parseName(format, p);
        const rel = relative(root, p);
        if (!parsed) {
          corpus.problems.push({ path: p, reason: 'unparseable-name', message: `${rel}: name does not follow the ${format} pattern ${FORMAT_RULES[format]}` });
          continue;
        }
        const { label, original } = resolver.resolve(parsed.code, parsed.name);
        if (label === 'skip') { corpus.excluded[original] = (corpus.excluded[original] ?? 0) + 1; continue; }
        if (label === null) {
          corpus.problems.push({ path: p, reason: 'unknown-label', message: `${rel}: label "${original}" (code ${parsed.code}) is not one of ${resolver.describe()} (map it with --label-map ${original}=<label> or ${original}=skip)` });
          continue;
        }
        corpus.items.push({ path: p, label, speaker: parsed.speaker, ...(parsed.take ? { take: parsed.take } : {}) });
      }
    }
  }
  corpus.items.sort((a, b) => comparePaths(a.path, b.path));
  const base = format === 'csv' ? dirname(corpus.root) : root;
  for (const it of corpus.items) it.id = relative(base, it.path).split(sep).join('/');
  return corpus;
}

/** Counts per label (in first-seen order of `labels` if given, else sorted). */
export function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return new Map([...m.entries()].sort((a, b) => comparePaths(a[0], b[0])));
}

/** A one-paragraph human summary of a scan: item count, per-label counts, problems by reason. */
export function summarizeCorpus(corpus: Corpus): string {
  const lines: string[] = [];
  const labels = [...countBy(corpus.items, (i) => i.label)].map(([l, n]) => `${l} ${n}`).join(', ');
  const speakers = new Set(corpus.items.map((i) => i.speaker ?? '?'));
  lines.push(`${corpus.items.length} files (${corpus.format}) from ${speakers.size} speaker(s): ${labels || 'none'}`);
  const ex = Object.entries(corpus.excluded);
  if (ex.length) lines.push(`excluded by label map: ${ex.map(([l, n]) => `${l} ${n}`).join(', ')}`);
  if (corpus.problems.length) {
    const byReason = [...countBy(corpus.problems, (p) => p.reason)].map(([r, n]) => `${r} ${n}`).join(', ');
    lines.push(`skipped ${corpus.problems.length} file(s): ${byReason}`);
    for (const p of corpus.problems) lines.push(`  - ${p.message}`);
  }
  return lines.join('\n');
}
