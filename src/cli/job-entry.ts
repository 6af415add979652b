/**
 * The process entry of an experiment's child job: `node dist/cli/job-entry.js JOB_FILE` runs one job
 * file through the library (`runJobFile`, eval/job.ts), which only throws; this CLI-side entry decides
 * the exit code (2: usage, 1: the job failed) and writes the error last on stderr, where the parent
 * reads it. `ser experiments` starts it through `jobEntryCommand()` (commands/experiments.ts).
 */
import { runJobFile } from '../eval/job.js';
import { epochLine } from '../eval/run-progress.js';
import { describeError } from '../util/errors.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node job-entry.js JOB_FILE\n');
  process.exitCode = 2;
} else {
  // one JSON line per epoch on stdout: the parent's progress bar (runChild's onLine)
  runJobFile(file, (epoch, epochs) => process.stdout.write(epochLine(epoch, epochs))).catch((e: unknown) => {
    // the stack first, the message last: the parent reports the last lines of stderr
    process.stderr.write(`${e instanceof Error && e.stack ? `${e.stack}\n` : ''}${describeError(e)}\n`);
    process.exitCode = 1;
  });
}
