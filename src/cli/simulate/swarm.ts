import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';

/** `elex simulate swarm`: owned by the swarm work (issue 6); replaced when the end-to-end swarm lands. */
export function register(simulate: Command): void {
  simulate
    .command('swarm')
    .description('the whole swarm: 14 coordinators on Raft, 593 agents on gossip (not built yet)')
    .action(() => {
      throw new ElexError('E_NOT_BUILT', 'the swarm scenario is not built yet');
    });
}
