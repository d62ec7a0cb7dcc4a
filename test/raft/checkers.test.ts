import { describe, expect, it } from 'vitest';
import type { ObservedNode } from '../../src/raft/index.js';
import {
  DiskStorage,
  type Entry,
  EntryType,
  type HardState,
  type Raft,
  type Ready,
  Role,
} from '../../src/raft/index.js';
import { Simulator } from '../../src/sim/index.js';
import { InvariantChecker } from '../../src/sim/raft/checkers.js';

/**
 * Hand-made Ready sequences for the invariant checker. A node is a stand-in for the Raft state the checker
 * reads (term, vote, log, configuration); disks are the simulator's, so "durable" means what it means in a run.
 */
interface FakeRaft {
  term: number;
  vote: number;
  log: { committed: number; applied: number; offset: number; entries: Entry[]; term(i: number): number };
  conf: { voters: number[]; learners: number[] };
  prs: Map<number, { match: number }>;
}

function fakeNode(id: number, voters: number[]): ObservedNode & { r: FakeRaft } {
  const log = {
    committed: 0,
    applied: 0,
    offset: 0,
    entries: [] as Entry[],
    term(i: number): number {
      if (i === 0) return 0;
      return this.entries.find((e) => e.index === i)?.term ?? -1;
    },
  };
  const r: FakeRaft = { term: 0, vote: -1, log, conf: { voters, learners: [] }, prs: new Map() };
  return { id, r, raft: r as unknown as Raft };
}

function entry(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array([index, term]) };
}

function ready(
  role: Role,
  p: { entries?: Entry[]; hardState?: HardState; snapshot?: { index: number; term: number } } = {},
): Ready {
  return {
    hardState: p.hardState ?? null,
    entries: p.entries ?? [],
    snapshot:
      p.snapshot === undefined
        ? null
        : { meta: { ...p.snapshot, conf: { voters: [0, 1, 2], learners: [] } }, data: new Uint8Array() },
    committedEntries: [],
    messages: [],
    readStates: [],
    mustSync: p.entries !== undefined || p.hardState !== undefined || p.snapshot !== undefined,
    lead: -1,
    role,
  };
}

/** Node `n` leads `term` and appends index 1 of that term, uncommitted: its first Ready as leader. */
function leadsWithEntry(checker: InvariantChecker, n: ObservedNode & { r: FakeRaft }, term: number): void {
  n.r.term = term;
  n.r.log.entries = [entry(1, term)];
  checker.onReady(n, ready(Role.Leader, { entries: [entry(1, term)] }));
}

function cluster(n: number) {
  const sim = new Simulator({ seed: 1 });
  for (let i = 0; i < n; i++) sim.addNode(`n${i}`, { deliver: () => {} });
  const voters = [...Array(n).keys()];
  const nodes = voters.map((i) => fakeNode(i, voters));
  const checker = new InvariantChecker(sim, 1, n);
  for (const node of nodes) checker.onRestart(node);
  /** Makes `entries` durable on node `v`'s disk. */
  const persist = (v: number, entries: Entry[]) => {
    const s = new DiskStorage(sim.disk(v));
    s.append(entries);
    s.sync(() => {});
    sim.runFor(5);
  };
  return { sim, nodes, checker, persist };
}

describe('InvariantChecker: durable quorum', () => {
  it('a commit by a leader that stepped down before its next Ready is still checked', () => {
    const { nodes, checker } = cluster(3);
    const [a] = nodes;
    leadsWithEntry(checker, a, 2);
    // Its commit advanced (alone: nobody holds index 1 durably) and it stepped down (CheckQuorum) in the
    // same term before its next Ready: the first Ready that shows the commit is a follower's.
    a.r.log.committed = 1;
    checker.onReady(a, ready(Role.Follower));
    expect(checker.violations.map((v) => v.invariant)).toEqual(['durable-quorum']);
  });

  it('a follower commit in a later term is not its own: not checked against its configuration', () => {
    const { nodes, checker, persist } = cluster(3);
    const [a, b] = nodes;
    a.r.term = 2;
    checker.onReady(a, ready(Role.Leader));
    // b leads term 3 and commits index 1 on {1, 2} (a does not hold it yet), checked at b's Ready.
    leadsWithEntry(checker, b, 3);
    persist(1, [entry(1, 3)]);
    persist(2, [entry(1, 3)]);
    b.r.log.committed = 1;
    checker.onReady(b, ready(Role.Leader));
    // a learns the commit from b: its Ready shows it as a follower of term 3, before a's own disk has it.
    a.r.term = 3;
    a.r.log.entries = [entry(1, 3)];
    a.r.log.committed = 1;
    checker.onReady(a, ready(Role.Follower, { entries: [entry(1, 3)] }));
    expect(checker.violations).toEqual([]);
  });

  it('a commit by a leader that moved to a later term before its next Ready is still checked', () => {
    const { nodes, checker } = cluster(3);
    const [a] = nodes;
    leadsWithEntry(checker, a, 2);
    // Its commit advanced (alone: nobody holds index 1 durably), then a vote request of term 3 made it a
    // follower before its next Ready. No leader of any term was seen to commit index 1: the commit is its own.
    a.r.log.committed = 1;
    a.r.term = 3;
    checker.onReady(a, ready(Role.Follower, { hardState: { term: 3, vote: -1, commit: 1 } }));
    expect(checker.violations.map((v) => v.invariant)).toEqual(['durable-quorum']);
  });

  it('a stepped-down leader commit held by a quorum of the configuration of its last Ready passes', () => {
    const { nodes, checker, persist } = cluster(3);
    const [a] = nodes;
    leadsWithEntry(checker, a, 2);
    persist(0, [entry(1, 2)]);
    persist(1, [entry(1, 2)]);
    // It committed index 1 on {0, 1}, then applied its own removal and stepped down: {1, 2} has no quorum
    // holding index 1, but the commit was made under {0, 1, 2}.
    a.r.log.committed = 1;
    a.r.conf.voters = [1, 2];
    checker.onReady(a, ready(Role.Follower));
    expect(checker.violations).toEqual([]);
  });
});

