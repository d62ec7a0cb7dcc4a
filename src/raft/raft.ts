import { assert, ElexError, type Metrics, noMetrics, type Rng } from '../core/index.js';
import { applyToConf, decodeConfChange } from './conf-change.js';
import { RaftLog } from './log.js';
import { Progress, ProgressState } from './progress.js';
import { ReadOnly } from './read-only.js';
import {
  type ConfState,
  EMPTY_ENTRIES,
  type Entry,
  EntryType,
  emptyMessage,
  type HardState,
  MAX_SNAPSHOT_BYTES,
  type Message,
  MsgType,
  NONE,
  type ReadState,
  Role,
  type Snapshot,
  type SnapshotMeta,
} from './types.js';

export interface RaftConfig {
  id: number;
  /** Voters at bootstrap (ignored once a snapshot carries a configuration). */
  voters: number[];
  learners?: number[];
  rng: Rng;
  /** Length of one `tick()` in ms (default 10). */
  tickMs?: number;
  /** Base election timeout; each term draws uniformly from [base, 2×base) (default 150 ms). */
  electionTimeoutMs?: number;
  heartbeatMs?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** Batching limits for one App message. */
  maxMsgBytes?: number;
  maxEntriesPerMsg?: number;
  /** Pipelining window: unacknowledged App messages per follower. */
  maxInflight?: number;
  snapshotChunkBytes?: number;
  /** Committed entries handed out per Ready. */
  maxApplyBatch?: number;
  metrics?: Metrics;
}

/** What a node recovers from its disk at start. */
export interface RaftBoot {
  hardState?: HardState;
  snapshot?: Snapshot;
  entries?: readonly Entry[];
}

/** Marks a Vote that must bypass the leader lease: it comes from a leadership transfer. */
export const CONTEXT_TRANSFER = 1;

interface IncomingSnapshot {
  meta: SnapshotMeta;
  buf: Uint8Array;
  received: number;
}

/**
 * The Raft state machine (etcd's `raft` struct). Pure: inputs are `tick()` and `step(msg)`, outputs are
 * appended to `msgs` / `readStates` and to the log's unstable tail, collected by RawNode.ready().
 *
 * Methods marked "mutation point" are protected so the simulator's mutation wrappers can plant the bugs
 * the campaign must catch; nothing in the shipped code overrides them.
 */
export class Raft {
  readonly id: number;
  term = 0;
  vote = NONE;
  lead = NONE;
  role: Role = Role.Follower;
  readonly log: RaftLog;
  conf: ConfState;
  prs = new Map<number, Progress>();

  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** A snapshot received from the leader that the application must persist and restore. */
  pendingSnapshot: Snapshot | null = null;
  /** The latest local snapshot, sent to followers that fell behind the compaction point. */
  snapshot: Snapshot | null = null;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxMsgBytes: number;
  private readonly maxEntriesPerMsg: number;
  private readonly maxInflight: number;
  private readonly chunkBytes: number;
  readonly maxApplyBatch: number;
  private readonly rng: Rng;
  private readonly metrics: Metrics;

  private votes = new Map<number, boolean>();
  /** Index of the last conf change proposed; a new one waits until it is applied. */
  pendingConfIndex = 0;
  leadTransferee = NONE;
  /** Voters a removed leader has tried to hand over to in this term (`handOver`). */
  private readonly handOverTried = new Set<number>();
  private readonly readOnly = new ReadOnly();
  /** A TimeoutNow arrived while a committed conf change was unapplied: campaign once it is (`onApplied`). */
  private transferDeferred = false;
  /** Reads that arrived before this leader committed an entry of its own term. */
  private pendingReads: Message[] = [];
  private incoming: IncomingSnapshot | null = null;
  /** Followers owed an App (batched: sent when the driver next calls ready()). */
  private dirty = new Set<number>();
  private scratch = new Float64Array(16);

