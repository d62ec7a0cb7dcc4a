import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';

/** `elex simulate federation`: owned by the federation work; replaced when that campaign lands. */
export function register(simulate: Command): void {
  simulate
    .command('federation')
    .description('the federation campaign (not built yet)')
    .action(() => {
      throw new ElexError('E_NOT_BUILT', 'the federation campaign is not built yet');
    });
}
