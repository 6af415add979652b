import type { Command } from 'commander';
import { SerError } from '../../util/errors.js';

export function register(program: Command): void {
  program
    .command('experiments')
    .description('(not implemented yet)')
    .action(() => {
      throw new SerError('cli/not-implemented', 'experiments is not implemented yet');
    });
}
