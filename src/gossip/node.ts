/**
 * The gossip core's face: `GossipNode`, its public API, and the dispatch of `tick(now)` (timers) and
 * `handle(datagram, now)` (input) to the parts of the core, each a concept in a file of its own over one
 * shared state (core-state.ts): membership.ts, peers.ts, tombstones.ts, failure-detector.ts, suspicion.ts,
 * anti-entropy.ts, rumors.ts.
 *
 * Why here: what happens when, and in which order (heartbeats before phi checks, gossip rounds after garbage
 * collection, rumors after every datagram), is the protocol's schedule, and it reads best in one place.
 */
import { ElexError, type Metrics, type Rng } from '../core/index.js';
import { gossipRound, onExchange } from './anti-entropy.js';
import {
  type DecodeInfo,
  decode,
  decodeHeartbeat,
  type HeartbeatFields,
  LIMITS,
  type Message,
  MsgType,
  utf8Length,
  wireStringProblem,
} from './codec.js';
import { type GossipConfig, makeConfig } from './config.js';
import { CoreState, EMPTY } from './core-state.js';
import type { GossipListener, Outbound } from './events.js';
import { valueRoom } from './exchange.js';
import { checkPhi, heartbeat, refreshMonitors, sendHeartbeats } from './failure-detector.js';
import {
  type ChannelCode,
  isTerminal,
  type KeyEntry,
  keyId,
  type Liveness,
  STATUS_NAMES,
  Status,
} from './member.js';
import { applyClaim, observeSender, rehash, setClaim, unhash } from './membership.js';
import { liveNames, pickLive } from './peers.js';
import { PHI_AT_BOUND } from './phi-accrual.js';
import { flushRumors, handleRumors, sendRumors, takeRumors } from './rumors.js';
import { checkSuspicions } from './suspicion.js';
import { collectGarbage, reviveTombstone } from './tombstones.js';

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

/** Scratch for the heartbeat fast path (read into locals at once: `handle` may be re-entered by listeners). */
const HEARTBEAT: HeartbeatFields = { sender: '', senderHash: 0, gen: 0, inc: 0, seq: 0 };
const DECODED: DecodeInfo = { senderHash: 0 };

/**
 * One member's gossip core: membership with generations and incarnations, phi-accrual monitoring of ring
 * successors, Lifeguard suspicion, tombstones, and Scuttlebutt anti-entropy over bucketed digests.
 *
 * Sans-IO: the driver calls `tick(now)` every few hundred ms and `handle(datagram, now)` per datagram;
 * both return the datagrams to send. No clock, timer, socket or global randomness inside.
 */
export class GossipNode {
  readonly name: string;
  /** Everything the parts of the core share (core-state.ts). */
  private readonly s: CoreState;
  readonly config: GossipConfig;
  readonly metrics: Metrics;
  private nextGossipAt: number;
  private nextHeartbeatAt: number;
  private lastTickAt: number;
  private patternSeq = 0;

  constructor(o: GossipNodeOptions) {
    this.config = makeConfig(o.config);
    const s = new CoreState(o, this.config);
    this.s = s;
    this.name = s.name;
    this.metrics = s.metrics;
    this.lastTickAt = o.now;
    // Random phases: members do not gossip or heartbeat in lockstep. With equal intervals a member's
    // heartbeats and gossip rounds share one phase, so it wakes once a second instead of twice.
    this.nextGossipAt = o.now + s.rng.next() * this.config.gossipIntervalMs;
    this.nextHeartbeatAt =
      this.config.heartbeatIntervalMs === this.config.gossipIntervalMs
        ? this.nextGossipAt
        : o.now + s.rng.next() * this.config.heartbeatIntervalMs;
  }

  // ---- public API -----------------------------------------------------------------------------------

  get generation(): number {
    return this.s.self.gen;
  }
  get incarnation(): number {
    return this.s.self.inc;
  }
  get left(): boolean {
    return this.s.hasLeft;
  }

