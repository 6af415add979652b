import type { Command } from 'commander';
import { SerError } from '../../../util/errors.js';

export function registerBench(bench: Command): void {
  bench
    .command('features')
    .description('(not implemented yet)')
    .action(() => {
      throw new SerError('cli/not-implemented', 'bench features is not implemented yet');
    });
}