  constructor(cfg: RaftConfig, boot: RaftBoot = {}) {
    this.id = cfg.id;
    this.rng = cfg.rng;
    this.metrics = cfg.metrics ?? noMetrics;
    const tickMs = cfg.tickMs ?? 10;
    // NaN slipped through Math.max and the comparison below: a node that never held an election.
    for (const [name, v] of [
      ['tickMs', tickMs],
      ['electionTimeoutMs', cfg.electionTimeoutMs ?? 150],
      ['heartbeatMs', cfg.heartbeatMs ?? 50],
    ] as const)
      if (!(Number.isFinite(v) && v > 0))
        throw new ElexError('E_CONFIG', `${name} must be a positive number of milliseconds, got ${v}`);
    this.electionTicks = Math.max(2, Math.round((cfg.electionTimeoutMs ?? 150) / tickMs));
    this.heartbeatTicks = Math.max(1, Math.round((cfg.heartbeatMs ?? 50) / tickMs));
    if (this.heartbeatTicks >= this.electionTicks)
      throw new ElexError('E_CONFIG', 'the heartbeat interval must be shorter than the election timeout');
    this.preVote = cfg.preVote ?? true;
    this.checkQuorum = cfg.checkQuorum ?? true;
    this.maxMsgBytes = cfg.maxMsgBytes ?? 1 << 20;
    this.maxEntriesPerMsg = cfg.maxEntriesPerMsg ?? 4096;
    this.maxInflight = cfg.maxInflight ?? 256;
    this.chunkBytes = cfg.snapshotChunkBytes ?? 64 * 1024;
    this.maxApplyBatch = cfg.maxApplyBatch ?? 65536;

    const snap = boot.snapshot?.meta;
    this.snapshot = boot.snapshot ?? null;
    this.log = snap ? new RaftLog(snap.index, snap.term) : new RaftLog();
    this.conf = snap
      ? { voters: [...snap.conf.voters], learners: [...snap.conf.learners] }
      : {
          voters: [...cfg.voters].sort((a, b) => a - b),
          learners: [...(cfg.learners ?? [])].sort((a, b) => a - b),
        };
    if (boot.entries && boot.entries.length > 0) {
      const ents = boot.entries.filter((e) => e.index > this.log.offset);
      this.log.append(ents);
      this.log.stabled = this.log.lastIndex();
    }
    if (boot.hardState) {
      const hs = boot.hardState;
      this.term = hs.term;
      this.vote = hs.vote;
      assert(hs.commit <= this.log.lastIndex(), 'durable commit index beyond the durable log', {
        commit: hs.commit,
        last: this.log.lastIndex(),
      });
      this.log.commitTo(hs.commit);
    }
    this.becomeFollower(this.term, NONE);
  }

  // ---- queries ------------------------------------------------------------------------------------

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  isVoter(id: number): boolean {
    return this.conf.voters.includes(id);
  }

  private promotable(): boolean {
    return this.isVoter(this.id);
  }

  quorum(): number {
    return (this.conf.voters.length >> 1) + 1;
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  // ---- sending ------------------------------------------------------------------------------------

  private send(m: Message): void {
    // Proposals and reads are forwarded with term 0: the receiver treats them as local requests.
    if (m.type !== MsgType.Prop && m.type !== MsgType.ReadIndex && m.term === 0) m.term = this.term;
    this.msgs.push(m);
  }

  private msg(type: MsgType, to: number): Message {
    return emptyMessage(type, this.id, to, this.term);
  }

  /** Sends what `to` needs next. Returns whether a message went out. */
  private sendAppend(to: number, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const last = this.log.lastIndex();
    if (prevTerm < 0) return this.startSnapshot(to, pr);
    const ents =
      pr.next <= last
        ? this.log.slice(pr.next, last + 1, this.maxMsgBytes, this.maxEntriesPerMsg)
        : EMPTY_ENTRIES;
    if (ents.length === 0 && !sendIfEmpty) return false;
    const m = this.msg(MsgType.App, to);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = ents;
    m.commit = this.log.committed;
    this.send(m);
    if (ents.length > 0) {
      const lastSent = ents[ents.length - 1].index;
      if (pr.state === ProgressState.Replicate) {
        pr.next = lastSent + 1;
        pr.inflights.add(lastSent);
      } else pr.probeSent = true;
    } else if (pr.state === ProgressState.Probe) pr.probeSent = true;
    return true;
  }

  /** Sends pending appends to every follower marked dirty (called by RawNode before building a Ready). */
  flush(): void {
    if (this.role !== Role.Leader) {
      this.dirty.clear();
      return;
    }
    for (const to of this.dirty) {
      let first = true;
      // Replicate state pipelines: keep sending until the window is full or the log is exhausted.
      while (this.sendAppend(to, first)) {
        first = false;
        const pr = this.prs.get(to)!;
        if (pr.state !== ProgressState.Replicate || pr.next > this.log.lastIndex()) break;
      }
    }
    this.dirty.clear();
  }

  private markAll(): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.dirty.add(id);
  }

