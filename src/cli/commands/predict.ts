import type { Command } from 'commander';
import { SerError } from '../../util/errors.js';

export function register(program: Command): void {
  program
    .command('predict')
    .description('(not implemented yet)')
    .action(() => {
      throw new SerError('cli/not-implemented', 'predict is not implemented yet');
    });
}