  subscribe(listener: GossipListener): () => void {
    this.s.listeners.push(listener);
    return () => {
      const i = this.s.listeners.indexOf(listener);
      if (i >= 0) this.s.listeners.splice(i, 1);
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
    const s = this.s;
    const m = s.self;
    unhash(s, m);
    const version = m.maxVersion + 1;
    m.maxVersion = version;
    const e: KeyEntry = { channel, key, version, value: value.slice() };
    m.keys.set(keyId(channel, key), e);
    rehash(s, m);
    s.emitKey(m, e);
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
    const room = valueRoom(this.config.maxDatagramBytes, this.name, this.s.self.gen, key);
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
    const s = this.s;
    if (s.hasLeft) return EMPTY;
    const targets = pickLive(s, fanout, undefined, accept);
    this.metrics.inc('user_sent', targets.length);
    s.sendAll(targets, { type: MsgType.user, ...s.header(), payload });
    return s.drain();
  }

  /** Pattern broadcast: the pattern channel is a ring of `patternSlots` keys per member. */
  broadcastPattern(value: Uint8Array): number {
    const seq = this.patternSeq++;
    this.set(2, String(seq % this.config.patternSlots), value);
    return seq;
  }

  get(member: string, channel: ChannelCode, key: string): Uint8Array | undefined {
    return this.s.members.get(member)?.keys.get(keyId(channel, key))?.value;
  }

  /** One key with its version (versions order every write of a member). */
  getEntry(
    member: string,
    channel: ChannelCode,
    key: string,
  ): { version: number; value: Uint8Array } | undefined {
    const e = this.s.members.get(member)?.keys.get(keyId(channel, key));
    return e ? { version: e.version, value: e.value } : undefined;
  }

  /** All keys of one channel of one member (snapshot). */
  entries(member: string, channel: ChannelCode): Array<{ key: string; version: number; value: Uint8Array }> {
    const m = this.s.members.get(member);
    if (!m) return [];
    const out = [];
    for (const e of m.keys.values())
      if (e.channel === channel) out.push({ key: e.key, version: e.version, value: e.value });
    return out.sort((a, b) => a.version - b.version);
  }

  liveness(member: string): Liveness {
    const m = this.s.members.get(member);
    return m ? STATUS_NAMES[m.status] : 'unknown';
  }

  /** Known members and their claims (tombstones included). */
  view(): Array<{ name: string; status: Liveness; gen: number; inc: number; maxVersion: number }> {
    return [...this.s.members.values()].map((m) => ({
      name: m.name,
      status: STATUS_NAMES[m.status],
      gen: m.gen,
      inc: m.inc,
      maxVersion: m.maxVersion,
    }));
  }

  /** Number of members seen alive or suspect (self included). */
  get liveCount(): number {
    return liveNames(this.s).length + 1;
  }

  get knownCount(): number {
    return this.s.members.size;
  }

  /** The digest hash two converged members share. */
  get stateHash(): string {
    return this.s.digest.toString();
  }

  /** Members this one monitors (its live ring successors). */
  get monitoring(): readonly string[] {
    return this.s.monitored;
  }

  /**
   * The earliest local time at which `tick` has work: the next heartbeat or gossip round, the earliest phi
   * crossing among monitored members, a suspicion timeout, a tombstone expiry, batched rumors to forward.
   * A driver may tick only then (one timer per member) instead of polling; ticking more often is harmless.
   * It can move earlier after `handle` (a suspicion or rumor to forward): re-read it after each call.
   */
  nextDeadline(): number {
    return this.s.dueAt;
  }

  /** phi of a monitored member now, or undefined. */
  phiOf(member: string, now: number): number | undefined {
    return this.s.histories.get(member)?.phi(now);
  }

  /** Graceful leave: a `left` claim goes out to 2 × fanout members; the node is inert afterwards. */
  leave(now: number): Outbound[] {
    const s = this.s;
    if (s.hasLeft) return EMPTY;
    s.now = now;
    setClaim(s, s.self, { gen: s.self.gen, inc: s.self.inc, status: Status.left }, undefined);
    s.hasLeft = true;
    const claims = takeRumors(s);
    sendRumors(s, claims, pickLive(s, 2 * this.config.fanout, undefined));
    return s.drain();
  }

  // ---- time -----------------------------------------------------------------------------------------

  tick(now: number): Outbound[] {
    const s = this.s;
    if (s.hasLeft) return EMPTY;
    s.now = now;
    const c = this.config;
    if (now - this.lastTickAt > 2 * c.heartbeatIntervalMs) {
      // We were stalled (GC pause, SIGSTOP, overloaded host): the silence we saw is ours, not theirs.
      // Lifeguard's local-health idea in its simplest form: do not accuse anyone on the way back.
      for (const h of s.histories.values()) h.grace(now);
      this.metrics.inc('stalls_detected');
    }
    this.lastTickAt = now;
    if (now >= this.nextHeartbeatAt) {
      this.nextHeartbeatAt = Math.max(this.nextHeartbeatAt + c.heartbeatIntervalMs, now + 1);
      refreshMonitors(s);
      sendHeartbeats(s);
    }
    // Well before the phi floor nobody can cross the threshold, so `checkPhi` would change nothing: it is
    // needed only for its deadline, and only if that could be the earliest (1 ms guards float rounding).
    const phiQuiet = c.phiThreshold >= PHI_AT_BOUND && now < s.phiFloor - 1;
    let due = this.nextHeartbeatAt;
    if (!phiQuiet) due = Math.min(due, checkPhi(s));
    due = Math.min(due, checkSuspicions(s));
    due = Math.min(due, collectGarbage(s));
    if (now >= this.nextGossipAt) {
      this.nextGossipAt = Math.max(this.nextGossipAt + c.gossipIntervalMs, now + 1);
      gossipRound(s);
    }
    flushRumors(s, undefined);
    if (phiQuiet && s.phiFloor < Math.min(due, this.nextGossipAt)) due = Math.min(due, checkPhi(s));
    s.dueAt = Math.min(due, this.nextGossipAt);
    return s.drain();
  }

  // ---- input ----------------------------------------------------------------------------------------

  /** Handles one datagram. Never throws for bad input: it is counted (`drop_*`) and dropped. */
  handle(data: Uint8Array, now: number): Outbound[] {
    const s = this.s;
    if (s.hasLeft) return EMPTY;
    s.now = now;
    const hb = HEARTBEAT;
    if (decodeHeartbeat(data, s.maxBytes, hb))
      return this.onHeartbeat(hb.sender, hb.senderHash, hb.gen, hb.inc, hb.seq);
    let msg: Message;
    const info = DECODED;
    try {
      msg = decode(data, s.maxBytes, s.maxUserBytes, info);
    } catch {
      const limit = this.config.maxDatagramBytes + (data[1] === MsgType.user ? this.config.maxUserBytes : 0);
      this.metrics.inc(data.length > limit ? 'drop_oversized' : 'drop_malformed');
      return EMPTY;
    }
    if (msg.sender === this.name) {
      this.metrics.inc('drop_self');
      return EMPTY;
    }
    let sender = s.cachedMember(msg.sender, info.senderHash) ?? reviveTombstone(s, msg.sender, msg.gen);
    if (msg.type === MsgType.join) {
      if (sender === undefined) {
        applyClaim(s, { name: msg.sender, gen: msg.gen, inc: msg.inc, status: Status.alive });
        sender = s.members.get(msg.sender);
        if (sender) this.metrics.inc('joins_admitted');
      } else observeSender(s, sender, msg.gen, msg.inc);
      handleRumors(s, msg.sender);
      return s.drain();
    }
    if (sender === undefined && s.seeds.includes(msg.sender)) {
      // Seeds are configured trust: their first answer admits them (the join handshake's other half).
      applyClaim(s, { name: msg.sender, gen: msg.gen, inc: msg.inc, status: Status.alive });
      sender = s.members.get(msg.sender);
    }
    if (sender === undefined) {
      this.metrics.inc('drop_unknown_sender');
      return EMPTY;
    }
    if (msg.gen < sender.gen) {
      this.metrics.inc('drop_stale_sender');
      return EMPTY;
    }
    observeSender(s, sender, msg.gen, msg.inc);
    switch (msg.type) {
      case MsgType.heartbeat:
        if (sender.gen === msg.gen) {
          const h = sender.hist;
          if (h) heartbeat(s, h, msg.seq);
          else this.metrics.inc('heartbeat_unmonitored');
        }
        break;
      case MsgType.rumor:
        for (const c of msg.claims) applyClaim(s, c);
        break;
      case MsgType.exchange:
        onExchange(s, sender, msg.body);
        break;
      case MsgType.user:
        if (sender.gen === msg.gen && !isTerminal(sender.status) && s.listeners.length > 0)
          s.emit({ kind: 'user', member: sender.name, value: msg.payload });
        else this.metrics.inc('drop_user');
        break;
    }
    handleRumors(s, msg.sender);
    return s.drain();
  }

  /** `handle` for a well-formed heartbeat (most datagrams), decoded without building a message. */
  private onHeartbeat(name: string, hash: number, gen: number, inc: number, seq: number): Outbound[] {
    if (name === this.name) {
      this.metrics.inc('drop_self');
      return EMPTY;
    }
    const s = this.s;
    let sender = s.cachedMember(name, hash) ?? reviveTombstone(s, name, gen);
    if (sender === undefined && s.seeds.includes(name)) {
      applyClaim(s, { name, gen, inc, status: Status.alive });
      sender = s.members.get(name);
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
      observeSender(s, sender, gen, inc);
    if (sender.gen === gen) {
      const h = sender.hist;
      if (h) heartbeat(s, h, seq);
      else this.metrics.inc('heartbeat_unmonitored');
    }
    handleRumors(s, name);
    return s.drain();
  }
}
