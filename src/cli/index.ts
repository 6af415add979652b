/**
 * The `ser` command line. Each command lives in its own file under commands/ and exports
 * `register(program)`; this file only lists them and turns errors into clean messages.
 */
import { Command } from 'commander';
import { describeError, isSerError } from '../util/errors.js';
import { commands } from './commands/index.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('ser')
    .description('speech-emotion: recognise emotion in speech (features, training, evaluation, prediction, serving)')
    .option('--verbose', 'show stack traces and extra diagnostics')
    .showHelpAfterError();
  for (const register of commands) register(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const verbose = program.opts().verbose || process.argv.includes('--verbose');
    if (verbose && e instanceof Error) console.error(e.stack);
    else console.error(`ser: ${describeError(e)}${isSerError(e) ? '' : ' (use --verbose for details)'}`);
    process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 2;
  }
}
