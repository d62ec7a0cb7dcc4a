import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Clock, ElexError, type Rng } from '../core/index.js';
import {
  checkFederatedActions,
  checkKnownKeys,
  checkVoteState,
  deltaLimitsOf,
  FederatedQTable,
  type FederationConfig,
  federatedSync,
  type Identity,
  type MapKeyring,
  settingsOf,
  syncIntervalOf,
  type VoteState,
} from '../learning/index.js';
import { lockDataDir } from './dir-lock.js';
import { writeFileDurably } from './durable-file.js';
import { MAX_DATAGRAM, type UdpFederationNetwork } from './udp-federation.js';

/** Milliseconds that never go backwards (the election's timeouts need a monotonic clock). */
const monotonic: Clock = { now: () => performance.now() };

/** A delta's header, signature and framing fit in this much below one datagram. */
const DATAGRAM_ROOM = MAX_DATAGRAM - 2048;

export interface FederationMemberOptions {
  id: string;
  /** Every member of the category, this one included. */
  members: readonly string[];
  network: UdpFederationNetwork;
  keyring: MapKeyring;
  identity: Identity;
  /** Where (term, vote) is kept across restarts (`<dataDir>/vote.json`). */
  dataDir: string;
  /** Protocol settings for the table (`sync_interval_ms` is how often it syncs here). */
  federation?: FederationConfig;
  /** The member's interactions before each sync: what it learns (a real agent's answers and feedback). */
  learn?: (fqt: FederatedQTable) => void;
  /** Draws the jitter of the sync timer. */
  rng: Rng;
  /** Typed errors thrown by a sync, and anything else a tick threw. */
  onError?: (e: unknown) => void;
}

/**
 * The JSON saved at `path` (undefined when there is none). A damaged file is refused, not ignored: starting
 * without the vote could vote twice in one term, and without the life number reuse it; an operator must look.
 */
