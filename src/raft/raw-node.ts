import { ElexError } from '../core/index.js';
import { encodeConfChange, validateConfChange } from './conf-change.js';
import { networkRefusal } from './network-check.js';
import { Raft, type RaftBoot, type RaftConfig } from './raft.js';
import {
  type ConfChange,
  type Entry,
  EntryType,
  emptyMessage,
  type HardState,
  type Message,
  MsgType,
  NONE,
  type ReadState,
  Role,
  type Snapshot,
} from './types.js';

/**
 * Everything the driver must do, in order:
 *  1. persist `snapshot`, `entries` and `hardState`, and when `mustSync` wait until they are durable;
 *  2. only then send `messages` (they may acknowledge entries or votes that are only now durable:
 *     sending first is etcd issue 14370, a lost acknowledged write after a crash);
 *  3. restore `snapshot` into the state machine, then apply `committedEntries` in order;
 *  4. call `advance(ready)`.
 */
export interface Ready {
  hardState: HardState | null;
  entries: Entry[];
  snapshot: Snapshot | null;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  mustSync: boolean;
  /** Volatile state, for drivers that route clients to the leader. */
  lead: number;
  role: Role;
}

export interface Status {
  id: number;
  term: number;
  vote: number;
  lead: number;
  role: Role;
  commit: number;
  applied: number;
  lastIndex: number;
  voters: number[];
  learners: number[];
}

/**
 * The RawNode API (etcd's rawnode.go): a thin shell that turns the state machine's outputs into Ready
 * batches and enforces the one-Ready-at-a-time discipline.
 */
export class RawNode {
  readonly raft: Raft;
  private prevHard: HardState;
  private inFlight: Ready | null = null;

