/**
 * Wire-level and state types of the Raft core. Everything here is plain data: messages are immutable once
 * handed to the driver (the simulator delivers the same object to duplicates), entries are shared by
 * reference between the log, storage and messages and are never mutated.
 */

/** Node ids are small non-negative integers; `NONE` means "no node". */
export const NONE = -1;

export const EntryType = { Normal: 0, ConfChange: 1 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** The state that must be durable before any message that depends on it leaves the node. */
export interface HardState {
  term: number;
  vote: number;
  commit: number;
}

/** Cluster membership. Single-server changes only: there is never a joint configuration. */
export interface ConfState {
  voters: number[];
  learners: number[];
}

export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

export const ConfChangeType = { AddVoter: 0, AddLearner: 1, Remove: 2 } as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export interface ConfChange {
  type: ConfChangeType;
  node: number;
}

/** Message types. Numeric so that dispatch is a switch on a small integer. */
export const MsgType = {
  /** Local: start an election (PreVote first when enabled). */
  Hup: 0,
  /** A proposal: local, or forwarded by a follower to its leader. */
  Prop: 1,
  App: 2,
  AppResp: 3,
  Vote: 4,
  VoteResp: 5,
  PreVote: 6,
  PreVoteResp: 7,
  Heartbeat: 8,
  HeartbeatResp: 9,
  /** One chunk of an InstallSnapshot stream. */
  Snap: 10,
  /**
   * Acknowledges snapshot chunks: `index` = bytes received so far, `reject` = restart from 0, `snapMeta` = the
   * snapshot the answer is about (the leader ignores answers about any other).
   */
  SnapResp: 11,
  /** Leadership transfer: the target campaigns at once, bypassing PreVote and the leader lease. */
  TimeoutNow: 12,
  /** ReadIndex: local, or forwarded by a follower to its leader. */
  ReadIndex: 13,
  ReadIndexResp: 14,
  /** Ask the leader to transfer leadership to `from` (local, or forwarded by a follower); see `transferLeadership`. */
  TransferLeader: 15,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

export const MSG_NAMES: readonly string[] = [
  'Hup',
  'Prop',
  'App',
  'AppResp',
  'Vote',
  'VoteResp',
  'PreVote',
  'PreVoteResp',
  'Heartbeat',
  'HeartbeatResp',
  'Snap',
  'SnapResp',
  'TimeoutNow',
  'ReadIndex',
  'ReadIndexResp',
  'TransferLeader',
];

/**
 * One message. Field meanings follow etcd's raftpb.Message: `index`/`logTerm` are the entry preceding
 * `entries` for App, the candidate's last entry for (Pre)Vote, and the acknowledged index for AppResp.
 */
export interface Message {
  type: MsgType;
  from: number;
  to: number;
  term: number;
  logTerm: number;
  index: number;
  entries: readonly Entry[];
  commit: number;
  reject: boolean;
  /** On a rejected AppResp: where the leader should probe next (fast backtracking). */
  rejectHint: number;
  /** ReadIndex request id (0 = none); carried on heartbeats so acks can be matched to reads. */
  context: number;
  /** Snap chunks: metadata, byte offset of `chunk`, total length; `chunk` is a view into the snapshot. */
  snapMeta: SnapshotMeta | null;
  chunk: Uint8Array | null;
  chunkTotal: number;
}

/** A confirmed read: once the state machine has applied `index`, a read tagged `context` is linearizable. */
export interface ReadState {
  index: number;
  context: number;
}

export const Role = { Follower: 0, PreCandidate: 1, Candidate: 2, Leader: 3 } as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLE_NAMES: readonly string[] = ['follower', 'pre-candidate', 'candidate', 'leader'];

export function emptyMessage(type: MsgType, from: number, to: number, term: number): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    entries: EMPTY_ENTRIES,
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: 0,
    snapMeta: null,
    chunk: null,
    chunkTotal: 0,
  };
}

export const EMPTY_ENTRIES: readonly Entry[] = Object.freeze([]) as readonly Entry[];

/** Bytes a message would take on the wire (our binary codec's size; for accounting and batching limits). */
export function messageSize(m: Message): number {
  let n = 40;
  for (let i = 0; i < m.entries.length; i++) n += 16 + m.entries[i].data.length;
  if (m.chunk !== null) n += 24 + m.chunk.length;
  return n;
}

/**
 * The largest snapshot a follower reassembles (1 GiB): its buffer is sized from the first chunk's `chunkTotal`,
 * so an unbounded total let one frame allocate gigabytes or throw an untyped RangeError out of the core.
 * `takeSnapshot` refuses a larger one, so every snapshot a leader sends fits.
 */
export const MAX_SNAPSHOT_BYTES = 2 ** 30;