function readSaved(path: string, what: string): unknown {
  // None saved only when there is no such name: a link whose target is gone (existsSync follows it) read as
  // never saved, so a vote was forgotten and could be cast again, or a life number reused.
  if (!existsSync(path) && !isLink(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ElexError('E_STORAGE', `${path}: not a saved ${what} (${(e as Error).message})`);
  }
}

/** Whether `path` names a symbolic link (whatever it points to). */
function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Reads the (term, vote) a member saved; none saved yet is term 0 with no vote. A damaged file is refused. */
export function readVoteState(dataDir: string): VoteState | undefined {
  const path = join(dataDir, 'vote.json');
  const s = readSaved(path, 'vote') as Partial<VoteState> | null | undefined;
  if (s === undefined) return undefined;
  if (
    s === null ||
    typeof s !== 'object' ||
    !(Number.isSafeInteger(s.term) && (s.term as number) >= 0) ||
    !(s.voted_for === null || typeof s.voted_for === 'string') ||
    !(s.certified_term === undefined || (Number.isSafeInteger(s.certified_term) && s.certified_term >= 0))
  )
    throw new ElexError('E_STORAGE', `${path}: not a saved vote`);
  const v: VoteState = { term: s.term as number, voted_for: s.voted_for };
  if (s.certified_term !== undefined && s.certified_term > 0) v.certified_term = s.certified_term;
  // The table's own check (a term past MAX_TERM) here, as a damaged file: refused later by the table, it was
  // E_CONFIG, an operator was sent to the flags instead of the file, and a life number was used up (session 25).
  try {
    checkVoteState(v);
  } catch (e) {
    throw new ElexError('E_STORAGE', `${path}: not a saved vote (${(e as Error).message})`);
  }
  return v;
}

/**
 * The checks `FederatedQTable` makes of a configuration that need no data directory, run before the member
 * touches one. A refused configuration must not lock or bind the directory or use up a life number: before
 * session 25 `min_peers_for_consensus: 5` of three members was refused only after epoch.json was written.
 */
function checkMemberConfig(config: FederationConfig, members: readonly string[]): void {
  checkKnownKeys(config);
  deltaLimitsOf(config);
  syncIntervalOf(config);
  const twice = members.find((p, i) => members.indexOf(p) !== i);
  if (twice !== undefined) throw new ElexError('E_CONFIG', `members lists '${twice}' twice`);
  settingsOf(config, new Set([...members, config.id]).size);
  checkFederatedActions(config);
  if (config.identity !== undefined && config.identity.id !== config.id)
    throw new ElexError('E_CONFIG', 'identity id differs from the member id');
}

/**
 * This member's new life number: one more than the one saved in `<dataDir>/epoch.json` (none saved: 1), written
 * durably before it is returned, so no delta of this life leaves before a restart would see a larger one.
 * Receivers refuse deltas of an earlier life and a seq they took in this one (`ReplayGuard`); a member that
 * reused its number after a restart would have its new deltas refused as replays. A damaged file is refused.
 */
export function nextEpoch(dataDir: string): number {
  const epoch = savedEpoch(dataDir) + 1;
  saveEpoch(dataDir, epoch);
  return epoch;
}

function saveEpoch(dataDir: string, epoch: number): void {
  writeFileDurably(join(dataDir, 'epoch.json'), JSON.stringify(epoch));
}

/** The life number saved in `<dataDir>/epoch.json` (none: 0), read only. A damaged file is refused. */
function savedEpoch(dataDir: string): number {
  const path = join(dataDir, 'epoch.json');
  const saved = readSaved(path, 'epoch');
  const v = saved === undefined ? 0 : saved;
  if (!(Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < Number.MAX_SAFE_INTEGER))
    throw new ElexError('E_STORAGE', `${path}: not a saved epoch`);
  return v as number;
}

/**
 * Whether `<dataDir>` is bound to member `id` already (`<dataDir>/member.json`; false: bound to no one yet, and
 * the start binds it, a directory of an earlier version without the file taken as this member's). Read only.
 * Another member's directory is refused with `E_CONFIG`: its vote and life number are not this member's (before
 * session 24, `--id b` on a's directory took a's vote in a's term and could vote twice); a damaged member.json
 * with `E_STORAGE`.
 */
function memberDirBound(dataDir: string, id: string): boolean {
  const path = join(dataDir, 'member.json');
  const saved = readSaved(path, 'member identity') as { id?: unknown } | null | undefined;
  if (saved === undefined) return false;
  if (saved === null || typeof saved !== 'object' || typeof saved.id !== 'string')
    throw new ElexError('E_STORAGE', `${path}: not a saved member identity`);
  if (saved.id !== id)
    throw new ElexError('E_CONFIG', `${dataDir} is member ${saved.id}'s data directory, not ${id}'s`);
  return true;
}

/**
 * The table as a member on a real network runs it: `leader` is the aggregator it follows now (`liveLeader`), or
 * itself while it leads. The table's own `leader` is the origin of the last aggregate it adopted, so a member
 * following an aggregator by its heartbeats alone (an idle category, or before the first round) reported null
 * on its status line (until session 25). The simulator keeps the table's: its reports and goldens pin it.
 */
class MemberTable extends FederatedQTable {
  override get leader(): string | null {
    return this.election.isLeader ? this.id : this.election.liveLeader(monotonic.now());
  }
}

/**
 * One federation member on a real network: a `FederatedQTable` (the one `elex simulate federation` evaluates)
 * on a UDP network, synced by a wall-clock timer every `sync_interval_ms` (±25 %), with its (term, vote)
 * written durably before any message that depends on it leaves (`on_vote_state` is called first, and the
 * write is synchronous), and a life number (`nextEpoch`) that its deltas carry. Its Q-table is not
 * persisted: a restarted member catches up from the aggregates and their anti-entropy slices.
 */
export class FederationMember {
  readonly fqt: FederatedQTable;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly unlock: () => void;

  constructor(private readonly o: FederationMemberOptions) {
    const votePath = join(o.dataDir, 'vote.json');
    const config: FederationConfig = {
      ...o.federation,
      max_delta_bytes: Math.min(o.federation?.max_delta_bytes ?? DATAGRAM_ROOM, DATAGRAM_ROOM),
      id: o.id,
      peers: o.members,
      network: o.network,
      keyring: o.keyring,
      identity: o.identity,
      clock: monotonic,
      on_vote_state: (v) => writeFileDurably(votePath, JSON.stringify(v)),
    };
    // The configuration first: a refused one leaves the data directory as it was (session 25).
    checkMemberConfig(config, o.members);
    // One process per data directory, as `elex node`: two members on one would each answer vote requests from
    // their own copy of the vote, and one member could vote twice in a term (session 25). Released by `stop`.
    this.unlock = lockDataDir(o.dataDir);
    try {
      // Everything read (and refused if damaged) before anything is written: a refused start must not bind the
      // directory or use up a life number. Binding first wrote member.json, with the refused start's id, into
      // a directory of an earlier version whose vote.json or epoch.json was damaged.
      const bound = memberDirBound(o.dataDir, o.id);
      const vote_state = readVoteState(o.dataDir);
      const epoch = savedEpoch(o.dataDir) + 1;
      if (!bound) writeFileDurably(join(o.dataDir, 'member.json'), JSON.stringify({ id: o.id }));
      // Saved before the table exists: no delta of this life leaves before a restart would see a larger one.
      saveEpoch(o.dataDir, epoch);
      this.fqt = new MemberTable({ ...config, vote_state, epoch });
    } catch (e) {
      this.unlock();
      throw e;
    }
  }

  start(): this {
    this.schedule();
    return this;
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.fqt.sync_interval_ms * (0.75 + 0.5 * this.o.rng.next());
    this.timer = setTimeout(() => {
      this.tick();
      this.schedule();
    }, delay);
  }

  /** One round of the member's life: learn, then sync (which drains the network and acts by role). */
  tick(): void {
    try {
      this.o.learn?.(this.fqt);
    } catch (e) {
      this.o.onError?.(e);
    }
    // FederatedQTable.sync awaits nothing: it has run to completion when this call returns.
    federatedSync(this.fqt).then(undefined, (e: unknown) => this.o.onError?.(e));
  }

  /**
   * For learning done between ticks (a real agent's interactions, through `fqt.learner`): syncs at once once
   * `sync_after_interactions` (10) have accumulated since the last sync, as ADR-115 asks; the timer goes on
   * syncing every interval.
   */
  interacted(): void {
    if (this.stopped || !this.fqt.syncDue()) return;
    federatedSync(this.fqt).then(undefined, (e: unknown) => this.o.onError?.(e));
  }

  /**
   * Stops the timer, closes the socket and releases the data directory; the table is gone with the member, as
   * in a crash.
   */
  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    if (!this.stopped) this.unlock();
    this.stopped = true;
    await this.o.network.close();
  }
}