  private bcastHeartbeat(context: number): void {
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      const m = this.msg(MsgType.Heartbeat, id);
      // Never tell a follower to commit past what it is known to hold.
      m.commit = Math.min(pr.match, this.log.committed);
      m.context = context;
      this.send(m);
    }
  }

  // ---- snapshots (leader side) --------------------------------------------------------------------

  private startSnapshot(to: number, pr: Progress): boolean {
    const snap = this.snapshot;
    if (snap === null) return false;
    pr.becomeSnapshot(snap);
    this.metrics.inc('raft.snapshots_sent');
    this.sendChunks(to, pr);
    return true;
  }

  /** Streams chunks of the follower's snapshot, at most four unacknowledged at a time. */
  private sendChunks(to: number, pr: Progress): void {
    let snap = pr.streaming;
    // Kept while the log still holds the entries after it, as etcd pins PendingSnapshot; once compacted past
    // (the follower could not go on from it), start over with the newest.
    if (snap === null || snap.meta.index < this.log.offset) {
      snap = this.snapshot;
      if (snap === null) {
        pr.becomeProbe();
        return;
      }
      pr.becomeSnapshot(snap);
    }
    const total = snap.data.length;
    const window = 4 * this.chunkBytes;
    let sent = false;
    while (pr.snapSent < total || (total === 0 && !sent && pr.snapSent === 0)) {
      if (pr.snapSent - pr.snapOffset >= window) break;
      const at = pr.snapSent;
      const end = Math.min(total, at + this.chunkBytes);
      const m = this.msg(MsgType.Snap, to);
      m.snapMeta = snap.meta;
      m.index = at;
      m.chunk = snap.data.subarray(at, end);
      m.chunkTotal = total;
      this.send(m);
      pr.snapSent = end;
      sent = true;
      if (total === 0) break;
    }
  }

  // ---- role changes -------------------------------------------------------------------------------

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTicks + this.rng.int(this.electionTicks);
    this.leadTransferee = NONE;
    this.transferDeferred = false;
    this.handOverTried.clear();
    this.votes.clear();
    this.readOnly.reset();
    this.pendingReads = [];
    this.dirty.clear();
    this.prs = new Map();
    const next = this.log.lastIndex() + 1;
    for (const v of this.conf.voters) this.prs.set(v, new Progress(next, this.maxInflight, false));
    for (const l of this.conf.learners) this.prs.set(l, new Progress(next, this.maxInflight, true));
    const self = this.prs.get(this.id);
    if (self) self.match = this.log.stabled;
  }

  becomeFollower(term: number, lead: number): void {
    this.reset(term);
    this.role = Role.Follower;
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    // PreVote does not touch term or vote: a partitioned node cannot inflate terms (thesis §9.6).
    this.votes.clear();
    this.role = Role.PreCandidate;
    this.lead = NONE;
  }

  private becomeCandidate(): void {
    assert(this.role !== Role.Leader, 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
    this.metrics.inc('raft.elections');
  }

  private becomeLeader(): void {
    assert(this.role === Role.Candidate, 'only a candidate can become leader');
    this.reset(this.term);
    this.role = Role.Leader;
    this.lead = this.id;
    const self = this.prs.get(this.id);
    if (self) self.becomeReplicate();
    // No conf change until everything before our no-op is applied (closes the single-server bug).
    this.pendingConfIndex = this.log.lastIndex();
    this.appendEntries([{ index: 0, term: 0, type: EntryType.Normal, data: EMPTY_DATA }]);
    this.metrics.inc('raft.leaders');
    this.markAll();
  }

  // ---- ticking ------------------------------------------------------------------------------------

  tick(): void {
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.quorumActive()) {
        this.metrics.inc('raft.check_quorum_stepdowns');
        this.becomeFollower(this.term, NONE);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned; a removed leader tries again.
      this.leadTransferee = NONE;
      if (!this.isVoter(this.id)) this.handOver();
    }
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.last());
    }
  }

  /** CheckQuorum: did a quorum of voters talk to us since the last check? Resets the activity flags. */
  private quorumActive(): boolean {
    let active = 0;
    for (const [id, pr] of this.prs) {
      if (id === this.id) {
        if (!pr.isLearner) active++;
        continue;
      }
      if (pr.recentActive && !pr.isLearner) active++;
      pr.recentActive = false;
    }
    return active >= this.quorum();
  }

  // ---- elections ----------------------------------------------------------------------------------

  private hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    // Configurations take effect when applied: with a committed change not applied yet, we would count votes
    // with a configuration the group has left (alone in a one-voter one, a node elected itself and overwrote
    // what the grown group had committed). Wait until it is applied, as etcd's hup does.
    if (this.hasUnappliedConfChanges()) {
      // A transfer's TimeoutNow usually comes with the commit of the very change that prompted it (a removed
      // leader hands over): campaign as soon as it is applied instead of letting the transfer time out.
      if (transfer) this.transferDeferred = true;
      return;
    }
    if (this.preVote && !transfer) this.campaign(true, false);
    else this.campaign(false, transfer);
  }

  private hasUnappliedConfChanges(): boolean {
    for (let i = this.log.applied + 1; i <= this.log.committed; i++)
      if (this.log.entry(i)?.type === EntryType.ConfChange) return true;
    return false;
  }

  private campaign(pre: boolean, transfer: boolean): void {
    let voteTerm: number;
    if (pre) {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
      this.metrics.inc('raft.pre_elections');
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    if (this.poll(this.id, true) === 1) {
      if (pre) this.campaign(false, transfer);
      else this.becomeLeader();
      return;
    }
    for (const v of this.conf.voters) {
      if (v === this.id) continue;
      const m = this.msg(pre ? MsgType.PreVote : MsgType.Vote, v);
      m.term = voteTerm;
      m.index = this.log.lastIndex();
      m.logTerm = this.log.lastTerm();
      m.context = transfer ? CONTEXT_TRANSFER : 0;
      this.send(m);
    }
  }

  /** Records a vote; returns 1 when won, -1 when lost, 0 while pending. */
  private poll(from: number, granted: boolean): number {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    let yes = 0;
    let no = 0;
    for (const v of this.conf.voters) {
      const g = this.votes.get(v);
      if (g === true) yes++;
      else if (g === false) no++;
    }
    const q = this.quorum();
    if (yes >= q) return 1;
    if (no > this.conf.voters.length - q) return -1;
    return 0;
  }

  /** Mutation point: whether this node may grant `m.from` its (pre)vote, log freshness aside. */
  protected canVote(m: Message): boolean {
    return (
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MsgType.PreVote && m.term > this.term)
    );
  }

  private handleVote(m: Message): void {
    const pre = m.type === MsgType.PreVote;
    const resp = this.msg(pre ? MsgType.PreVoteResp : MsgType.VoteResp, m.from);
    if (this.canVote(m) && this.log.isUpToDate(m.index, m.logTerm)) {
      // A granted vote answers in the candidate's term (a PreVote does not change ours).
      resp.term = m.term;
      if (!pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else resp.reject = true;
    this.send(resp);
  }

  // ---- the step dispatch ----------------------------------------------------------------------------

  /** Feeds one message. Returns false when a local request (proposal, read) was dropped. */
  step(m: Message): boolean {
    if (m.term > this.term && m.term !== 0) {
      if (m.type === MsgType.Vote || m.type === MsgType.PreVote) {
        // Leader lease (with CheckQuorum): while we hear from a live leader, ignore disruptive candidates,
        // unless the leader itself asked for the election (transfer).
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTicks;
        if (inLease && m.context !== CONTEXT_TRANSFER) return true;
      }
      if (m.type === MsgType.PreVote) {
        // never change our term for a PreVote
      } else if (m.type === MsgType.PreVoteResp && !m.reject) {
        // the term is bumped when the real election starts
      } else if (m.type === MsgType.App || m.type === MsgType.Heartbeat || m.type === MsgType.Snap) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term && m.term !== 0) {
      if ((this.checkQuorum || this.preVote) && (m.type === MsgType.Heartbeat || m.type === MsgType.App)) {
        // A stale leader (e.g. back from a partition) learns our term from this and steps down; without it,
        // PreVote could leave it unaware forever while the rest of the cluster refuses its PreVotes.
        this.send(this.msg(MsgType.AppResp, m.from));
      } else if (m.type === MsgType.PreVote) {
        const r = this.msg(MsgType.PreVoteResp, m.from);
        r.reject = true;
        this.send(r);
      }
      return true;
    }

    switch (m.type) {
      case MsgType.Hup:
        this.hup(false);
        return true;
      case MsgType.Vote:
      case MsgType.PreVote:
        this.handleVote(m);
        return true;
    }
    switch (this.role) {
      case Role.Leader:
        return this.stepLeader(m);
      case Role.Follower:
        return this.stepFollower(m);
      default:
        return this.stepCandidate(m);
    }
  }

  // ---- leader -------------------------------------------------------------------------------------

  private stepLeader(m: Message): boolean {
    switch (m.type) {
      case MsgType.Prop:
        if (!this.prs.has(this.id) || this.leadTransferee !== NONE) return false;
        this.appendEntries(m.entries);
        return true;
      case MsgType.ReadIndex:
        this.leaderRead(m);
        return true;
      case MsgType.TransferLeader:
        this.leaderTransfer(m.from);
        return true;
    }
    const pr = this.prs.get(m.from);
    if (pr === undefined) return true;
    pr.recentActive = true;
    switch (m.type) {
      case MsgType.AppResp:
        this.leaderAppResp(m, pr);
        break;
      case MsgType.HeartbeatResp:
        pr.probeSent = false;
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirst();
        if (pr.state === ProgressState.Snapshot) {
          // Go-back-N: anything not acknowledged by now is presumed lost; resend from the last ack.
          pr.snapSent = pr.snapOffset;
          this.sendChunks(m.from, pr);
        } else if (pr.match < this.log.lastIndex() || pr.state === ProgressState.Probe)
          this.dirty.add(m.from);
        if (m.context !== 0) this.readAck(m.from, m.context);
        break;
      case MsgType.SnapResp:
        if (pr.state !== ProgressState.Snapshot) break;
        // A response about another snapshot (one we replaced, or an earlier stream to this follower that the
        // network delayed) says nothing about this stream: its offset would skip bytes the follower lacks.
        if (m.snapMeta === null || m.snapMeta.index !== pr.pendingSnapshot) break;
        if (m.reject) {
          pr.snapOffset = 0;
          pr.snapSent = 0;
        } else if (m.index > pr.snapOffset) pr.snapOffset = m.index;
        if (pr.snapSent < pr.snapOffset) pr.snapSent = pr.snapOffset;
        this.sendChunks(m.from, pr);
        break;
    }
    return true;
  }

  /** Appends local proposals (assigning term and index) and schedules replication. */
  private appendEntries(ents: readonly Entry[]): void {
    let index = this.log.lastIndex();
    const out: Entry[] = new Array(ents.length);
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i];
      out[i] = { index: ++index, term: this.term, type: e.type, data: e.data };
    }
    this.log.append(out);
    this.markAll();
    // A single-voter cluster commits as soon as the entry is durable (see onStable).
  }

  private leaderAppResp(m: Message, pr: Progress): void {
    if (m.reject) {
      // Fast backtracking: jump to the last index where the follower's hint term can agree with ours.
      const hint = m.logTerm > 0 ? this.log.findConflictByTerm(m.rejectHint, m.logTerm)[0] : m.rejectHint;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.dirty.add(m.from);
      }
      return;
    }
    if (pr.maybeUpdate(m.index)) {
      if (pr.state === ProgressState.Probe) pr.becomeReplicate();
      else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) {
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === ProgressState.Replicate) pr.inflights.freeLE(m.index);
      if (this.maybeCommit()) this.markAll();
      else this.dirty.add(m.from);
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
    } else if (pr.state === ProgressState.Snapshot && m.index >= pr.pendingSnapshot) {
      pr.becomeProbe();
      this.dirty.add(m.from);
    }
  }

  /** Mutation point: the highest index a quorum of voters holds durably. */
  protected quorumMatchIndex(): number {
    const n = this.conf.voters.length;
    if (this.scratch.length < n) this.scratch = new Float64Array(n * 2);
    const s = this.scratch;
    for (let i = 0; i < n; i++) s[i] = this.prs.get(this.conf.voters[i])?.match ?? 0;
    const view = s.subarray(0, n).sort();
    return view[n - this.quorum()];
  }

  /** Advances the commit index; only entries of the current term commit by counting (§5.4.2). */
  private maybeCommit(): boolean {
    const mci = this.quorumMatchIndex();
    if (mci > this.log.committed && this.log.term(mci) === this.term) {
      const firstInTerm = this.log.term(this.log.committed) !== this.term;
      this.log.commitTo(mci);
      if (firstInTerm) this.releasePendingReads();
      return true;
    }
    return false;
  }

  private leaderRead(m: Message): void {
    // Until our no-op commits we do not know the latest commit index (thesis §6.4 step 1). This holds for a
    // single voter too: its commit index is not synced on its own, so after a restart it can lag entries
    // that were committed, applied and acknowledged before the crash.
    if (this.log.term(this.log.committed) !== this.term) {
      this.pendingReads.push(m);
      return;
    }
    if (this.conf.voters.length === 1 && this.isVoter(this.id)) {
      this.answerRead(m.from, this.log.committed, m.context);
      return;
    }
    this.readOnly.add(this.log.committed, m.context, m.from);
    this.readAck(this.id, m.context);
    this.bcastHeartbeat(m.context);
  }

  private releasePendingReads(): void {
    const reads = this.pendingReads;
    this.pendingReads = [];
    for (const r of reads) this.leaderRead(r);
  }

  private readAck(from: number, context: number): void {
    const acks = this.readOnly.ack(from, context);
    if (acks === undefined) return;
    let voters = 0;
    for (const a of acks) if (this.isVoter(a)) voters++;
    if (voters < this.quorum()) return;
    for (const r of this.readOnly.release(context)) this.answerRead(r.from, r.index, r.context);
  }

  private answerRead(to: number, index: number, context: number): void {
    if (to === this.id) {
      this.readStates.push({ index, context });
      return;
    }
    const m = this.msg(MsgType.ReadIndexResp, to);
    m.index = index;
    m.context = context;
    this.send(m);
  }

  private leaderTransfer(to: number): void {
    if (to === this.id) {
      // Back to ourselves: abort a pending transfer, so proposals are accepted again (as etcd).
      this.leadTransferee = NONE;
      return;
    }
    if (!this.isVoter(to) || !this.prs.has(to)) return;
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    // The transfer must finish within one election timeout (tickHeartbeat abandons it).
    this.electionElapsed = 0;
    this.metrics.inc('raft.transfers');
    const pr = this.prs.get(to)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.dirty.add(to);
  }

  /**
   * A leader removed (or demoted) by a change it applied hands its leadership to the most caught-up voter left,
   * and leads until that voter's election deposes it: it keeps replicating, takes no proposals (it has no
   * progress of its own) and counts no vote or acknowledgement of its own. Why not step down at once, as until
   * session 23: configurations take effect when applied, so the voters left may still run the old one, and a
   * two-voter group whose last Apps were lost then needed the removed node's vote, which its longer log refused,
   * for good (etcd-io/etcd#10563; etcd's server transfers leadership on removal, #11038). A transfer that does
   * not finish within an election timeout is retried (`tickHeartbeat`).
   */
  private handOver(): void {
    // Each retry tries the next voter (most caught up first): the first choice may be down for good, and
    // waiting on it kept a live quorum of the others from ever electing one.
    let best = NONE;
    for (let pass = 0; pass < 2 && best === NONE; pass++) {
      if (pass === 1) this.handOverTried.clear();
      let match = -1;
      for (const id of this.conf.voters) {
        const pr = this.prs.get(id);
        if (pr !== undefined && !this.handOverTried.has(id) && pr.match > match) {
          best = id;
          match = pr.match;
        }
      }
    }
    if (best === NONE) {
      this.becomeFollower(this.term, NONE);
      return;
    }
    this.handOverTried.add(best);
    this.leaderTransfer(best);
  }

  private sendTimeoutNow(to: number): void {
    this.send(this.msg(MsgType.TimeoutNow, to));
  }

  // ---- candidate ----------------------------------------------------------------------------------

  private stepCandidate(m: Message): boolean {
    switch (m.type) {
      case MsgType.Prop:
      case MsgType.ReadIndex:
        return false;
      case MsgType.App:
      case MsgType.Heartbeat:
      case MsgType.Snap:
        // Someone won this term.
        this.becomeFollower(m.term, m.from);
        return this.stepFollower(m);
      case MsgType.VoteResp:
      case MsgType.PreVoteResp: {
        const want = this.role === Role.PreCandidate ? MsgType.PreVoteResp : MsgType.VoteResp;
        if (m.type !== want) return true;
        const r = this.poll(m.from, !m.reject);
        if (r === 1) {
          if (this.role === Role.PreCandidate) this.campaign(false, false);
          else this.becomeLeader();
        } else if (r === -1) this.becomeFollower(this.term, NONE);
        return true;
      }
    }
    return true;
  }

  // ---- follower -----------------------------------------------------------------------------------

  private stepFollower(m: Message): boolean {
    switch (m.type) {
      case MsgType.Prop:
      case MsgType.ReadIndex:
        if (this.lead === NONE) return false;
        // Forwarding: the leader sees it as a local request from us (term 0).
        this.send({ ...m, from: m.from === NONE ? this.id : m.from, to: this.lead, term: 0 });
        return true;
      case MsgType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return true;
      case MsgType.Heartbeat: {
        this.electionElapsed = 0;
        this.lead = m.from;
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
        const r = this.msg(MsgType.HeartbeatResp, m.from);
        r.context = m.context;
        this.send(r);
        return true;
      }
      case MsgType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapChunk(m);
        return true;
      case MsgType.TimeoutNow:
        this.metrics.inc('raft.timeout_now');
        this.hup(true);
        return true;
      case MsgType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context });
        return true;
      case MsgType.TransferLeader:
        if (this.lead === NONE) return false;
        this.send({ ...m, to: this.lead });
        return true;
    }
    return true;
  }

  private handleAppend(m: Message): void {
    const r = this.msg(MsgType.AppResp, m.from);
    if (m.index < this.log.committed) {
      r.index = this.log.committed;
      this.send(r);
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    // Caught up by entries past a snapshot being received: its buffer (up to 1 GiB) is no longer needed.
    this.releaseIncoming();
    if (lastNew >= 0) {
      r.index = lastNew;
    } else {
      const [hintIndex, hintTerm] = this.log.findConflictByTerm(
        Math.min(m.index, this.log.lastIndex()),
        m.logTerm,
      );
      r.reject = true;
      r.index = m.index;
      r.rejectHint = hintIndex;
      r.logTerm = hintTerm;
    }
    this.send(r);
  }

  /** Drops a partly received snapshot the commit index has reached: nothing in it is needed any more. */
  private releaseIncoming(): void {
    if (this.incoming !== null && this.incoming.meta.index <= this.log.committed) this.incoming = null;
  }

  private handleSnapChunk(m: Message): void {
    const meta = m.snapMeta;
    if (meta === null || m.chunk === null) return;
    if (meta.index <= this.log.committed) {
      // We already hold everything the snapshot covers. A newer stream in progress is kept: a stale duplicate
      // used to drop it, and the leader restarted it from byte 0 (a review of session 25).
      this.releaseIncoming();
      const r = this.msg(MsgType.AppResp, m.from);
      r.index = this.log.committed;
      this.send(r);
      return;
    }
    let inc = this.incoming;
    if (inc === null || inc.meta.index !== meta.index || inc.meta.term !== meta.term) {
      if (m.index !== 0) {
        // We lost the start (restart, or a newer snapshot): ask the leader to begin again.
        const r = this.msg(MsgType.SnapResp, m.from);
        r.reject = true;
        r.snapMeta = meta;
        this.send(r);
        return;
      }
      // The codec bounds chunkTotal on the wire; a message stepped in directly is held to the same limit.
      if (m.chunkTotal > MAX_SNAPSHOT_BYTES) return;
      inc = { meta, buf: new Uint8Array(m.chunkTotal), received: 0 };
      this.incoming = inc;
    }
    if (m.index === inc.received && m.index + m.chunk.length <= inc.buf.length) {
      inc.buf.set(m.chunk, m.index);
      inc.received += m.chunk.length;
    }
    if (inc.received < inc.buf.length) {
      const r = this.msg(MsgType.SnapResp, m.from);
      r.index = inc.received;
      r.snapMeta = inc.meta;
      this.send(r);
      return;
    }
    this.incoming = null;
    const restored = this.restoreSnapshot({ meta: inc.meta, data: inc.buf });
    if (restored) this.metrics.inc('raft.snapshots_installed');
    const r = this.msg(MsgType.AppResp, m.from);
    // Kept instead of restored, the suffix beyond the snapshot was never checked against the leader's log:
    // answer the commit index, as etcd does, so the leader does not count those entries as replicated.
    r.index = restored ? this.log.lastIndex() : this.log.committed;
    this.send(r);
  }

  /** Restores `s`, or, when the log already holds its last entry, keeps the log and commits up to it (false). */
  private restoreSnapshot(s: Snapshot): boolean {
    const { index, term } = s.meta;
    if (this.log.matchTerm(index, term)) {
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(index, term);
    this.conf = { voters: [...s.meta.conf.voters], learners: [...s.meta.conf.learners] };
    this.pendingSnapshot = s;
    this.snapshot = s;
    return true;
  }

  // ---- driver hooks (RawNode) ---------------------------------------------------------------------

  /** Entries up to `index` (of `term`) are durable on our disk. */
  onStable(index: number, term: number): void {
    if (index > this.log.stabled && this.log.matchTerm(index, term)) this.log.stabled = index;
    if (this.role === Role.Leader) {
      const self = this.prs.get(this.id);
      if (self?.maybeUpdate(this.log.stabled) && this.maybeCommit()) this.markAll();
    }
  }

  /** The application applied entries up to `index`; conf changes among them take effect now. */
  onApplied(entries: readonly Entry[]): void {
    for (const e of entries) {
      // Entries at or below `applied` were superseded by a snapshot restored meanwhile.
      if (e.index <= this.log.applied) continue;
      if (e.type === EntryType.ConfChange) this.applyConfChange(e);
      this.log.applied = e.index;
    }
    if (this.transferDeferred && !this.hasUnappliedConfChanges()) {
      this.transferDeferred = false;
      if (this.role === Role.Follower) this.hup(true);
    }
  }

  private applyConfChange(e: Entry): void {
    let cc: ReturnType<typeof decodeConfChange>;
    try {
      cc = decodeConfChange(e.data);
    } catch {
      return; // A malformed change was refused identically by every replica.
    }
    this.conf = applyToConf(this.conf, cc);
    this.metrics.inc('raft.conf_changes');
    if (this.role !== Role.Leader) return;
    const inConf = this.isVoter(cc.node) || this.conf.learners.includes(cc.node);
    if (!inConf) {
      this.prs.delete(cc.node);
    } else {
      const pr = this.prs.get(cc.node);
      if (pr === undefined) {
        const p = new Progress(this.log.lastIndex() + 1, this.maxInflight, !this.isVoter(cc.node));
        p.recentActive = true;
        this.prs.set(cc.node, p);
      } else pr.isLearner = !this.isVoter(cc.node);
    }
    // A transfer to a node that is no longer a voter (removed or demoted) cannot finish: abort it (as etcd).
    if (this.leadTransferee === cc.node && !this.isVoter(cc.node)) this.leadTransferee = NONE;
    if (!this.isVoter(this.id)) {
      this.handOver();
      return;
    }
    if (this.maybeCommit()) this.markAll();
    this.dirty.add(cc.node);
    // A smaller quorum may already hold for the pending reads: shrunk to this leader alone, no heartbeat
    // acknowledgement would ever come to release them. (Releasing the newest releases every older one.)
    const newest = this.readOnly.last();
    if (newest !== 0) this.readAck(this.id, newest);
  }

  /** Installs a local snapshot taken by the application at `applied`, compacting the log behind it. */
  takeSnapshot(index: number, data: Uint8Array, keep: number): void {
    assert(index === this.log.applied, 'snapshots are taken at the applied index', {
      index,
      applied: this.log.applied,
    });
    if (this.snapshot !== null && this.snapshot.meta.index >= index) return;
    if (data.length > MAX_SNAPSHOT_BYTES)
      throw new ElexError(
        'E_TOO_LARGE',
        `a snapshot of ${data.length} bytes exceeds the ${MAX_SNAPSHOT_BYTES} a follower accepts`,
      );
    this.snapshot = {
      meta: {
        index,
        term: this.log.term(index),
        conf: { voters: [...this.conf.voters], learners: [...this.conf.learners] },
      },
      data,
    };
    this.log.compact(Math.max(this.log.offset, index - keep));
  }
}

const EMPTY_DATA = new Uint8Array(0);
