import { CounterMetrics, ElexError, type Metrics, type Rng } from '../core/index.js';
import {
  type ClaimEntry,
  claimSize,
  type DecodeInfo,
  type Delta,
  type DigestEntry,
  decode,
  decodeHeartbeat,
  digestEntrySize,
  type ExchangeBody,
  encode,
  type Header,
  type HeartbeatFields,
  LIMITS,
  type Message,
  MSG_KIND_NAMES,
  MsgType,
  type Request,
  requestSize,
  strSize,
  utf8Length,
  varintSize,
  wireStringProblem,
} from './codec.js';
import { type GossipConfig, makeConfig } from './config.js';
import { DigestIndex } from './digest.js';
import type { GossipEvent, GossipListener, Outbound } from './events.js';
import {
  bucketDigest,
  buildDeltas,
  type DeltaCandidate,
  digestOf,
  EXCHANGE_FIXED,
  NEWS_PRIORITY,
  valueRoom,
} from './exchange.js';
import {
  bucketOf,
  CHANNEL_NAMES,
  type ChannelCode,
  type Claim,
  compareIncarnation,
  isTerminal,
  type KeyEntry,
  keyId,
  type Liveness,
  type Member,
  ringPosition,
  STATUS_NAMES,
  Status,
  supersedes,
} from './member.js';
import { NameSet } from './name-set.js';
import { HeartbeatHistory, PHI_AT_BOUND } from './phi-accrual.js';
import { Ring } from './ring.js';
import { type Suspicion, suspicionTimeout } from './suspicion.js';

export interface GossipNodeOptions {
  name: string;
  /** One per process start, strictly increasing across restarts of the same name (persist it, or use boot time). */
  generation: number;
  /** Names to join through (the seeds need not know us). */
  seeds?: readonly string[];
  rng: Rng;
  now: number;
  config?: Partial<GossipConfig>;
  /** Counters (messages, drops by reason, suspicions, refutations...). Shared across nodes if you like. */
  metrics?: Metrics;
}

/** Shared by every "nothing to send" result, so frozen: a caller appending to one would make all nodes send it. */
const EMPTY: Outbound[] = Object.freeze([]) as unknown as Outbound[];
/** Scratch for the heartbeat fast path (read into locals at once: `handle` may be re-entered by listeners). */
const HEARTBEAT: HeartbeatFields = { sender: '', senderHash: 0, gen: 0, inc: 0, seq: 0 };
const DECODED: DecodeInfo = { senderHash: 0 };
/** Slots of a core's heartbeat-sender cache (a power of two). */
const SENDER_SLOTS = 64;
/** Tombstones this close to their expiry are no longer offered in deltas (members forget within ms). */
const TOMBSTONE_QUIET_MS = 1000;

/**
 * What a core knows about a member, plus its heartbeat history while it monitors the member (always
 * `histories.get(name)`: kept on the member too so that a heartbeat reaches it without a second lookup).
 */
interface Known extends Member {
  hist: HeartbeatHistory | undefined;
}

/**
 * One member's gossip core: membership with generations and incarnations, phi-accrual monitoring of ring
 * successors, Lifeguard suspicion, tombstones, and Scuttlebutt anti-entropy over bucketed digests.
 *
 * Sans-IO: the driver calls `tick(now)` every few hundred ms and `handle(datagram, now)` per datagram;
 * both return the datagrams to send. No clock, timer, socket or global randomness inside.
 */
export class GossipNode {
  readonly name: string;
  // Read by every datagram (first in the object, so they share its first cache lines).
  private hasLeft = false;
  /** `config.maxDatagramBytes`, here so a heartbeat does not load the config. */
  private readonly maxBytes: number;
  /** `config.maxUserBytes`. */
  private readonly maxUserBytes: number;
  /** Whether `out` may hold datagrams (false: `drain` returns at once). */
  private outPending = false;
  /** Whether `rumors` or `rumorExtra` may hold news (false: both are empty). */
  private news = false;
  /**
   * Heartbeat senders by name hash, (name, member) pairs: a direct-mapped cache in front of `members` (one
   * cache line instead of a hash-table walk per heartbeat). Names are added, never replaced, in `members`, so
   * only the removal of a member (tombstone collection) clears it.
   */
  private readonly senderCache: Array<string | Known | undefined> = new Array(2 * SENDER_SLOTS).fill(
    undefined,
  );
  readonly config: GossipConfig;
  readonly metrics: Metrics;
  private readonly rng: Rng;
  private readonly seeds: string[];
  private readonly self: Known;
  private readonly members = new Map<string, Known>();
  private readonly terminal = new Set<string>();
  private readonly ring = new Ring();
  private readonly forgotten = new Map<string, { gen: number; inc: number }>();
  private readonly digest: DigestIndex;
  private readonly histories = new Map<string, HeartbeatHistory>();
  private monitored: string[] = [];
  /** Our ring predecessors (they monitor us), recomputed with `monitored` when the ring changes. */
  private heartbeatTargets: string[] = [];
  /** Bumped whenever a member enters or leaves the ring or the live set; monitors are recomputed then. */
  private ringEpoch = 0;
  private monitorsAt = -1;
  private monitoredHistories: HeartbeatHistory[] = [];
  /**
   * A lower bound on every monitored history's `bound()` (-Infinity: unknown): before it, no monitored member
   * can exceed the phi threshold, and `checkPhi` would return at least it. Set by `checkPhi`, lowered by
   * arrivals (an arrival can move a bound slightly earlier), reset when the monitors are recomputed.
   */
  private phiFloor = Number.NEGATIVE_INFINITY;
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly lastDeadNotice = new Map<string, number>();
  private recent: string[] = [];
  /** When the member last in `recent` was rehashed (its `changedAt`): nothing is recent before it. */
  private lastRehashAt = Number.NEGATIVE_INFINITY;
  /** Encoded size of our name (for `headerBytes`). */
  private readonly nameBytes: number;
  /** Live (alive or suspect) members other than self, and dead ones: the peer-selection pools. */
  private readonly live = new NameSet();
  private readonly dead = new NameSet();
  private readonly listeners: GossipListener[] = [];
  private out: Outbound[] = [];
  private rumors = new Map<string, ClaimEntry>();
  private rumorExtra: string[] = [];
  /** A rumor of ours (a refutation) is waiting: forward at once, do not batch. */
  private rumorUrgent = false;
  private now: number;
  private nextGossipAt: number;
  private nextHeartbeatAt: number;
  private hbSeq = 0;
  private lastTickAt: number;
  private patternSeq = 0;
  /** When learned rumors waiting to be batched must go out (Infinity: none waiting). */
  private rumorDueAt = Number.POSITIVE_INFINITY;
  /** Earliest expiry among tombstones (collection does nothing before it). */
  private tombstoneDueAt = Number.POSITIVE_INFINITY;
  /** Earliest time `tick` has anything to do (see `nextDeadline`). */
  private dueAt = Number.NEGATIVE_INFINITY;

