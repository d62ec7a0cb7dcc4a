import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';

/** `elex bench gossip`: owned by the gossip work; replaced when that benchmark lands. */
export function register(bench: Command): void {
  bench
    .command('gossip')
    .description('the gossip benchmark (not built yet)')
    .action(() => {
      throw new ElexError('E_NOT_BUILT', 'the gossip benchmark is not built yet');
    });
}
