/**
 * The state of one member's gossip core, and the outbox and event fan-out every part of the core uses.
 *
 * The parts are functions over this one object, grouped one concept per file: membership claims
 * (membership.ts), the live and dead peer pools (peers.ts), tombstones (tombstones.ts), phi-accrual
 * monitoring (failure-detector.ts), Lifeguard suspicion (suspicion.ts), anti-entropy (anti-entropy.ts) and
 * rumors (rumors.ts); `GossipNode` (node.ts) owns this object and dispatches `tick` and `handle` to them.
 * Why one shared object rather than an object per part (memberlist's layout: one struct, its methods spread
 * over files): a claim changing (`setClaim`) updates the digest, the ring, the pools, the heartbeat
 * histories, the suspicions, the tombstones and the rumor queue in one step, and a heartbeat has to reach its
 * history through as few objects (cache lines) as possible. Fields are grouped by the part that keeps them.
 */
import { CounterMetrics, ElexError, type Metrics, type Rng } from '../core/index.js';
import {
  type ClaimEntry,
  encode,
  type Header,
  LIMITS,
  type Message,
  MSG_KIND_NAMES,
  strSize,
  varintSize,
  wireStringProblem,
} from './codec.js';
import type { GossipConfig } from './config.js';
import { DigestIndex } from './digest.js';
import type { GossipEvent, GossipListener, Outbound } from './events.js';
import { CHANNEL_NAMES, isTerminal, type KeyEntry, type Member, Status } from './member.js';
import { addMember } from './membership.js';
import { NameSet } from './name-set.js';
import type { GossipNodeOptions } from './node.js';
import type { HeartbeatHistory } from './phi-accrual.js';
import { Ring } from './ring.js';
import type { Suspicion } from './suspicion.js';

/** Shared by every "nothing to send" result, so frozen: a caller appending to one would make all nodes send it. */
export const EMPTY: Outbound[] = Object.freeze([]) as unknown as Outbound[];
/** Slots of a core's heartbeat-sender cache (a power of two). */
const SENDER_SLOTS = 64;

/**
 * What a core knows about a member, plus its heartbeat history while it monitors the member (always
 * `histories.get(name)`: kept on the member too so that a heartbeat reaches it without a second lookup).
 */
export interface Known extends Member {
  hist: HeartbeatHistory | undefined;
}

export class CoreState {
  readonly name: string;
  // Read by every datagram (first in the object, so they share its first cache lines).
  hasLeft = false;
  /** `config.maxDatagramBytes`, here so a heartbeat does not load the config. */
  readonly maxBytes: number;
  /** `config.maxUserBytes`. */
  readonly maxUserBytes: number;
  /** Whether `out` may hold datagrams (false: `drain` returns at once). */
  outPending = false;
  /** Whether `rumors` or `rumorExtra` may hold news (false: both are empty). */
  news = false;
  /**
   * Heartbeat senders by name hash, (name, member) pairs: a direct-mapped cache in front of `members` (one
   * cache line instead of a hash-table walk per heartbeat). Names are added, never replaced, in `members`, so
   * only the removal of a member (tombstone collection) clears it.
   */
  readonly senderCache: Array<string | Known | undefined> = new Array(2 * SENDER_SLOTS).fill(undefined);
  readonly config: GossipConfig;
  readonly metrics: Metrics;
  readonly rng: Rng;
  readonly seeds: string[];
  /** Local time of the call being served (`tick`, `handle`, `leave`). */
  now: number;
  /** Earliest time `tick` has anything to do (see `nextDeadline`). */
  dueAt = Number.NEGATIVE_INFINITY;

  // ---- membership (membership.ts, peers.ts, tombstones.ts) ----------------------------------------------

  readonly self: Known;
  readonly members = new Map<string, Known>();
  readonly digest: DigestIndex;
  /** Names of the members rehashed last, oldest first, at most `recentMax` (the SYN's recent digest). */
  recent: string[] = [];
  /** When the member last in `recent` was rehashed (its `changedAt`): nothing is recent before it. */
  lastRehashAt = Number.NEGATIVE_INFINITY;
  readonly ring = new Ring();
  /** Bumped whenever a member enters or leaves the ring or the live set; monitors are recomputed then. */
  ringEpoch = 0;
  /** Live (alive or suspect) members other than self, and dead ones: the peer-selection pools. */
  readonly live = new NameSet();
  readonly dead = new NameSet();
  readonly terminal = new Set<string>();
  /** Earliest expiry among tombstones (collection does nothing before it). */
  tombstoneDueAt = Number.POSITIVE_INFINITY;
  readonly forgotten = new Map<string, { gen: number; inc: number; at: number; left: boolean }>();
  /** Forgotten while dead (not left): still gossip-to-the-dead targets until `reconnectTimeoutMs`. */
  readonly lost = new NameSet();
  readonly lastDeadNotice = new Map<string, number>();

  // ---- failure detection (failure-detector.ts, suspicion.ts) --------------------------------------------

