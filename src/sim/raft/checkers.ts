import { isElexError } from '../../core/index.js';
import type { Entry, NodeObserver, ObservedNode, Ready, Snapshot } from '../../raft/index.js';
import { NONE, Role } from '../../raft/index.js';
import type { Simulator } from '../simulator.js';

export interface Violation {
  run_seed: number;
  invariant: string;
  /** Simulator events processed when it was detected (replay the seed to that point). */
  step: number;
  detail: string;
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a === b) return true;
  if (a.index !== b.index || a.term !== b.term || a.type !== b.type || a.data.length !== b.data.length)
    return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

/**
 * The safety checks, run on every Ready (before it takes effect), every persisted hard state and every applied
 * entry: Election Safety, one vote per term, Log Matching, Leader Completeness, State Machine Safety (installed
 * snapshots included), committed entries durable on a quorum, monotonic term/commit/applied, and at-most-once
 * execution of client commands.
 */
export class InvariantChecker implements NodeObserver {
  readonly violations: Violation[] = [];
  private readonly leaders = new Map<number, number>();
  /** (index,term) → the entry and the term of its predecessor, as first persisted anywhere. */
  private readonly logIndex = new Map<string, { e: Entry; prev: number }>();
  /** index → the entry applied there (the committed log, as far as anyone applied it). */
  readonly committed = new Map<number, Entry>();
  maxCommitted = 0;
  /** index → the term of a snapshot some node installed at that index, while no node had applied it. */
  private readonly snapshotTerms = new Map<number, number>();
  /** `node:term` → the candidate that node's persisted (and so sent) vote went to, across its lives. */
  private readonly votes = new Map<string, number>();
  /** Leader term → the newest (index, term) that leader was seen to commit (applied or not). */
  private readonly commitPoints = new Map<number, { index: number; term: number }>();
  /** The highest index a leader's commit was checked at (a commit above it is nobody else's). */
  private checkedCommit = 0;
  private lastTerm: number[];
  private persistedTerm: number[];
  private lastCommit: number[];
  private lastApplied: number[];
  private lastLeaderCommit: number[];
  /** The term of this life's last Ready as leader (-1: none yet). */
  private ledTerm: number[];
  /** The voters at this node's previous Ready. */
  private prevVoters: (readonly number[])[];
  private executed: Set<string>[];
  onLeader: ((node: ObservedNode, term: number) => void) | null = null;
  private readonly maxViolations = 20;

  constructor(
    private readonly sim: Simulator,
    readonly runSeed: number,
    n: number,
  ) {
    this.lastTerm = new Array(n).fill(0);
    this.persistedTerm = new Array(n).fill(0);
    this.lastCommit = new Array(n).fill(0);
    this.lastApplied = new Array(n).fill(0);
    this.lastLeaderCommit = new Array(n).fill(0);
    this.ledTerm = new Array(n).fill(-1);
    this.prevVoters = Array.from({ length: n }, () => []);
    this.executed = Array.from({ length: n }, () => new Set<string>());
  }

  violate(invariant: string, detail: string): void {
    if (this.violations.length >= this.maxViolations) return;
    this.violations.push({ run_seed: this.runSeed, invariant, step: this.sim.eventsProcessed, detail });
  }

  onPersisted(node: ObservedNode, rd: Ready): void {
    const hs = rd.hardState;
    if (hs === null) return;
    if (hs.term > this.persistedTerm[node.id]) this.persistedTerm[node.id] = hs.term;
    // One vote per term: the vote is durable now and its reply is about to leave. A second candidate in the
    // same term (a lost vote after a restart, a vote granted twice) breaks what Election Safety rests on,
    // whether or not both candidates go on to win.
    if (hs.vote === NONE) return;
    const k = `${node.id}:${hs.term}`;
    const prev = this.votes.get(k);
    if (prev === undefined) this.votes.set(k, hs.vote);
    else if (prev !== hs.vote)
      this.violate(
        'one-vote-per-term',
        `node ${node.id} voted for ${prev} and then ${hs.vote} in term ${hs.term}`,
      );
  }

  onRestart(node: ObservedNode): void {
    const r = node.raft!;
    // Across a crash only what was persisted (and so possibly told to others) must survive.
    if (r.term < this.persistedTerm[node.id])
      this.violate(
        'monotonic-term',
        `node ${node.id} restarted at term ${r.term} < ${this.persistedTerm[node.id]}`,
      );
    this.lastTerm[node.id] = r.term;
    this.lastCommit[node.id] = r.log.committed;
    this.lastApplied[node.id] = r.log.applied;
    this.lastLeaderCommit[node.id] = 0;
    this.ledTerm[node.id] = -1;
    this.prevVoters[node.id] = [...r.conf.voters];
    this.executed[node.id] = new Set();
  }

