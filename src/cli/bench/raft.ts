import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';

/** `elex bench raft`: owned by the raft work; replaced when that benchmark lands. */
export function register(bench: Command): void {
  bench
    .command('raft')
    .description('the raft benchmark (not built yet)')
    .action(() => {
      throw new ElexError('E_NOT_BUILT', 'the raft benchmark is not built yet');
    });
}