  readonly histories = new Map<string, HeartbeatHistory>();
  monitored: string[] = [];
  /** Our ring predecessors (they monitor us), recomputed with `monitored` when the ring changes. */
  heartbeatTargets: string[] = [];
  monitorsAt = -1;
  monitoredHistories: HeartbeatHistory[] = [];
  /**
   * A lower bound on every monitored history's `bound()` (-Infinity: unknown): before it, no monitored member
   * can exceed the phi threshold, and `checkPhi` would return at least it. Set by `checkPhi`, lowered by
   * arrivals (an arrival can move a bound slightly earlier), reset when the monitors are recomputed.
   */
  phiFloor = Number.NEGATIVE_INFINITY;
  hbSeq = 0;
  readonly suspicions = new Map<string, Suspicion>();

  // ---- rumors (rumors.ts) ---------------------------------------------------------------------------------

  rumors = new Map<string, ClaimEntry>();
  rumorExtra: string[] = [];
  /** A rumor of ours (a refutation) is waiting: forward at once, do not batch. */
  rumorUrgent = false;
  /** When learned rumors waiting to be batched must go out (Infinity: none waiting). */
  rumorDueAt = Number.POSITIVE_INFINITY;

  // ---- output ---------------------------------------------------------------------------------------------

  /** Encoded size of our name (for `headerBytes`). */
  readonly nameBytes: number;
  readonly listeners: GossipListener[] = [];
  out: Outbound[] = [];

  constructor(o: GossipNodeOptions, config: GossipConfig) {
    this.config = config;
    this.maxBytes = this.config.maxDatagramBytes;
    this.maxUserBytes = this.config.maxUserBytes;
    this.nameBytes = strSize(o.name);
    if (!(Number.isSafeInteger(o.generation) && o.generation >= 0))
      throw new ElexError('E_CONFIG', `generation must be a non-negative integer, got ${o.generation}`);
    // Checked as the wire carries it (UTF-8 bytes, printable): a name peers cannot decode is never heard.
    const nameProblem = wireStringProblem(o.name, LIMITS.name, false);
    if (nameProblem !== undefined)
      throw new ElexError(
        'E_CONFIG',
        `member name must be 1..${LIMITS.name} bytes of printable UTF-8: it ${nameProblem}`,
      );
    this.name = o.name;
    this.rng = o.rng;
    this.metrics = o.metrics ?? new CounterMetrics();
    this.seeds = (o.seeds ?? []).filter((s) => s !== o.name);
    this.now = o.now;
    this.digest = new DigestIndex(this.config.buckets);
    this.self = addMember(this, { name: o.name, gen: o.generation, inc: 0, status: Status.alive });
  }

  /** Whether `n` is a known member that is neither dead nor left (the ring walks' filter, built once). */
  readonly isLive = (n: string): boolean => {
    const m = this.members.get(n);
    return m !== undefined && !isTerminal(m.status);
  };

  /** `members.get(name)` through the sender cache (`hash`: the name's hash from the decoder). */
  cachedMember(name: string, hash: number): Known | undefined {
    const cache = this.senderCache;
    const slot = (hash & (SENDER_SLOTS - 1)) << 1;
    if (cache[slot] === name) return cache[slot + 1] as Known;
    const m = this.members.get(name);
    if (m !== undefined) {
      cache[slot] = name;
      cache[slot + 1] = m;
    }
    return m;
  }

  /** Something to do at `t` (or earlier): pulls the deadline in. */
  wakeAt(t: number): void {
    if (t < this.dueAt) this.dueAt = t;
  }

  drain(): Outbound[] {
    if (!this.outPending) return EMPTY;
    this.outPending = false;
    if (this.out.length === 0) return EMPTY;
    const o = this.out;
    this.out = [];
    return o;
  }

  send(to: string, m: Message): void {
    const data = encode(m);
    this.out.push({ to, data, kind: MSG_KIND_NAMES[m.type] });
    this.outPending = true;
  }

  /** One encoding, many recipients (datagrams are immutable once handed out). */
  sendAll(targets: readonly string[], m: Message): void {
    if (targets.length === 0) return;
    const data = encode(m);
    const kind = MSG_KIND_NAMES[m.type];
    for (const to of targets) this.out.push({ to, data, kind });
    this.outPending = true;
  }

  /** `headerSize(this.header())` without building the header. */
  headerBytes(): number {
    return 2 + this.nameBytes + varintSize(this.self.gen) + varintSize(this.self.inc);
  }

  header(): Header {
    return { sender: this.name, gen: this.self.gen, inc: this.self.inc };
  }

  emit(e: GossipEvent): void {
    for (const l of this.listeners) l(e);
  }

  emitKey(m: Member, k: KeyEntry): void {
    if (this.listeners.length === 0) return;
    this.emit({
      kind: 'key',
      member: m.name,
      channel: CHANNEL_NAMES[k.channel],
      key: k.key,
      value: k.value,
      version: k.version,
    });
  }
}