  onError(node: ObservedNode, e: unknown): void {
    const msg = isElexError(e) ? `${e.code}: ${e.message}` : String(e);
    this.violate('assertion', `node ${node.id}: ${msg}`);
  }

  onReady(node: ObservedNode, rd: Ready): void {
    const r = node.raft!;
    const id = node.id;
    if (r.term < this.lastTerm[id])
      this.violate('monotonic-term', `node ${id}: ${this.lastTerm[id]} → ${r.term}`);
    this.lastTerm[id] = r.term;
    if (r.log.committed < this.lastCommit[id])
      this.violate('monotonic-commit', `node ${id}: ${this.lastCommit[id]} → ${r.log.committed}`);
    this.lastCommit[id] = r.log.committed;

    if (rd.role === Role.Leader) {
      const prev = this.leaders.get(r.term);
      if (prev === undefined) {
        this.leaders.set(r.term, id);
        // Only commits this leader makes are checked against its configuration (earlier ones were made
        // under the configuration of their time, which may have had other members).
        this.lastLeaderCommit[id] = r.log.committed;
        this.checkLeaderCompleteness(node);
        this.onLeader?.(node, r.term);
      } else if (prev !== id) this.violate('election-safety', `term ${r.term}: leaders ${prev} and ${id}`);
    }

    if (rd.snapshot !== null) this.checkSnapshot(id, rd.snapshot);

    for (let k = 0; k < rd.entries.length; k++) {
      const e = rd.entries[k];
      const prevTerm = k > 0 ? rd.entries[k - 1].term : r.log.term(e.index - 1);
      const key = `${e.index}:${e.term}`;
      const seen = this.logIndex.get(key);
      if (seen === undefined) this.logIndex.set(key, { e, prev: prevTerm });
      else if (!sameEntry(seen.e, e) || (prevTerm >= 0 && seen.prev >= 0 && seen.prev !== prevTerm))
        this.violate('log-matching', `node ${id}: entry (${e.index},${e.term}) differs from another log's`);
    }

    if (rd.role === Role.Leader) this.ledTerm[id] = r.term;
    if (r.log.committed > this.lastLeaderCommit[id]) {
      if (rd.role === Role.Leader) {
        this.lastLeaderCommit[id] = r.log.committed;
        this.commitPoints.set(r.term, { index: r.log.committed, term: r.log.term(r.log.committed) });
        // Under the voters of its previous Ready too: a conf change applied as that Ready finished, and commits
        // made while its sync was in flight (a committed conf change is synced) were made under the old ones.
        this.checkDurableQuorum(node, r.log.committed, r.log.term(r.log.committed), [
          this.prevVoters[id],
          r.conf.voters,
        ]);
      } else if (
        this.ledTerm[id] === r.term ||
        (this.ledTerm[id] >= 0 && r.log.committed > this.checkedCommit)
      ) {
        // It led and stepped down before a Ready showed its last commits: in this term (CheckQuorum, its own
        // removal; no other node leads this term), or into a later one (a higher-term message) when no leader
        // was seen to commit this far, so nobody else's commit can have taught it. They are its own, made in
        // the term it led, under the voters of its previous Ready or, after that Ready applied a change, under
        // the current ones.
        const led = this.ledTerm[id];
        this.lastLeaderCommit[id] = r.log.committed;
        const point = { index: r.log.committed, term: r.log.term(r.log.committed) };
        if ((this.commitPoints.get(led)?.index ?? -1) < point.index) this.commitPoints.set(led, point);
        this.checkDurableQuorum(node, point.index, point.term, [this.prevVoters[id], r.conf.voters]);
      }
    }
    this.prevVoters[id] = r.conf.voters;
  }

  onApplied(node: ObservedNode, e: Entry): void {
    const id = node.id;
    if (e.index <= this.lastApplied[id])
      this.violate('monotonic-applied', `node ${id}: applied ${e.index} after ${this.lastApplied[id]}`);
    this.lastApplied[id] = e.index;
    const c = this.committed.get(e.index);
    if (c === undefined) {
      this.committed.set(e.index, e);
      if (e.index > this.maxCommitted) this.maxCommitted = e.index;
      const st = this.snapshotTerms.get(e.index);
      if (st !== undefined && st !== e.term)
        this.violate(
          'state-machine-safety',
          `node ${id} applied (${e.index},${e.term}), but a snapshot was installed at (${e.index},${st})`,
        );
    } else if (!sameEntry(c, e))
      this.violate(
        'state-machine-safety',
        `node ${id} applied (${e.index},${e.term}), another (${c.index},${c.term})`,
      );
  }