  constructor(o: GossipNodeOptions) {
    this.config = makeConfig(o.config);
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
    this.lastTickAt = o.now;
    this.digest = new DigestIndex(this.config.buckets);
    this.self = this.addMember({ name: o.name, gen: o.generation, inc: 0, status: Status.alive });
    // Random phases: members do not gossip or heartbeat in lockstep. With equal intervals a member's
    // heartbeats and gossip rounds share one phase, so it wakes once a second instead of twice.
    this.nextGossipAt = o.now + this.rng.next() * this.config.gossipIntervalMs;
    this.nextHeartbeatAt =
      this.config.heartbeatIntervalMs === this.config.gossipIntervalMs
        ? this.nextGossipAt
        : o.now + this.rng.next() * this.config.heartbeatIntervalMs;
  }

  // ---- public API -----------------------------------------------------------------------------------

  get generation(): number {
    return this.self.gen;
  }
  get incarnation(): number {
    return this.self.inc;
  }
  get left(): boolean {
    return this.hasLeft;
  }

  subscribe(listener: GossipListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Writes one of this member's own keys (the only keys it may write). Refuses oversized values. */
  set(channel: ChannelCode, key: string, value: Uint8Array): void {
    if (value.length > this.config.maxValueBytes)
      throw new ElexError(
        'E_TOO_LARGE',
        `value of ${value.length} bytes exceeds ${this.config.maxValueBytes}: chunk it into several keys`,
      );
    const room = this.maxValueFor(key);
    // A key no exchange can carry would block the later keys behind it just the same.
    if (value.length > room)
      throw new ElexError(
        'E_TOO_LARGE',
        `value of ${value.length} bytes under a key of ${utf8Length(key)} bytes exceeds ${room}: it could not fit one datagram with its headers; chunk it or shorten the key`,
      );
    const m = this.self;
    this.unhash(m);
    const version = m.maxVersion + 1;
    m.maxVersion = version;
    const e: KeyEntry = { channel, key, version, value: value.slice() };
    m.keys.set(keyId(channel, key), e);
    this.rehash(m);
    this.emitKey(m, e);
  }

  /**
   * The largest value `set` accepts under `key`: `maxValueBytes`, less where a long key (with a long member
   * name or a large generation) would leave a delta carrying it too large for any exchange (negative: not even
   * an empty value fits). Refuses a key peers cannot decode, like `set`.
   */
  maxValueFor(key: string): number {
    // A key peers cannot decode would poison every exchange carrying it, and block the later keys behind it.
    const keyProblem = wireStringProblem(key, LIMITS.key, true);
    if (keyProblem !== undefined)
      throw new ElexError(
        utf8Length(key) > LIMITS.key ? 'E_TOO_LARGE' : 'E_RANGE',
        `key must be at most ${LIMITS.key} bytes of printable UTF-8: it ${keyProblem}`,
      );
    const room = valueRoom(this.config.maxDatagramBytes, this.name, this.self.gen, key);
    return Math.min(this.config.maxValueBytes, room);
  }

  /**
   * Pushes `payload` to `fanout` random live members (those `accept` admits), one datagram each, now:
   * best effort, not replicated, not retried (memberlist's user messages). Receivers hand it to their
   * subscribers as a `user` event, and only from a member they know alive in its current generation.
   * Returns the datagrams to send, like `tick` and `handle`.
   */
  sendUser(payload: Uint8Array, fanout: number, accept?: (member: string) => boolean): Outbound[] {
    if (payload.length === 0 || payload.length > this.config.maxUserBytes)
      throw new ElexError(
        'E_TOO_LARGE',
        `user payload of ${payload.length} bytes must be 1..${this.config.maxUserBytes}`,
      );
    if (this.hasLeft) return EMPTY;
    const targets = this.pickLive(fanout, undefined, accept);
    this.metrics.inc('user_sent', targets.length);
    this.sendAll(targets, { type: MsgType.user, ...this.header(), payload });
    return this.drain();
  }

  /** Pattern broadcast: the pattern channel is a ring of `patternSlots` keys per member. */
  broadcastPattern(value: Uint8Array): number {
    const seq = this.patternSeq++;
    this.set(2, String(seq % this.config.patternSlots), value);
    return seq;
  }

  get(member: string, channel: ChannelCode, key: string): Uint8Array | undefined {
    return this.members.get(member)?.keys.get(keyId(channel, key))?.value;
  }

  /** One key with its version (versions order every write of a member). */
  getEntry(
    member: string,
    channel: ChannelCode,
    key: string,
  ): { version: number; value: Uint8Array } | undefined {
    const e = this.members.get(member)?.keys.get(keyId(channel, key));
    return e ? { version: e.version, value: e.value } : undefined;
  }

  /** All keys of one channel of one member (snapshot). */
  entries(member: string, channel: ChannelCode): Array<{ key: string; version: number; value: Uint8Array }> {
    const m = this.members.get(member);
    if (!m) return [];
    const out = [];
    for (const e of m.keys.values())
      if (e.channel === channel) out.push({ key: e.key, version: e.version, value: e.value });
    return out.sort((a, b) => a.version - b.version);
  }

  liveness(member: string): Liveness {
    const m = this.members.get(member);
    return m ? STATUS_NAMES[m.status] : 'unknown';
  }

  /** Known members and their claims (tombstones included). */
  view(): Array<{ name: string; status: Liveness; gen: number; inc: number; maxVersion: number }> {
    return [...this.members.values()].map((m) => ({
      name: m.name,
      status: STATUS_NAMES[m.status],
      gen: m.gen,
      inc: m.inc,
      maxVersion: m.maxVersion,
    }));
  }

  /** Number of members seen alive or suspect (self included). */
  get liveCount(): number {
    return this.liveNames().length + 1;
  }

  get knownCount(): number {
    return this.members.size;
  }

  /** The digest hash two converged members share. */
  get stateHash(): string {
    return this.digest.toString();
  }

  /** Members this one monitors (its live ring successors). */
  get monitoring(): readonly string[] {
    return this.monitored;
  }

  /**
   * The earliest local time at which `tick` has work: the next heartbeat or gossip round, the earliest phi
   * crossing among monitored members, a suspicion timeout, a tombstone expiry, batched rumors to forward.
   * A driver may tick only then (one timer per member) instead of polling; ticking more often is harmless.
   * It can move earlier after `handle` (a suspicion or rumor to forward): re-read it after each call.
   */
  nextDeadline(): number {
    return this.dueAt;
  }

  /** phi of a monitored member now, or undefined. */
  phiOf(member: string, now: number): number | undefined {
    return this.histories.get(member)?.phi(now);
  }

  /** Graceful leave: a `left` claim goes out to 2 × fanout members; the node is inert afterwards. */
  leave(now: number): Outbound[] {
    if (this.hasLeft) return EMPTY;
    this.now = now;
    this.setClaim(this.self, { gen: this.self.gen, inc: this.self.inc, status: Status.left }, undefined);
    this.hasLeft = true;
    const claims = this.takeRumors();
    this.sendRumors(claims, this.pickLive(2 * this.config.fanout, undefined));
    return this.drain();
  }

  // ---- time -----------------------------------------------------------------------------------------

  tick(now: number): Outbound[] {
    if (this.hasLeft) return EMPTY;
    this.now = now;
    const c = this.config;
    if (now - this.lastTickAt > 2 * c.heartbeatIntervalMs) {
      // We were stalled (GC pause, SIGSTOP, overloaded host): the silence we saw is ours, not theirs.
      // Lifeguard's local-health idea in its simplest form: do not accuse anyone on the way back.
      for (const h of this.histories.values()) h.grace(now);
      this.metrics.inc('stalls_detected');
    }
    this.lastTickAt = now;
    if (now >= this.nextHeartbeatAt) {
      this.nextHeartbeatAt = Math.max(this.nextHeartbeatAt + c.heartbeatIntervalMs, now + 1);
      this.refreshMonitors();
      this.sendHeartbeats();
    }
    // Well before the phi floor nobody can cross the threshold, so `checkPhi` would change nothing: it is
    // needed only for its deadline, and only if that could be the earliest (1 ms guards float rounding).
    const phiQuiet = c.phiThreshold >= PHI_AT_BOUND && now < this.phiFloor - 1;
    let due = this.nextHeartbeatAt;
    if (!phiQuiet) due = Math.min(due, this.checkPhi());
    due = Math.min(due, this.checkSuspicions());
    due = Math.min(due, this.collectGarbage());
    if (now >= this.nextGossipAt) {
      this.nextGossipAt = Math.max(this.nextGossipAt + c.gossipIntervalMs, now + 1);
      this.gossipRound();
    }
    this.flushRumors(undefined);
    if (phiQuiet && this.phiFloor < Math.min(due, this.nextGossipAt)) due = Math.min(due, this.checkPhi());
    this.dueAt = Math.min(due, this.nextGossipAt);
    return this.drain();
  }

  /** Something to do at `t` (or earlier): pulls the deadline in. */
  private wakeAt(t: number): void {
    if (t < this.dueAt) this.dueAt = t;
  }

  private drain(): Outbound[] {
    if (!this.outPending) return EMPTY;
    this.outPending = false;
    if (this.out.length === 0) return EMPTY;
    const o = this.out;
    this.out = [];
    return o;
  }

  private send(to: string, m: Message): void {
    const data = encode(m);
    this.out.push({ to, data, kind: MSG_KIND_NAMES[m.type] });
    this.outPending = true;
  }

  /** One encoding, many recipients (datagrams are immutable once handed out). */
  private sendAll(targets: readonly string[], m: Message): void {
    if (targets.length === 0) return;
    const data = encode(m);
    const kind = MSG_KIND_NAMES[m.type];
    for (const to of targets) this.out.push({ to, data, kind });
    this.outPending = true;
  }

  /** `headerSize(this.header())` without building the header. */
  private headerBytes(): number {
    return 2 + this.nameBytes + varintSize(this.self.gen) + varintSize(this.self.inc);
  }

  private header(): Header {
    return { sender: this.name, gen: this.self.gen, inc: this.self.inc };
  }

  // ---- monitoring (phi-accrual on the ring) ------------------------------------------------------------

  private readonly isLive = (n: string): boolean => {
    const m = this.members.get(n);
    return m !== undefined && !isTerminal(m.status);
  };

  private refreshMonitors(): void {
    if (this.monitorsAt === this.ringEpoch) return; // nobody joined, left or changed liveness class since
    this.monitorsAt = this.ringEpoch;
    const hubs = this.config.hubs;
    this.heartbeatTargets = this.withHubs(
      this.ring.walk(this.name, this.self.ringPos, this.config.monitors, -1, this.isLive),
      this.name,
    );
    const next = hubs.includes(this.name)
      ? this.live.items.slice()
      : this.ring.walk(this.name, this.self.ringPos, this.config.monitors, 1, this.isLive);
    for (const n of next)
      if (!this.histories.has(n)) this.setHistory(n, new HeartbeatHistory(this.config, this.now));
    for (const n of this.monitored) if (!next.includes(n)) this.setHistory(n, undefined);
    this.monitored = next;
    this.monitoredHistories = next.map((n) => this.histories.get(n)!);
    this.phiFloor = Number.NEGATIVE_INFINITY;
  }

  private setHistory(n: string, h: HeartbeatHistory | undefined): void {
    if (h === undefined) this.histories.delete(n);
    else this.histories.set(n, h);
    const m = this.members.get(n);
    if (m !== undefined) m.hist = h;
  }

  /** A heartbeat (or a refutation) from a monitored member: an arrival may move its bound a little earlier. */
  private arrived(h: HeartbeatHistory): void {
    h.arrive(this.now);
    const b = h.bound();
    if (b < this.phiFloor) this.phiFloor = b;
  }

  /** Our monitors are our ring predecessors: they get our heartbeats. */
  private sendHeartbeats(): void {
    const to = this.heartbeatTargets;
    const seq = this.hbSeq++;
    this.sendAll(to, { type: MsgType.heartbeat, ...this.header(), seq });
  }

  /** Raises the suspicions phi calls for; returns the earliest time another check could find one. */
  private checkPhi(): number {
    const monitored = this.monitored;
    const histories = this.monitoredHistories;
    const threshold = this.config.phiThreshold;
    let due = Number.POSITIVE_INFINITY;
    let floor = Number.POSITIVE_INFINITY;
    for (let i = 0; i < monitored.length; i++) {
      const h = histories[i];
      if (!h.exceeds(this.now, threshold)) {
        const t = h.nextCheck(this.now, threshold);
        if (t < due) due = t;
        const b = h.bound();
        if (b < floor) floor = b;
        continue;
      }
      floor = Number.NEGATIVE_INFINITY;
      const n = monitored[i];
      if (this.histories.get(n) !== histories[i]) continue; // replaced (new generation) since refresh
      const m = this.members.get(n);
      if (!m || isTerminal(m.status)) continue;
      const s = this.suspicions.get(n);
      if (s && s.gen === m.gen && s.inc === m.inc && s.origins.has(this.name)) continue;
      this.metrics.inc('suspicions_raised');
      const claim: ClaimEntry = {
        name: n,
        gen: m.gen,
        inc: m.inc,
        status: Status.suspect,
        origin: this.name,
      };
      if (m.status === Status.alive) this.setClaim(m, claim, this.name);
      else this.addVote(m, this.name, true);
      // The suspect hears it directly (to refute fast), and so do its other monitors (to confirm).
      this.rumorExtra.push(n);
      for (const co of this.coMonitors(m)) if (co !== this.name) this.rumorExtra.push(co);
      this.news = true;
    }
    this.phiFloor = floor;
    return due;
  }

  private coMonitors(m: Member): string[] {
    return this.withHubs(this.ring.walk(m.name, m.ringPos, this.config.monitors, -1, this.isLive), m.name);
  }

  /** A member's monitors: its ring predecessors and the live hubs (other than itself). */
  private withHubs(monitors: string[], of: string): string[] {
    for (const h of this.config.hubs)
      if (h !== of && !monitors.includes(h) && this.isLive(h)) monitors.push(h);
    return monitors;
  }

  private addVote(m: Member, origin: string, rumor: boolean): void {
    const s = this.suspicions.get(m.name);
    if (!s || s.gen !== m.gen || s.inc !== m.inc) return;
    if (s.origins.has(origin)) return;
    s.origins.add(origin);
    this.metrics.inc('suspicion_confirmations');
    if (rumor) {
      this.rumors.set(m.name, { name: m.name, gen: m.gen, inc: m.inc, status: Status.suspect, origin });
      this.news = true;
    }
  }

  /** Declares the deaths whose time has come; returns the earliest pending suspicion timeout. */
  private checkSuspicions(): number {
    let due = Number.POSITIVE_INFINITY;
    if (this.suspicions.size === 0) return due;
    const c = this.config;
    for (const [n, s] of this.suspicions) {
      const m = this.members.get(n);
      if (!m || m.status !== Status.suspect || m.gen !== s.gen || m.inc !== s.inc) {
        this.suspicions.delete(n);
        continue;
      }
      const mine = s.origins.has(this.name);
      const timeout = mine
        ? suspicionTimeout(s.origins.size, c.suspicionConfirmations, c.suspicionMinMs, c.suspicionMaxMs)
        : 2 * c.suspicionMaxMs; // safety net when every monitor is gone; monitors normally decide
      if (this.now - s.startedAt < timeout) {
        if (s.startedAt + timeout < due) due = s.startedAt + timeout;
        continue;
      }
      if (mine) {
        const h = this.histories.get(n);
        // Only declare while our own evidence still holds (phi may have recovered: wait for the refutation).
        if (h && !h.exceeds(this.now, c.phiThreshold)) continue;
      }
      this.metrics.inc('deaths_declared');
      this.setClaim(m, { name: n, gen: m.gen, inc: m.inc, status: Status.dead, ttlMs: 0 }, this.name);
      this.suspicions.delete(n);
    }
    return due;
  }

  // ---- membership -----------------------------------------------------------------------------------

  private addMember(c: Claim & { name: string }): Known {
    const m: Known = {
      name: c.name,
      gen: c.gen,
      inc: c.inc,
      status: c.status,
      maxVersion: 0,
      keys: new Map(),
      changedAt: this.now,
      expiresAt: Number.POSITIVE_INFINITY,
      bucket: bucketOf(c.name, this.config.buckets),
      hashLo: 0,
      hashHi: 0,
      ringPos: ringPosition(c.name),
      hist: undefined,
    };
    this.members.set(c.name, m);
    this.ring.add(m.name, m.ringPos);
    this.rehash(m);
    this.classify(m);
    return m;
  }

  private unhash(m: Member): void {
    this.digest.remove(m);
  }

  private rehash(m: Member): void {
    this.digest.add(m);
    m.changedAt = this.now;
    this.lastRehashAt = this.now;
    const r = this.recent;
    const i = r.indexOf(m.name);
    if (i >= 0) r.splice(i, 1);
    r.push(m.name);
    if (r.length > this.config.recentMax) r.shift();
  }

  /** Replaces a member's claim (the caller checked precedence), with every side effect in one place. */
  private setClaim(
    m: Known,
    c: Claim & { name?: string; origin?: string; ttlMs?: number },
    origin: string | undefined,
    previous: Liveness = STATUS_NAMES[m.status],
  ): void {
    const wasTerminal = isTerminal(m.status);
    this.unhash(m);
    if (c.gen !== m.gen) {
      m.keys.clear();
      m.maxVersion = 0;
      this.histories.delete(m.name);
      m.hist = undefined;
      this.ringEpoch++; // a new generation is monitored afresh
    }
    const refuted = c.status === Status.alive && (c.gen !== m.gen || c.inc !== m.inc || wasTerminal);
    m.gen = c.gen;
    m.inc = c.inc;
    m.status = c.status;
    this.rehash(m);
    const terminal = isTerminal(c.status);
    if (terminal) {
      const ttl = c.ttlMs ? Math.min(c.ttlMs, this.config.tombstoneTtlMs) : this.config.tombstoneTtlMs;
      m.expiresAt = this.now + ttl;
      this.terminal.add(m.name);
      this.suspicions.delete(m.name);
      if (m.expiresAt < this.tombstoneDueAt) this.tombstoneDueAt = m.expiresAt;
      this.wakeAt(m.expiresAt);
    } else {
      m.expiresAt = Number.POSITIVE_INFINITY;
      this.terminal.delete(m.name);
    }
    this.classify(m);
    if (c.status === Status.suspect) {
      this.wakeAt(this.now + this.config.suspicionMinMs);
      this.suspicions.set(m.name, {
        gen: c.gen,
        inc: c.inc,
        startedAt: this.now,
        origins: new Set(origin !== undefined ? [origin] : []),
      });
    } else if (c.status === Status.alive) {
      this.suspicions.delete(m.name);
      // A refuted or restarted member gets a fresh grace period from its monitors.
      if (refuted && m.hist !== undefined) this.arrived(m.hist);
    }
    this.rumors.set(m.name, this.claimOf(m));
    this.news = true;
    this.emit({
      kind: 'member',
      name: m.name,
      status: STATUS_NAMES[m.status],
      previous,
      gen: m.gen,
      inc: m.inc,
    });
  }

  private claimOf(m: Member): ClaimEntry {
    const c: ClaimEntry = { name: m.name, gen: m.gen, inc: m.inc, status: m.status };
    if (m.status === Status.suspect) {
      const s = this.suspicions.get(m.name);
      c.origin = s && s.origins.size > 0 ? s.origins.values().next().value : this.name;
    } else if (isTerminal(m.status)) {
      c.ttlMs = Math.max(1, Math.floor(m.expiresAt - this.now));
    }
    return c;
  }

  /** Applies a third-party claim. Returns true if it changed our view. */
  private applyClaim(c: ClaimEntry): boolean {
    if (c.name === this.name) return this.applySelfClaim(c);
    const m = this.members.get(c.name);
    if (m === undefined) {
      const f = this.forgotten.get(c.name);
      if (f && compareIncarnation(c.gen, c.inc, f.gen, f.inc) <= 0) {
        this.metrics.inc('drop_resurrection_blocked');
        return false;
      }
      const fresh = this.addMember({ name: c.name, gen: c.gen, inc: c.inc, status: Status.alive });
      this.setClaim(fresh, c, c.origin, 'unknown');
      return true;
    }
    if (supersedes(c, m)) {
      this.setClaim(m, c, c.origin);
      return true;
    }
    if (c.status === Status.suspect && m.status === Status.suspect && c.gen === m.gen && c.inc === m.inc) {
      if (c.origin !== undefined) this.addVote(m, c.origin, false);
      return false;
    }
    this.metrics.inc(
      compareIncarnation(c.gen, c.inc, m.gen, m.inc) < 0 || c.status < m.status ? 'drop_stale' : 'duplicate',
    );
    return false;
  }

  /** Someone says something about us: refute suspicion or death by raising our incarnation. */
  private applySelfClaim(c: ClaimEntry): boolean {
    const me = this.self;
    if (c.gen > me.gen) {
      this.metrics.inc('drop_identity_conflict');
      return false;
    }
    if (c.gen < me.gen || c.status === Status.alive || c.inc < me.inc) return false;
    if (this.hasLeft) return false;
    if (c.inc >= Number.MAX_SAFE_INTEGER) {
      // inc + 1 could not be encoded: every datagram we send would throw. Only a liar can get here.
      this.metrics.inc('drop_incarnation_overflow');
      return false;
    }
    this.metrics.inc('refutations');
    this.rumorUrgent = true;
    this.setClaim(me, { gen: me.gen, inc: c.inc + 1, status: Status.alive }, undefined);
    if (c.origin !== undefined && c.origin !== this.name) {
      this.rumorExtra.push(c.origin);
      this.news = true;
    }
    return true;
  }

  /** Self-claims in headers are first-hand: a higher (gen, inc) than ours makes the sender alive. */
  private observeSender(m: Known, gen: number, inc: number): void {
    // `alive` is the lowest status: an alive claim supersedes exactly when its (gen, inc) is higher.
    const cmp = gen !== m.gen ? gen - m.gen : inc - m.inc;
    if (cmp > 0) {
      this.setClaim(m, { gen, inc, status: Status.alive }, undefined);
      return;
    }
    if (m.status === Status.alive) return;
    if (isTerminal(m.status) && m.status === Status.dead && compareIncarnation(gen, inc, m.gen, m.inc) <= 0) {
      // It does not know it was declared dead: tell it, so it refutes (at most once per interval).
      const last = this.lastDeadNotice.get(m.name) ?? Number.NEGATIVE_INFINITY;
      if (this.now - last >= this.config.heartbeatIntervalMs) {
        this.lastDeadNotice.set(m.name, this.now);
        this.send(m.name, { type: MsgType.rumor, ...this.header(), claims: [this.claimOf(m)] });
      }
    }
  }

  /** Forgets expired tombstones; returns the next expiry. */
  private collectGarbage(): number {
    if (this.terminal.size === 0) {
      this.tombstoneDueAt = Number.POSITIVE_INFINITY; // a refuted tombstone leaves a stale due time
      return this.tombstoneDueAt;
    }
    if (this.now < this.tombstoneDueAt) return this.tombstoneDueAt;
    let due = Number.POSITIVE_INFINITY;
    for (const n of this.terminal) {
      const m = this.members.get(n);
      if (!m) continue;
      if (this.now < m.expiresAt) {
        if (m.expiresAt < due) due = m.expiresAt;
        continue;
      }
      this.unhash(m);
      this.members.delete(n);
      this.senderCache.fill(undefined);
      this.ring.remove(n, m.ringPos);
      this.ringEpoch++;
      this.terminal.delete(n);
      this.histories.delete(n);
      this.lastDeadNotice.delete(n);
      // Delete first: a name forgotten again must move to the newest end, or eviction (oldest first by
      // insertion) would drop the identity forgotten just now and let a late claim for it resurrect it.
      this.forgotten.delete(n);
      this.forgotten.set(n, { gen: m.gen, inc: m.inc });
      if (this.forgotten.size > this.config.forgottenCapacity) {
        const oldest = this.forgotten.keys().next().value;
        if (oldest !== undefined) this.forgotten.delete(oldest);
      }
      this.live.delete(n);
      this.dead.delete(n);
      this.metrics.inc('tombstones_collected');
      this.emit({
        kind: 'member',
        name: n,
        status: 'unknown',
        previous: STATUS_NAMES[m.status],
        gen: m.gen,
        inc: m.inc,
      });
    }
    this.tombstoneDueAt = due;
    return due;
  }

  // ---- peer selection ---------------------------------------------------------------------------------

  private classify(m: Member): void {
    if (m.name === this.name) return;
    const wasLive = this.live.has(m.name);
    if (isTerminal(m.status)) this.live.delete(m.name);
    else this.live.add(m.name);
    if (wasLive !== this.live.has(m.name)) this.ringEpoch++;
    if (m.status === Status.dead) this.dead.add(m.name);
    else this.dead.delete(m.name);
  }

  private liveNames(): string[] {
    return this.live.items;
  }

  /** Up to `k` distinct live members chosen uniformly, excluding `except`. */
  private pickLive(k: number, except: string | undefined, accept?: (member: string) => boolean): string[] {
    const all = this.liveNames();
    const live = accept === undefined ? all : all.filter(accept);
    const out: string[] = [];
    const n = live.length;
    if (n === 0) return out;
    if (n <= k + 1) {
      for (const x of live) if (x !== except && out.length < k) out.push(x);
      return out;
    }
    for (let tries = 0; out.length < k && tries < 4 * k; tries++) {
      const x = live[this.rng.int(n)];
      if (x !== except && !out.includes(x)) out.push(x);
    }
    return out;
  }

  // ---- anti-entropy ---------------------------------------------------------------------------------

  private gossipRound(): void {
    const c = this.config;
    const targets = this.pickLive(c.fanout, undefined);
    const live = this.liveNames().length;
    // Gossip to the dead: partitions heal only if someone talks across them. Probability ∝ dead share.
    const dead = this.dead.items;
    if (dead.length > 0 && this.rng.next() * (live + dead.length) < dead.length)
      targets.push(dead[this.rng.int(dead.length)]);
    if (live < c.fanout && this.seeds.length > 0) {
      for (const s of this.seeds) {
        if (!this.members.has(s)) this.send(s, { type: MsgType.join, ...this.header() });
        if (!targets.includes(s)) targets.push(s);
      }
    }
    if (targets.length === 0) return;
    const budget = c.maxDatagramBytes - this.headerBytes() - EXCHANGE_FIXED - 8;
    const digest = this.recentDigest(budget, undefined);
    this.metrics.inc('syn_sent', targets.length);
    this.sendAll(targets, {
      type: MsgType.exchange,
      ...this.header(),
      body: {
        hop: 0,
        hash: [this.digest.totalLo, this.digest.totalHi],
        digest,
        covered: [],
        requests: [],
        deltas: [],
      },
    });
  }

  private recentDigest(budget: number, skip: Set<string> | undefined): DigestEntry[] {
    const out: DigestEntry[] = [];
    const since = this.now - this.config.recentWindowMs;
    // The last entry of `recent` is the member rehashed last: if even it is old (or gone), nothing is recent.
    if (this.lastRehashAt < since) return out;
    let used = 0;
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const m = this.members.get(this.recent[i]);
      if (!m || m.changedAt < since) break;
      if (skip?.has(m.name)) continue;
      const d = digestOf(m);
      const s = digestEntrySize(d);
      if (used + s > budget) break;
      used += s;
      out.push(d);
    }
    return out;
  }

