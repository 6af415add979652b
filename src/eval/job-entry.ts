/**
 * The entry of an experiment's child process: `node dist/eval/job-entry.js JOB_FILE` runs one job
 * file (see `runJobFile`) and exits non-zero with the error on stderr if it fails.
 */
import { describeError } from '../util/errors.js';
import { runJobFile } from './job.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node job-entry.js JOB_FILE\n');
  process.exitCode = 2;
} else {
  runJobFile(file).catch((e: unknown) => {
    // the stack first, the message last: the parent reports the last lines of stderr
    process.stderr.write(`${e instanceof Error && e.stack ? `${e.stack}\n` : ''}${describeError(e)}\n`);
    process.exitCode = 1;
  });
}
