/** `ser explore --data DIR --out DIR`: the corpus exploration report (see src/data/explore.ts). */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CORPUS_FORMATS, parseLabelMap, summarizeCorpus, type CorpusFormat } from '../../data/corpus.js';
import { exploreCorpus } from '../../data/explore.js';
import { SerError } from '../../util/errors.js';
import { getRecipe, recipeNames } from '../../train/recipes.js';

export function register(program: Command): void {
  program
    .command('explore')
    .description('scan a corpus and write an HTML report: counts per emotion and speaker, durations, example waveforms and log-mels, skipped files')
    .requiredOption('--data <dir>', 'corpus folder (or CSV manifest)')
    .option('--out <dir>', 'output folder for index.html and images', 'explore-report')
    .option('--format <format>', `corpus format: auto, ${CORPUS_FORMATS.join(', ')}`, 'auto')
    .option('--label-map <map>', 'map or skip dataset labels, e.g. neutral=skip,calm=skip,ps=happy')
    .option('--augment-examples', 'add a gallery of one file under each augmentation')
    .option('--seed <n>', 'seed of the augmentation gallery', (v) => Number.parseInt(v, 10), 42)
    .option('--recipe <name>', `whose channel augmentation the gallery shows op by op (${recipeNames().join(', ')})`, 'ser-robust')
    .option('--no-progress', 'no progress bar')
    .action(async (o: { data: string; out: string; format: string; labelMap?: string; progress: boolean; augmentExamples?: boolean; seed: number; recipe: string }) => {
      if (o.format !== 'auto' && !(CORPUS_FORMATS as readonly string[]).includes(o.format)) {
        throw new SerError('cli/bad-option', `--format: unknown format "${o.format}"; use auto, ${CORPUS_FORMATS.join(', ')}`);
      }
      if (!Number.isInteger(o.seed)) throw new SerError('cli/bad-option', `--seed: expected an integer, got ${String(o.seed)}`);
      const res = await exploreCorpus(o.data, o.out, {
        format: o.format as CorpusFormat | 'auto',
        ...(o.labelMap ? { labelMap: parseLabelMap(o.labelMap) } : {}),
        progress: o.progress,
        augmentExamples: Boolean(o.augmentExamples),
        seed: o.seed,
        channel: getRecipe(o.recipe).offlineAugment?.channel ?? null,
      });
      console.log(summarizeCorpus(res.corpus));
      console.log(`report: ${pathToFileURL(resolve(res.html)).href}`);
    });
}
