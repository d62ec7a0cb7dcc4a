import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';

/** `elex simulate gossip`: owned by the gossip work; replaced when that campaign lands. */
export function register(simulate: Command): void {
  simulate
    .command('gossip')
    .description('the gossip campaign (not built yet)')
    .action(() => {
      throw new ElexError('E_NOT_BUILT', 'the gossip campaign is not built yet');
    });
}