  private bucketHash(b: number): number {
    return this.digest.bucketHash(b);
  }

  private onExchange(from: Member, body: ExchangeBody): void {
    const c = this.config;
    // 1. Apply what the peer sent.
    for (const d of body.deltas) this.applyDelta(d);
    // 2. Decide what to send back.
    const candidates = new Map<string, DeltaCandidate>();
    const requests: Request[] = [];
    const want = (m: Member, fromVersion: number, priority: number) => {
      // A tombstone about to be forgotten is not offered: the peer may have forgotten it already.
      if (m.expiresAt - this.now < TOMBSTONE_QUIET_MS) return;
      const prev = candidates.get(m.name);
      if (prev === undefined || fromVersion < prev.from)
        candidates.set(m.name, { m, from: fromVersion, priority: Math.max(priority, prev?.priority ?? 0) });
    };
    for (const r of body.requests) {
      const m = this.members.get(r.name);
      if (m) want(m, r.gen === m.gen ? Math.min(r.fromVersion, m.maxVersion) : 0, NEWS_PRIORITY);
    }
    const seen = new Set<string>();
    for (const e of body.digest) {
      seen.add(e.name);
      this.compareDigest(e, want, requests);
    }
    if (body.covered.length > 0) {
      const covered = new Set(body.covered);
      for (const m of this.members.values())
        if (covered.has(m.bucket) && !seen.has(m.name)) want(m, 0, NEWS_PRIORITY + m.maxVersion);
    }
    let buckets: Uint32Array | undefined;
    let digest: DigestEntry[] = [];
    let coveredOut: number[] = [];
    const budget0 = c.maxDatagramBytes - this.headerBytes() - EXCHANGE_FIXED;
    let budget = budget0;
    if (body.hop === 0) {
      if (body.hash && this.digest.matches(body.hash)) {
        this.metrics.inc('syn_in_sync');
        if (candidates.size === 0 && requests.length === 0) return;
      } else {
        buckets = new Uint32Array(c.buckets);
        for (let b = 0; b < c.buckets; b++) buckets[b] = this.bucketHash(b);
        budget -= 1 + 4 * c.buckets;
      }
    }
    if (body.hop + 1 > c.maxHops) return;
    // Requests first (small), then deltas most-stale-first, then our digest for buckets that differ.
    const reqOut: Request[] = [];
    for (const r of requests) {
      const s = requestSize(r);
      if (s > budget) break;
      budget -= s;
      reqOut.push(r);
    }
    const deltas = buildDeltas([...candidates.values()], budget, this.rng, (m) => this.claimOf(m));
    budget -= deltas.bytes;
    if (buckets !== undefined) {
      digest = this.recentDigest(Math.min(budget, 400), seen);
      for (const d of digest) budget -= digestEntrySize(d);
    } else if (body.buckets && body.buckets.length === c.buckets) {
      const r = bucketDigest(this.members.values(), this.digest, body.buckets, budget, this.rng);
      digest = r.digest;
      coveredOut = r.covered;
    }
    if (deltas.list.length === 0 && reqOut.length === 0 && digest.length === 0 && buckets === undefined)
      return;
    this.metrics.inc('exchange_replies');
    this.send(from.name, {
      type: MsgType.exchange,
      ...this.header(),
      body: {
        hop: body.hop + 1,
        buckets,
        digest,
        covered: coveredOut,
        requests: reqOut,
        deltas: deltas.list,
      },
    });
  }