describe('InvariantChecker: leader completeness', () => {
  it('a new leader lacking an entry a past leader committed is caught before anyone applied it', () => {
    const { nodes, checker, persist } = cluster(3);
    const [a, , c] = nodes;
    leadsWithEntry(checker, a, 2);
    persist(0, [entry(1, 2)]);
    persist(1, [entry(1, 2)]);
    a.r.log.committed = 1;
    checker.onReady(a, ready(Role.Leader));
    expect(checker.violations).toEqual([]);
    // Node 0 crashes before applying index 1, so no node has applied it yet; node 2, whose log is empty,
    // leads term 3 (a voter granted it a vote it should not have).
    leadsWithEntry(checker, c, 3);
    expect(checker.violations.map((v) => v.invariant)).toEqual(['leader-completeness']);
  });

  it('commits of a later term do not bind a leader of an earlier term', () => {
    const { nodes, checker, persist } = cluster(3);
    const [a, b] = nodes;
    leadsWithEntry(checker, b, 3);
    persist(1, [entry(1, 3)]);
    persist(2, [entry(1, 3)]);
    b.r.log.committed = 1;
    checker.onReady(b, ready(Role.Leader));
    // A leader of term 2 (one that has not heard of term 3 yet) need not hold it.
    a.r.term = 2;
    checker.onReady(a, ready(Role.Leader));
    expect(checker.violations).toEqual([]);
  });
});

describe('InvariantChecker: one vote per term', () => {
  it('a node that grants a second candidate its vote in a term is caught, across a restart too', () => {
    const { nodes, checker } = cluster(3);
    const [a] = nodes;
    a.r.term = 2;
    a.r.vote = 1;
    const rd = ready(Role.Follower, { hardState: { term: 2, vote: 1, commit: 0 } });
    checker.onReady(a, rd);
    checker.onPersisted(a, rd);
    // Re-persisting the same vote (a commit change) and voting in a later term are fine.
    const again = ready(Role.Follower, { hardState: { term: 2, vote: 1, commit: 0 } });
    checker.onReady(a, again);
    checker.onPersisted(a, again);
    expect(checker.violations).toEqual([]);
    // It restarts having lost its vote (a persistence bug), and votes for node 2 in the same term: no second
    // leader need follow (node 1 may have lost anyway), so Election Safety alone could not see it.
    a.r.vote = -1;
    checker.onRestart(a);
    a.r.vote = 2;
    const second = ready(Role.Follower, { hardState: { term: 2, vote: 2, commit: 0 } });
    checker.onReady(a, second);
    checker.onPersisted(a, second);
    expect(checker.violations.map((v) => v.invariant)).toEqual(['one-vote-per-term']);
    a.r.term = 3;
    a.r.vote = 1;
    const later = ready(Role.Follower, { hardState: { term: 3, vote: 1, commit: 0 } });
    checker.onReady(a, later);
    checker.onPersisted(a, later);
    expect(checker.violations).toHaveLength(1);
  });
});

describe('InvariantChecker: snapshots', () => {
  it('a snapshot installed over an index some node applied must carry that entry term', () => {
    const { nodes, checker } = cluster(3);
    const [a, b] = nodes;
    checker.onApplied(a, entry(1, 2));
    checker.onApplied(a, entry(2, 2));
    // Node 1 installs a snapshot claiming index 2 is of term 3: a state that never was the committed one,
    // and no entry of it is ever applied there for State Machine Safety to compare.
    checker.onReady(b, ready(Role.Follower, { snapshot: { index: 2, term: 3 } }));
    expect(checker.violations.map((v) => v.invariant)).toEqual(['state-machine-safety']);
  });

  it('an entry applied after a snapshot was installed at its index must agree with the snapshot', () => {
    const { nodes, checker } = cluster(3);
    const [a, b] = nodes;
    checker.onReady(b, ready(Role.Follower, { snapshot: { index: 2, term: 3 } }));
    checker.onApplied(a, entry(1, 2));
    expect(checker.violations).toEqual([]);
    checker.onApplied(a, entry(2, 2));
    expect(checker.violations.map((v) => v.invariant)).toEqual(['state-machine-safety']);
  });

  it('a snapshot below what the node applied rewinds its state machine', () => {
    const { nodes, checker } = cluster(3);
    const [a] = nodes;
    for (let i = 1; i <= 5; i++) checker.onApplied(a, entry(i, 2));
    checker.onReady(a, ready(Role.Follower, { snapshot: { index: 3, term: 2 } }));
    expect(checker.violations.map((v) => v.invariant)).toEqual(['monotonic-applied']);
  });

  it('a matching snapshot ahead of the node is fine, and its index counts as applied', () => {
    const { nodes, checker } = cluster(3);
    const [a, b] = nodes;
    for (let i = 1; i <= 5; i++) checker.onApplied(a, entry(i, 2));
    checker.onApplied(b, entry(1, 2));
    checker.onReady(b, ready(Role.Follower, { snapshot: { index: 4, term: 2 } }));
    checker.onApplied(b, entry(5, 2));
    expect(checker.violations).toEqual([]);
    checker.onApplied(b, entry(3, 2));
    expect(checker.violations.map((v) => v.invariant)).toEqual(['monotonic-applied']);
  });
});
