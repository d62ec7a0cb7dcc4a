import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';

/** `elex bench federation`: owned by the federation work; replaced when that benchmark lands. */
export function register(bench: Command): void {
  bench
    .command('federation')
    .description('the federation benchmark (not built yet)')
    .action(() => {
      throw new ElexError('E_NOT_BUILT', 'the federation benchmark is not built yet');
    });
}