  /**
   * A snapshot replaces applied entries, so State Machine Safety must see it too: it ends on the committed
   * entry's (index, term), and it does not take the node's state machine back below what it applied.
   */
  private checkSnapshot(id: number, s: Snapshot): void {
    const { index, term } = s.meta;
    if (index < this.lastApplied[id])
      this.violate(
        'monotonic-applied',
        `node ${id} installs a snapshot at ${index} after applying ${this.lastApplied[id]}`,
      );
    else this.lastApplied[id] = index;
    const c = this.committed.get(index);
    if (c !== undefined) {
      if (c.term !== term)
        this.violate(
          'state-machine-safety',
          `node ${id} installs a snapshot at (${index},${term}), another node applied (${index},${c.term})`,
        );
      return;
    }
    const st = this.snapshotTerms.get(index);
    if (st === undefined) this.snapshotTerms.set(index, term);
    else if (st !== term)
      this.violate(
        'state-machine-safety',
        `node ${id} installs a snapshot at (${index},${term}), another at (${index},${st})`,
      );
  }

  onExecute(node: ObservedNode, client: number, seq: number, _index: number): void {
    if (client === 0) return;
    const key = `${client}:${seq}`;
    const set = this.executed[node.id];
    if (set.has(key))
      this.violate('exactly-once', `node ${node.id} executed client ${client} seq ${seq} twice`);
    set.add(key);
  }

  /**
   * Leader Completeness: a leader of term T holds every entry committed in terms before T. (Entries of later
   * terms may exist: a stale leader whose first Ready was delayed by a disk stall is still "leader of T".)
   * By Log Matching it suffices to check the newest such entry inside the leader's uncompacted log: the newest
   * a leader of an earlier term was seen to commit (whether or not anyone applied it yet), and the newest of an
   * earlier term that some node applied.
   */
  private checkLeaderCompleteness(node: ObservedNode): void {
    const r = node.raft!;
    let newest: { index: number; term: number } | undefined;
    for (const [t, p] of this.commitPoints)
      if (t < r.term && (newest === undefined || p.index > newest.index)) newest = p;
    if (newest !== undefined && newest.index >= r.log.offset && r.log.term(newest.index) !== newest.term) {
      this.violate(
        'leader-completeness',
        `node ${node.id} leads term ${r.term} without committed entry (${newest.index},${newest.term}) (has term ${r.log.term(newest.index)})`,
      );
      return;
    }
    for (let i = this.maxCommitted; i > r.log.offset; i--) {
      const c = this.committed.get(i);
      if (c === undefined || c.term >= r.term) continue;
      if (r.log.term(i) !== c.term)
        this.violate(
          'leader-completeness',
          `node ${node.id} leads term ${r.term} without committed entry (${i},${c.term}) (has term ${r.log.term(i)})`,
        );
      return;
    }
  }

  /**
   * A committed entry must be on the durable disks of a quorum of voters (what a crash cannot take), in one of
   * the configurations `confs` the commit may have been made under.
   */
  private checkDurableQuorum(
    node: ObservedNode,
    index: number,
    term: number,
    confs: readonly (readonly number[])[],
  ): void {
    if (index > this.checkedCommit) this.checkedCommit = index;
    const report: string[] = [];
    for (const voters of confs) {
      let holders = 0;
      const who: string[] = [];
      for (const v of voters) {
        const ok = durablyHolds(this.sim, v, index, term);
        if (ok) holders++;
        who.push(`${v}:${ok ? 'yes' : 'no'}(match ${node.raft!.prs.get(v)?.match ?? '-'})`);
      }
      if (holders >= (voters.length >> 1) + 1) return;
      report.push(`${holders}/${voters.length} voters hold it durably [${who.join(' ')}]`);
    }
    this.violate(
      'durable-quorum',
      `leader ${node.id} committed (${index},${term}) but only ${report.join('; or ')}`,
    );
  }
}

/** Whether node `v`'s durable disk content (what survives a crash) contains entry (index, term). */
export function durablyHolds(sim: Simulator, v: number, index: number, term: number): boolean {
  const disk = sim.disk(v);
  const snap = disk.readDurable('raft/snap') as Snapshot | undefined;
  if (snap !== undefined && snap.meta.index >= index) return true;
  const first = (disk.readDurable('raft/first') as number | undefined) ?? 1;
  const last = (disk.readDurable('raft/last') as number | undefined) ?? first - 1;
  if (index < first || index > last) return false;
  const e = disk.readDurable(`raft/e/${index}`) as Entry | undefined;
  return e !== undefined && e.term === term;
}