  constructor(cfg: RaftConfig, boot: RaftBoot = {}, raft?: Raft) {
    this.raft = raft ?? new Raft(cfg, boot);
    this.prevHard = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Feeds a message received from a peer. Local message types are refused. */
  step(m: Message): void {
    // Forwarded proposals, reads and transfer requests (a follower's `transferLeadership` goes to its leader,
    // as in etcd; `from` then names the transferee) may name this node as `from`: allowed. What no correct peer
    // sends is refused before the core sees it (`networkRefusal`).
    const refusal = networkRefusal(m, this.raft.id);
    if (refusal !== null) throw new ElexError('E_BAD_MESSAGE', refusal);
    this.raft.step(m);
  }

  /** Starts an election now (tests and operators). */
  campaign(): void {
    this.raft.step(emptyMessage(MsgType.Hup, this.raft.id, this.raft.id, 0));
  }

  /** Proposes a command. On a follower it is forwarded to the leader. Throws E_PROPOSAL_DROPPED. */
  propose(data: Uint8Array): void {
    this.proposeEntries([{ index: 0, term: 0, type: EntryType.Normal, data }]);
  }

  /** Proposes a batch of commands in one step (one App per follower instead of one per command). */
  proposeBatch(datas: readonly Uint8Array[]): void {
    const ents: Entry[] = new Array(datas.length);
    for (let i = 0; i < datas.length; i++)
      ents[i] = { index: 0, term: 0, type: EntryType.Normal, data: datas[i] };
    this.proposeEntries(ents);
  }

  private proposeEntries(ents: Entry[]): void {
    const m = emptyMessage(MsgType.Prop, this.raft.id, NONE, 0);
    m.entries = ents;
    if (!this.raft.step(m))
      throw new ElexError('E_PROPOSAL_DROPPED', 'no leader known, or a transfer is in progress');
  }

  /** Membership change (single server). Only the leader accepts it. */
  proposeConfChange(cc: ConfChange): void {
    const r = this.raft;
    if (r.role !== Role.Leader) throw new ElexError('E_NOT_LEADER', `node ${r.id} is not the leader`);
    // The two cases where a leader drops every proposal: name them (they were E_PROPOSAL_DROPPED, a 500).
    if (r.leadTransferee !== NONE)
      throw new ElexError('E_BUSY', `leadership is being handed to node ${r.leadTransferee}: retry`);
    if (!r.prs.has(r.id))
      throw new ElexError('E_NOT_LEADER', `node ${r.id} has left the configuration and is stepping down`);
    if (r.pendingConfIndex > r.log.applied)
      throw new ElexError('E_CONF_PENDING', `conf change at ${r.pendingConfIndex} is not applied yet`);
    const why = validateConfChange(r.conf, cc);
    if (why !== null) throw new ElexError('E_CONF_INVALID', why);
    this.proposeEntries([{ index: 0, term: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }]);
    r.pendingConfIndex = r.log.lastIndex();
  }

  /** Linearizable read: a ReadState with this context appears in a later Ready. Throws E_READ_DROPPED. */
  readIndex(context: number): void {
    if (!Number.isSafeInteger(context) || context <= 0)
      throw new ElexError('E_BAD_CONTEXT', 'read contexts are positive integers');
    const m = emptyMessage(MsgType.ReadIndex, this.raft.id, NONE, 0);
    m.context = context;
    if (!this.raft.step(m)) throw new ElexError('E_READ_DROPPED', 'no leader known');
  }

  /** Asks the leader to hand leadership to `to` (TimeoutNow once `to` is caught up). */
  transferLeadership(to: number): void {
    this.raft.step(emptyMessage(MsgType.TransferLeader, to, this.raft.id, 0));
  }

  hasReady(): boolean {
    const r = this.raft;
    if (this.inFlight !== null) return false;
    if (r.msgs.length > 0 || r.readStates.length > 0 || r.pendingSnapshot !== null || r.hasDirty) return true;
    if (r.log.stabled < r.log.lastIndex() || r.log.committed > r.log.applied) return true;
    const h = this.prevHard;
    return h.term !== r.term || h.vote !== r.vote || h.commit !== r.log.committed;
  }

  ready(): Ready {
    if (this.inFlight !== null)
      throw new ElexError('E_READY_IN_FLIGHT', 'advance() the previous Ready first');
    const r = this.raft;
    r.flush();
    const hs = r.hardState();
    const h = this.prevHard;
    const hardChanged = h.term !== hs.term || h.vote !== hs.vote || h.commit !== hs.commit;
    const entries = r.log.unstableEntries();
    const committedEntries = r.log.nextCommitted(r.maxApplyBatch);
    const rd: Ready = {
      hardState: hardChanged ? hs : null,
      entries,
      snapshot: r.pendingSnapshot,
      committedEntries,
      messages: r.msgs,
      readStates: r.readStates,
      // Commit index changes alone need not be synced (it can be recovered); term, vote and entries must. So
      // must the commit of a conf change: it takes effect as it applies, and a restart that forgot its commit
      // went back to the old configuration (a survivor of a shrink to one voter waited for a removed vote).
      mustSync:
        entries.length > 0 ||
        r.pendingSnapshot !== null ||
        h.term !== hs.term ||
        h.vote !== hs.vote ||
        committedEntries.some((e) => e.type === EntryType.ConfChange),
      lead: r.lead,
      role: r.role,
    };
    r.msgs = [];
    r.readStates = [];
    r.pendingSnapshot = null;
    this.inFlight = rd;
    return rd;
  }

  /** The Ready was persisted, sent and applied. */
  advance(rd: Ready): void {
    if (rd !== this.inFlight) throw new ElexError('E_READY_MISMATCH', 'advance() takes the last Ready');
    this.inFlight = null;
    const r = this.raft;
    if (rd.hardState !== null) this.prevHard = rd.hardState;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      r.onStable(last.index, last.term);
    } else if (rd.snapshot !== null) r.onStable(rd.snapshot.meta.index, rd.snapshot.meta.term);
    r.onApplied(rd.committedEntries);
  }

  /** The application snapshotted its state machine at the applied index: compact, keeping `keep` entries. */
  compact(index: number, data: Uint8Array, keep: number): void {
    this.raft.takeSnapshot(index, data, keep);
  }

  status(): Status {
    const r = this.raft;
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      lead: r.lead,
      role: r.role,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      voters: [...r.conf.voters],
      learners: [...r.conf.learners],
    };
  }
}