  private compareDigest(
    e: DigestEntry,
    want: (m: Member, from: number, priority: number) => void,
    requests: Request[],
  ): void {
    const m = this.members.get(e.name);
    if (m === undefined) {
      const f = this.forgotten.get(e.name);
      if (f && compareIncarnation(e.gen, e.inc, f.gen, f.inc) <= 0) return;
      if (e.name !== this.name) requests.push({ name: e.name, gen: e.gen, fromVersion: 0 });
      return;
    }
    if (supersedes(m, e)) want(m, e.gen === m.gen ? Math.min(e.maxVersion, m.maxVersion) : 0, NEWS_PRIORITY);
    else if (supersedes(e, m)) {
      if (m !== this.self)
        requests.push({ name: e.name, gen: e.gen, fromVersion: e.gen === m.gen ? m.maxVersion : 0 });
      else this.applySelfClaim({ name: e.name, gen: e.gen, inc: e.inc, status: e.status });
    } else if (m.maxVersion > e.maxVersion) want(m, e.maxVersion, m.maxVersion - e.maxVersion);
    else if (e.maxVersion > m.maxVersion && m !== this.self)
      requests.push({ name: e.name, gen: e.gen, fromVersion: m.maxVersion });
  }

  /** Our digest entries for the buckets whose hashes differ, whole buckets only, from a random start. */
  private applyDelta(d: Delta): void {
    this.applyClaim(d.claim);
    const m = this.members.get(d.claim.name);
    if (!m || m === this.self || m.gen !== d.claim.gen || d.keys.length === 0) return;
    if (d.fromVersion > m.maxVersion) {
      // A gap: applying would break the prefix invariant (we would claim versions we never saw).
      this.metrics.inc('drop_delta_gap');
      return;
    }
    let changed = false;
    for (const k of d.keys) {
      if (k.version <= m.maxVersion) continue;
      if (!changed) this.unhash(m);
      changed = true;
      m.maxVersion = k.version;
      m.keys.set(keyId(k.channel, k.key), k);
    }
    if (!changed) {
      this.metrics.inc('duplicate_keys');
      return;
    }
    this.rehash(m);
    for (const k of d.keys) if (m.keys.get(keyId(k.channel, k.key)) === k) this.emitKey(m, k);
  }

