/**
 * `ser features … --out DIR`: feature extraction of a whole archive on the feature worker pool.
 * Each input's matrix goes to `DIR/<id>.f32` (raw little-endian float32, row-major, `nMels` rows ×
 * `frames` columns; `id` = the first 16 hex digits of the SHA-1 of the input path), written
 * atomically before its line is appended to `DIR/index.jsonl`
 * (`{"file","features","nMels","frames","seconds","featureKey"}` or `{"file","error"}`), so
 * `--resume` can trust every line it finds.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FeatureParams } from '../../features/params.js';
import { featureKey } from '../../features/pipeline.js';
import { FeaturePool } from '../../features/pool.js';
import { ensureDir, writeFileAtomic } from '../../util/fs.js';
import { SerError } from '../../util/errors.js';
import { batchInputs, countInputs } from './inputs.js';
import { inputSpec, type BatchFlags } from './predict.js';
import { parseJobs } from './predictor.js';
import { runBatch, type BatchSummary } from './run.js';

/** The line of one input in `index.jsonl`. */
export interface FeatureLine {
  file: string;
  features: string;
  nMels: number;
  frames: number;
  seconds: number;
  featureKey: string;
}

/** The feature file name of an input path. */
export function featureFileName(file: string): string {
  return `${createHash('sha1').update(file).digest('hex').slice(0, 16)}.f32`;
}

export async function runFeatureBatch(args: string[], f: BatchFlags & { out: string }, params: FeatureParams): Promise<BatchSummary> {
  const spec = inputSpec(args, f);
  const jobs = parseJobs(f.jobs);
  const total = await countInputs(spec);
  await ensureDir(f.out);
  const key = featureKey(params);
  const pool = new FeaturePool(total !== undefined ? Math.max(1, Math.min(jobs, total)) : jobs);
  try {
    return await runBatch<FeatureLine>({
      inputs: batchInputs(spec),
      total,
      jobs: pool.size,
      run: async (file) => {
        const r = await pool.extract(file, params);
        if (r.error || !r.spec) throw new SerError(r.error?.code ?? 'features/failed', r.error?.message ?? `${file}: no features`);
        const name = featureFileName(file);
        const d = r.spec.data;
        await writeFileAtomic(join(f.out, name), new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
        return { file, features: name, nMels: r.spec.nMels, frames: r.spec.frames, seconds: r.seconds, featureKey: key };
      },
      out: join(f.out, 'index.jsonl'),
      resume: f.resume,
      progress: f.progress !== false && (total === undefined || total > 1),
      label: 'features',
    });
  } finally {
    await pool.close();
  }
}
