import type { Command } from 'commander';
import { SerError } from '../../../util/errors.js';

export function registerBench(bench: Command): void {
  bench
    .command('server')
    .description('(not implemented yet)')
    .action(() => {
      throw new SerError('cli/not-implemented', 'bench server is not implemented yet');
    });
}
