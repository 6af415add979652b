import type { Command } from 'commander';
import { SerError } from '../../util/errors.js';

export function register(program: Command): void {
  program
    .command('train')
    .description('(not implemented yet)')
    .action(() => {
      throw new SerError('cli/not-implemented', 'train is not implemented yet');
    });
}
