import { type Message, Raft, type RaftBoot, type RaftConfig } from '../../raft/index.js';
import type { DriverOptions } from './node.js';

/**
 * Planted bugs. They exist to prove the campaign's checks can fail: each must be caught within 100 runs.
 * They live here, in the simulator, and reach the core only by subclassing its protected mutation points.
 */
export const MUTATIONS = ['skip-persist', 'commit-without-quorum', 'vote-twice', 'stale-read'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** Leader counts only its own durable log: commits without a quorum. */
class CommitWithoutQuorum extends Raft {
  protected override quorumMatchIndex(): number {
    return this.prs.get(this.id)?.match ?? 0;
  }
}

/** Grants every up-to-date candidate its vote, even after voting for another in the same term. */
class VoteTwice extends Raft {
  protected override canVote(_m: Message): boolean {
    return true;
  }
}

/** Applies a mutation to the driver options. */
export function mutate(opts: DriverOptions, m: Mutation | undefined): DriverOptions {
  switch (m) {
    case undefined:
      return opts;
    case 'skip-persist':
      return { ...opts, skipPersist: true };
    case 'stale-read':
      return { ...opts, staleRead: true };
    case 'commit-without-quorum':
      return { ...opts, makeRaft: (c: RaftConfig, b: RaftBoot) => new CommitWithoutQuorum(c, b) };
    case 'vote-twice':
      return { ...opts, makeRaft: (c: RaftConfig, b: RaftBoot) => new VoteTwice(c, b) };
  }
}
