import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';

/** `elex simulate raft`: owned by the raft work; replaced when that campaign lands. */
export function register(simulate: Command): void {
  simulate
    .command('raft')
    .description('the raft campaign (not built yet)')
    .action(() => {
      throw new ElexError('E_NOT_BUILT', 'the raft campaign is not built yet');
    });
}
