/**
 * `ser worker --redis URL [--jobs N] [--model DIR]`: predicts chunks of a `ser queue add` batch,
 * on as many machines as you like (../batch/queue.ts). Stops on SIGINT/SIGTERM after finishing its
 * chunks; a worker killed outright loses nothing (its chunks go to another worker).
 */
import type { Command } from 'commander';
import { SerError } from '../../util/errors.js';
import { parseJobs } from '../batch/predictor.js';
import { runWorker } from '../batch/queue.js';

function ms(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 100) throw new SerError('cli/bad-option', `--${name} must be a whole number of milliseconds ≥ 100, got "${v}"`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('predict chunks from a `ser queue` (BullMQ on Redis) until stopped')
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379')
    .option('--queue <name>', 'queue name', 'ser')
    .option('--model <dir>', 'model folder (default: the bundled models/default)')
    .option('--jobs <n>', 'chunks predicted at once, one worker thread each (default: the number of cores)')
    .option('--lock-ms <ms>', "a chunk's lock (renewed every half); a killed worker's chunks are taken over after about this long", ms('lock-ms'), 30_000)
    .option('--stalled-ms <ms>', 'how often to look for chunks of killed workers (default: half of --lock-ms)', ms('stalled-ms'))
    .option('--until-empty', 'exit once no chunk is waiting or active (for batch jobs) instead of waiting for more')
    .action(async (o: { redis: string; queue: string; model?: string; jobs?: string; lockMs: number; stalledMs?: number; untilEmpty?: boolean }) => {
      await runWorker({ redis: o.redis, name: o.queue, model: o.model, jobs: parseJobs(o.jobs), lockMs: o.lockMs, stalledMs: o.stalledMs, untilEmpty: o.untilEmpty });
    });
}
