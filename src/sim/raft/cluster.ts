import { CounterMetrics } from '../../core/index.js';
import { type Message, type RaftConfig, Role } from '../../raft/index.js';
import { type SimOptions, Simulator } from '../simulator.js';
import { InvariantChecker } from './checkers.js';
import { type Mutation, mutate } from './mutations.js';
import { type DriverOptions, RaftSimNode } from './node.js';

export interface ClusterOptions {
  seed: number;
  nodes: number;
  /** Raft knobs (PreVote, CheckQuorum, timeouts...). */
  raft?: Partial<Omit<RaftConfig, 'id' | 'rng' | 'voters' | 'metrics'>>;
  snapshotEvery?: number;
  snapshotKeep?: number;
  /** The KV machine's session bound (default 10,000). */
  maxSessions?: number;
  mutation?: Mutation;
  sim?: Partial<SimOptions>;
}

/** K Raft nodes on one simulator, with the invariant checker watching every Ready. */
export class RaftCluster {
  readonly sim: Simulator;
  readonly nodes: RaftSimNode[] = [];
  readonly checker: InvariantChecker;
  readonly metrics = new CounterMetrics();

  constructor(readonly opts: ClusterOptions) {
    this.sim = new Simulator({ seed: opts.seed, ...opts.sim });
    this.checker = new InvariantChecker(this.sim, opts.seed, opts.nodes);
    const voters = [...Array(opts.nodes).keys()];
    const driver: DriverOptions = mutate(
      {
        raft: { snapshotChunkBytes: 256, ...opts.raft, metrics: this.metrics },
        voters,
        tickMs: opts.raft?.tickMs ?? 10,
        snapshotEvery: opts.snapshotEvery ?? 10_000,
        snapshotKeep: opts.snapshotKeep ?? 100,
        ...(opts.maxSessions !== undefined ? { maxSessions: opts.maxSessions } : {}),
      },
      opts.mutation,
    );
    for (let i = 0; i < opts.nodes; i++) {
      const nodes = this.nodes;
      this.sim.addNode(`n${i}`, {
        deliver: (_from, payload) => nodes[i].deliver(payload as Message),
        crash: () => nodes[i].crash(),
        restart: () => nodes[i].start(),
      });
      nodes.push(new RaftSimNode(this.sim, i, driver, this.checker));
    }
    for (const n of this.nodes) n.start();
  }

  /** The up leader with the highest term, if any. */
  leader(): RaftSimNode | null {
    let best: RaftSimNode | null = null;
    for (const n of this.nodes) {
      const r = n.raft;
      if (r === null || r.role !== Role.Leader || this.sim.status(n.id) !== 'up') continue;
      if (best === null || r.term > best.raft!.term) best = n;
    }
    return best;
  }

  /** A leader that a quorum of its voters currently follow (a stable, usable leader). */
  stableLeader(): RaftSimNode | null {
    const l = this.leader();
    if (l === null) return null;
    const r = l.raft!;
    let follow = 0;
    for (const v of r.conf.voters) {
      const n = this.nodes[v]?.raft;
      if (n && n.term === r.term && n.lead === l.id) follow++;
    }
    return follow >= (r.conf.voters.length >> 1) + 1 ? l : null;
  }
}
