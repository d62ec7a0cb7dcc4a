import type { Violation } from './checkers.js';
import { RaftCluster } from './cluster.js';

export interface FlappingOptions {
  seed: number;
  nodes: number;
  preVote: boolean;
  /** How long the member flaps (ms). */
  durationMs?: number;
}

export interface FlappingReport {
  scenario: 'flapping';
  seed: number;
  nodes: number;
  pre_vote_and_check_quorum: boolean;
  flaps: number;
  /** Real elections (term bumps by a candidate) started while the leader was healthy. */
  elections_while_leader_healthy: number;
  leader_changes: number;
  term_before: number;
  term_after: number;
  /** What the invariant checker flagged meanwhile (it watches every Ready here as in the campaign). */
  violations: Violation[];
}

/**
 * The Cloudflare-2020 shape: one member's links flap (cut from everyone for 400–900 ms, then back) while
 * the leader stays healthy. With PreVote and CheckQuorum the flapping member can never win a PreVote (the
 * others hear from the leader), so no election starts and the term never moves. Without them, every
 * reconnection bumps the term and deposes the leader.
 */
export function runFlapping(o: FlappingOptions): FlappingReport {
  const cluster = new RaftCluster({
    seed: o.seed,
    nodes: o.nodes,
    raft: { preVote: o.preVote, checkQuorum: o.preVote },
  });
  const sim = cluster.sim;
  sim.runUntilTrue(() => cluster.stableLeader() !== null, 5000);
  sim.runFor(500);
  const leader = cluster.stableLeader()!;
  const termBefore = leader.raft!.term;
  const electionsBefore = cluster.metrics.get('raft.elections');
  const rng = sim.rng('flap');
  const victim = (leader.id + 1) % o.nodes;
  const others = [...Array(o.nodes).keys()].filter((i) => i !== victim);
  const end = sim.now + (o.durationMs ?? 20_000);
  let flaps = 0;
  let leaderChanges = 0;
  let lastLeader = leader.id;
  while (sim.now < end) {
    const p = sim.partition({ kind: 'symmetric', sides: [[victim], others] });
    sim.runFor(400 + rng.int(500));
    sim.heal(p);
    flaps++;
    sim.runFor(50 + rng.int(250));
    const l = cluster.leader();
    if (l !== null && l.id !== lastLeader) {
      leaderChanges++;
      lastLeader = l.id;
    }
  }
  sim.runFor(1000);
  return {
    scenario: 'flapping',
    seed: o.seed,
    nodes: o.nodes,
    pre_vote_and_check_quorum: o.preVote,
    flaps,
    elections_while_leader_healthy: cluster.metrics.get('raft.elections') - electionsBefore,
    leader_changes: leaderChanges,
    term_before: termBefore,
    term_after: cluster.leader()?.raft?.term ?? -1,
    violations: cluster.checker.violations,
  };
}