  // ---- rumors (eager membership news) -----------------------------------------------------------------

  /** After a datagram: our own news goes at once, learned news waits up to `rumorDelayMs` to be batched. */
  private handleRumors(exceptPeer: string): void {
    if (!this.news) return;
    if (this.rumors.size === 0 && this.rumorExtra.length === 0) {
      this.news = false;
      return;
    }
    if (this.rumorUrgent || this.config.rumorDelayMs === 0) {
      this.flushRumors(exceptPeer);
      return;
    }
    if (this.rumorDueAt === Number.POSITIVE_INFINITY) {
      this.rumorDueAt = this.now + this.config.rumorDelayMs;
      this.wakeAt(this.rumorDueAt);
    }
  }

  private flushRumors(exceptPeer: string | undefined): void {
    this.rumorUrgent = false;
    this.rumorDueAt = Number.POSITIVE_INFINITY;
    if (!this.news) return;
    this.news = false;
    if (this.rumors.size === 0 && this.rumorExtra.length === 0) return;
    const claims = this.takeRumors();
    const extra = this.rumorExtra;
    this.rumorExtra = [];
    if (claims.length === 0) return;
    const targets = this.pickLive(this.config.fanout, exceptPeer);
    for (const x of extra) if (x !== this.name && !targets.includes(x)) targets.push(x);
    this.sendRumors(claims, targets);
  }

