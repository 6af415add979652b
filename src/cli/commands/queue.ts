/**
 * `ser queue add|status|results|clear --redis URL`: batches spread over many machines through a
 * BullMQ queue on Redis; `ser worker` (worker.ts) does the work. The engine is ../batch/queue.ts.
 */
import type { Command } from 'commander';
import { SerError } from '../../util/errors.js';
import { batchInputs, parseShard } from '../batch/inputs.js';
import { addPredictOptions, inputSpec, predictOptionsOf, type PredictFlags } from '../batch/predict.js';
import { clearQueue, collectResults, enqueue, isSettled, openQueue, queueStatus, type QueueRef } from '../batch/queue.js';

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new SerError('cli/bad-option', `--${name} must be a positive integer, got "${v}"`);
    return n;
  };
}

/** --redis (required) and --queue on a subcommand. */
function withQueue(cmd: Command): Command {
  return cmd
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379')
    .option('--queue <name>', 'queue name', 'ser');
}

const ref = (o: { redis: string; queue: string }): QueueRef => ({ redis: o.redis, name: o.queue });

export function register(program: Command): void {
  const queue = program.command('queue').description('spread a batch of predictions over many machines (BullMQ on Redis); see also `ser worker`');

  addPredictOptions(withQueue(queue.command('add')))
    .description('enqueue inputs (files, folders, glob patterns, --manifest) in chunks for `ser worker`s')
    .argument('[files...]', 'audio files, directories or quoted glob patterns')
    .option('--manifest <file>', "inputs listed in a file (.txt, .csv with a 'path' column, .jsonl) or '-' for standard input")
    .option('--shard <i/n>', 'enqueue only share I of N of the inputs')
    .option('--chunk <n>', 'inputs per chunk (one queue job)', positiveInt('chunk'), 50)
    .action(async (files: string[], o: PredictFlags & { redis: string; queue: string; manifest?: string; shard?: string; chunk: number }) => {
      const options = predictOptionsOf(o);
      const spec = inputSpec(files, { manifest: o.manifest, shard: o.shard });
      if (o.shard !== undefined) parseShard(o.shard);
      const q = await openQueue(ref(o));
      try {
        const r = await enqueue(q, batchInputs(spec), o.chunk, options);
        console.log(`queued ${r.inputs} inputs in ${r.chunks} chunks${r.chunks ? ` (chunk-${r.firstChunk} … chunk-${r.firstChunk + r.chunks - 1})` : ''} on "${o.queue}"`);
      } finally {
        await q.close();
      }
    });

  withQueue(queue.command('status'))
    .description('chunks waiting, active, completed and failed')
    .option('--json', 'one JSON object')
    .action(async (o: { redis: string; queue: string; json?: boolean }) => {
      const q = await openQueue(ref(o));
      try {
        const c = await queueStatus(q);
        if (o.json) console.log(JSON.stringify(c));
        else console.log(`queue "${o.queue}": ${c.chunks} chunks enqueued — ${c.completed} completed, ${c.failed} failed, ${c.active} active, ${c.waiting} waiting, ${c.delayed} delayed (retry)`);
      } finally {
        await q.close();
      }
    });

  withQueue(queue.command('results'))
    .description('write the result lines of every finished chunk (in enqueue order) to --out or standard output')
    .option('--out <file>', 'result file (JSON lines), written atomically')
    .option('--wait', 'first wait until no chunk is waiting or active')
    .action(async (o: { redis: string; queue: string; out?: string; wait?: boolean }) => {
      const q = await openQueue(ref(o));
      try {
        if (o.wait) {
          for (;;) {
            const c = await queueStatus(q);
            if (isSettled(c)) break;
            process.stderr.write(`ser queue: ${c.completed + c.failed}/${c.chunks} chunks finished, waiting…\n`);
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
        const r = await collectResults(q, o.out);
        process.stderr.write(`ser queue: ${r.lines} result lines (${r.errors} errors)${r.failedChunks ? `, ${r.failedChunks} failed chunks` : ''}${r.pendingChunks ? `; ${r.pendingChunks} chunks not finished yet, left out` : ''}${o.out ? ` → ${o.out}` : ''}\n`);
        process.exitCode = r.pendingChunks > 0 ? 3 : r.errors > 0 ? 1 : 0;
      } finally {
        await q.close();
      }
    });

  withQueue(queue.command('clear'))
    .description('remove every chunk and result of the queue')
    .action(async (o: { redis: string; queue: string }) => {
      const q = await openQueue(ref(o));
      try {
        await clearQueue(q);
        console.log(`queue "${o.queue}" cleared`);
      } finally {
        await q.close();
      }
    });
}
