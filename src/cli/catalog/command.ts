import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';

/** `elex catalog`: owned by the catalogue work; replaced when the catalogue lands. */
export function register(program: Command): void {
  program
    .command('catalog [feature]')
    .description('the feature catalogue (not built yet)')
    .action(() => {
      throw new ElexError('E_NOT_BUILT', 'the catalogue is not built yet');
    });
}