  /**
   * The queued claims, emptying the queue. A tombstone's TTL is relative, so it is re-read now: queued up to
   * `rumorDelayMs` ago, it would otherwise make every receiver forget later than we do.
   */
  private takeRumors(): ClaimEntry[] {
    const claims: ClaimEntry[] = [];
    for (const c of this.rumors.values()) {
      if (c.ttlMs === undefined) claims.push(c);
      else {
        const m = this.members.get(c.name);
        if (m !== undefined && isTerminal(m.status)) claims.push(this.claimOf(m));
      }
    }
    this.rumors.clear();
    return claims;
  }

  private sendRumors(claims: ClaimEntry[], targets: string[]): void {
    if (targets.length === 0) return;
    const budget = this.config.maxDatagramBytes - this.headerBytes() - 3;
    let batch: ClaimEntry[] = [];
    let used = 0;
    const flush = () => {
      if (batch.length === 0) return;
      this.sendAll(targets, { type: MsgType.rumor, ...this.header(), claims: batch });
      batch = [];
      used = 0;
    };
    for (const c of claims) {
      const s = claimSize(c);
      if (used + s > budget) flush();
      batch.push(c);
      used += s;
    }
    flush();
  }

  // ---- input ----------------------------------------------------------------------------------------

  /** Handles one datagram. Never throws for bad input: it is counted (`drop_*`) and dropped. */
  handle(data: Uint8Array, now: number): Outbound[] {
    if (this.hasLeft) return EMPTY;
    this.now = now;
    const hb = HEARTBEAT;
    if (decodeHeartbeat(data, this.maxBytes, hb))
      return this.onHeartbeat(hb.sender, hb.senderHash, hb.gen, hb.inc);
    let msg: Message;
    const info = DECODED;
    try {
      msg = decode(data, this.maxBytes, this.maxUserBytes, info);
    } catch {
      const limit = this.config.maxDatagramBytes + (data[1] === MsgType.user ? this.config.maxUserBytes : 0);
      this.metrics.inc(data.length > limit ? 'drop_oversized' : 'drop_malformed');
      return EMPTY;
    }
    if (msg.sender === this.name) {
      this.metrics.inc('drop_self');
      return EMPTY;
    }
    let sender = this.cachedMember(msg.sender, info.senderHash);
    if (msg.type === MsgType.join) {
      if (sender === undefined) {
        this.applyClaim({ name: msg.sender, gen: msg.gen, inc: msg.inc, status: Status.alive });
        sender = this.members.get(msg.sender);
        if (sender) this.metrics.inc('joins_admitted');
      } else this.observeSender(sender, msg.gen, msg.inc);
      this.handleRumors(msg.sender);
      return this.drain();
    }
    if (sender === undefined && this.seeds.includes(msg.sender)) {
      // Seeds are configured trust: their first answer admits them (the join handshake's other half).
      this.applyClaim({ name: msg.sender, gen: msg.gen, inc: msg.inc, status: Status.alive });
      sender = this.members.get(msg.sender);
    }
    if (sender === undefined) {
      this.metrics.inc('drop_unknown_sender');
      return EMPTY;
    }
    if (msg.gen < sender.gen) {
      this.metrics.inc('drop_stale_sender');
      return EMPTY;
    }
    this.observeSender(sender, msg.gen, msg.inc);
    switch (msg.type) {
      case MsgType.heartbeat:
        if (sender.gen === msg.gen) {
          const h = sender.hist;
          if (h) this.arrived(h);
          else this.metrics.inc('heartbeat_unmonitored');
        }
        break;
      case MsgType.rumor:
        for (const c of msg.claims) this.applyClaim(c);
        break;
      case MsgType.exchange:
        this.onExchange(sender, msg.body);
        break;
      case MsgType.user:
        if (sender.gen === msg.gen && !isTerminal(sender.status) && this.listeners.length > 0)
          this.emit({ kind: 'user', member: sender.name, value: msg.payload });
        else this.metrics.inc('drop_user');
        break;
    }
    this.handleRumors(msg.sender);
    return this.drain();
  }

