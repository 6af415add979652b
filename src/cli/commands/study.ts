/**
 * `ser study export|curve|report`: the study's headline (cnn3, batch 1, its 80/20 split) trained by our
 * engine and by PyTorch on the same exported features (see eval/headline.ts):
 *
 *   ser study export --data ../shared/aesdd --out study-split
 *   ser study curve --features study-split/features.f32 --index study-split/honest.json --epochs 240 --seed 1 --out runs/ours-honest-seed1
 *   python3 ../shared/reference/torch_seed_curve.py --features study-split/features.f32 --index study-split/honest.json --epochs 240 --seed 1
 *   ser study report --dir reports/headline --epochs 240
 */
import type { Command } from 'commander';
import type { CorpusFormat } from '../../data/corpus.js';
import { exportStudySplit, trainCurve } from '../../eval/headline.js';
import { writeHeadlineReport } from '../../eval/headline-report.js';
import { intFlag, numFlag } from './train.js';

export function register(program: Command): void {
  const study = program.command('study').description("the study's headline (cnn3, batch 1, its 80/20 split) side by side with PyTorch: export the split, train a curve, report");
  study
    .command('export')
    .description("write the study split's features for ../shared/reference/torch_seed_curve.py and `ser study curve`: features.f32, honest.json (validation carved from the 80 %), optimistic.json (the whole 80 %)")
    .requiredOption('--data <dir>', 'corpus folder')
    .requiredOption('--out <dir>', 'output folder')
    .option('--format <name>', 'corpus format (default: auto-detect)')
    .option('--cache <dir>', 'feature cache folder')
    .option('--no-progress', 'no progress bar')
    .action(async (o: { data: string; out: string; format?: string; cache?: string; progress: boolean }) => {
      const r = await exportStudySplit({ data: o.data, out: o.out, format: o.format as CorpusFormat | undefined, cacheDir: o.cache, progress: o.progress });
      const c = (x: Record<string, number>): string => Object.entries(x).map(([k, v]) => `${k} ${v}`).join(', ');
      process.stdout.write(`${r.featuresFile}\n${r.honestIndex}  (${c(r.counts.honest)})\n${r.optimisticIndex}  (${c(r.counts.optimistic)})\n`);
    });
  study
    .command('curve')
    .description('train cnn3 at batch 1 on an export and print one JSON line per epoch, as torch_seed_curve.py does: {epoch, loss, val, test, s}')
    .requiredOption('--features <file>', 'features.f32 from `ser study export`')
    .requiredOption('--index <file>', 'honest.json or optimistic.json')
    .option('--epochs <n>', 'epochs', intFlag('epochs'), 60)
    .option('--lr <x>', 'Adam learning rate', numFlag('lr', 1e-9, 1), 1e-3)
    .option('--seed <n>', 'seed of initial weights, dropout and sample order', intFlag('seed', 0), 0)
    .option('--out <dir>', 'checkpoint every epoch and append to DIR/curve.jsonl; a re-run continues where it stopped')
    .option('--curve <file>', 'append the lines to this file (default: DIR/curve.jsonl with --out)')
    .option('--threads <n>', 'gradient threads (default: the cores)', intFlag('threads'))
    .option('--backend <name>', 'tfjs backend: wasm (default) or cpu')
    .option('--no-progress', 'no progress bar')
    .action(async (o: { features: string; index: string; epochs: number; lr: number; seed: number; out?: string; curve?: string; threads?: number; backend?: string; progress: boolean }) => {
      await trainCurve({
        features: o.features, index: o.index, epochs: o.epochs, lr: o.lr, seed: o.seed, out: o.out, curveFile: o.curve, threads: o.threads, backend: o.backend, progress: o.progress,
        onLine: (l) => process.stdout.write(`${JSON.stringify(l)}\n`),
      });
    });
  study
    .command('report')
    .description('REPORT.md and figures from the curve files of a folder (ours-honest-seed1.jsonl, torch-honest-seed1.jsonl, ...)')
    .requiredOption('--dir <dir>', 'folder with <ours|torch>-<honest|optimistic>-seed<k>.jsonl files')
    .option('--epochs <n>', 'planned epochs (means count runs that reached them)', intFlag('epochs'), 240)
    .option('--reference <dir>', "read PyTorch's curves from this folder instead (same export and split), ours from --dir")
    .option('--command <text>', 'the command that re-runs both sides, for the report', 'scripts/headline.sh')
    .action(async (o: { dir: string; epochs: number; reference?: string; command: string }) => {
      const md = await writeHeadlineReport(o.dir, { epochs: o.epochs, command: o.command, ...(o.reference ? { reference: o.reference } : {}) });
      process.stdout.write(md);
    });
}
