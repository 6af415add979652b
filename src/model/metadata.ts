/**
 * metadata.json of a model folder: everything needed to use the model correctly later (labels,
 * feature parameters, architecture), where it came from (recipe, data), how good it was (metrics),
 * and integrity data for the weights. Validated before any model is built.
 */
import type { FeatureParams } from '../features/params.js';
import { SerError } from '../util/errors.js';
import { checkArch, resolveArchOptions, type ArchName, type ArchOptions } from './architectures.js';

/** Bumped when the folder layout or metadata meaning changes incompatibly. */
export const MODEL_FORMAT_VERSION = 1;
/** The toolkit version written into new model folders. */
export const TOOLKIT_VERSION = '0.1.0';

export interface WeightsIntegrity {
  file: string;
  bytes: number;
  sha256: string;
}

export interface ModelMetadata {
  formatVersion: number;
  /** Class names in output order. */
  labels: string[];
  featureParams: FeatureParams;
  arch: ArchName;
  archOptions: ArchOptions;
  /** Recipe name (or the whole recipe object). */
  recipe: string | Record<string, unknown> | null;
  /** Training data summary (corpus, counts, speakers, ...). */
  data: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** ISO date of creation. */
  created: string;
  toolkitVersion: string;
  /** Filled in by saveModelFolder. */
  weights?: WeightsIntegrity;
  /** Any other fields (normalization, input mode, seed, ...) are kept as they are. */
  [key: string]: unknown;
}

/** Metadata a caller gives to saveModelFolder: the required fields; the rest is filled in. */
export type MetadataInput = Partial<ModelMetadata> & Pick<ModelMetadata, 'labels' | 'featureParams' | 'arch'>;

/** Fills defaults (format version, dates, toolkit version) and validates. */
export function completeMetadata(m: MetadataInput, where = 'metadata'): ModelMetadata {
  const full: ModelMetadata = {
    ...m,
    formatVersion: MODEL_FORMAT_VERSION,
    labels: m.labels,
    featureParams: m.featureParams,
    arch: m.arch,
    archOptions: m.archOptions ?? {},
    recipe: m.recipe ?? null,
    data: m.data ?? {},
    metrics: m.metrics ?? {},
    created: m.created ?? (typeof m['createdAt'] === 'string' ? (m['createdAt'] as string) : new Date().toISOString()),
    toolkitVersion: m.toolkitVersion ?? TOOLKIT_VERSION,
  };
  return validateMetadata(full, where);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks parsed metadata.json; throws SerError `model/incompatible` (wrong version, unknown arch,
 * labels not matching the classifier) or `model/damaged` (missing or malformed fields).
 */
export function validateMetadata(raw: unknown, where = 'metadata.json'): ModelMetadata {
  if (!isObject(raw)) throw new SerError('model/damaged', `${where}: not a JSON object`);
  const v = raw['formatVersion'];
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new SerError('model/incompatible', `${where}: no formatVersion (not a speech-emotion model folder, or one from before format version 1)`);
  }
  if (v > MODEL_FORMAT_VERSION || v < 1) {
    throw new SerError('model/incompatible', `${where}: formatVersion ${v} is not supported (this toolkit reads version ${MODEL_FORMAT_VERSION}); upgrade speech-emotion`);
  }
  const labels = raw['labels'];
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string' && l.length > 0)) {
    throw new SerError('model/damaged', `${where}: labels must be a list of at least 2 class names`);
  }
  if (new Set(labels).size !== labels.length) throw new SerError('model/damaged', `${where}: labels contain duplicates`);
  const fp = raw['featureParams'];
  if (!isObject(fp) || typeof fp['nMels'] !== 'number' || typeof fp['nFft'] !== 'number' || typeof fp['hopLength'] !== 'number') {
    throw new SerError('model/damaged', `${where}: featureParams is missing or incomplete (needs nMels, nFft, hopLength, ...)`);
  }
  const arch = raw['arch'];
  if (typeof arch !== 'string') throw new SerError('model/damaged', `${where}: arch is missing`);
  let archName: ArchName;
  try {
    archName = checkArch(arch);
  } catch {
    throw new SerError('model/incompatible', `${where}: architecture '${arch}' is unknown to this toolkit`);
  }
  const ao = raw['archOptions'] ?? {};
  if (!isObject(ao)) throw new SerError('model/damaged', `${where}: archOptions must be an object`);
  const classes = resolveArchOptions(archName, ao as ArchOptions).numClasses;
  if (classes !== labels.length) {
    throw new SerError('model/incompatible', `${where}: ${labels.length} labels but the ${archName} model has ${classes} outputs`);
  }
  const w = raw['weights'];
  if (w !== undefined && (!isObject(w) || typeof w['file'] !== 'string' || typeof w['bytes'] !== 'number' || typeof w['sha256'] !== 'string')) {
    throw new SerError('model/damaged', `${where}: weights must be { file, bytes, sha256 }`);
  }
  return { ...(raw as ModelMetadata), archOptions: ao as ArchOptions };
}