  /** `members.get(name)` through the sender cache (`hash`: the name's hash from the decoder). */
  private cachedMember(name: string, hash: number): Known | undefined {
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

  /** `handle` for a well-formed heartbeat (most datagrams), decoded without building a message. */
  private onHeartbeat(name: string, hash: number, gen: number, inc: number): Outbound[] {
    if (name === this.name) {
      this.metrics.inc('drop_self');
      return EMPTY;
    }
    let sender = this.cachedMember(name, hash);
    if (sender === undefined && this.seeds.includes(name)) {
      this.applyClaim({ name, gen, inc, status: Status.alive });
      sender = this.members.get(name);
    }
    if (sender === undefined) {
      this.metrics.inc('drop_unknown_sender');
      return EMPTY;
    }
    if (gen < sender.gen) {
      this.metrics.inc('drop_stale_sender');
      return EMPTY;
    }
    if (gen !== sender.gen || inc !== sender.inc || sender.status !== Status.alive)
      this.observeSender(sender, gen, inc);
    if (sender.gen === gen) {
      const h = sender.hist;
      if (h) this.arrived(h);
      else this.metrics.inc('heartbeat_unmonitored');
    }
    this.handleRumors(name);
    return this.drain();
  }

  // ---- events ---------------------------------------------------------------------------------------

  private emit(e: GossipEvent): void {
    for (const l of this.listeners) l(e);
  }

  private emitKey(m: Member, k: KeyEntry): void {
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
