import type { Command } from 'commander';
import { SerError } from '../../util/errors.js';

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('(not implemented yet)')
    .action(() => {
      throw new SerError('cli/not-implemented', 'evaluate is not implemented yet');
    });
}
