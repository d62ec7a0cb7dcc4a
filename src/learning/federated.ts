/**
 * ADR-115's FederatedQTable: a local table, peers, consensus state (Follower / Candidate / Leader{term}),
 * pending updates and a sync interval, over a byte-message `FederationNetwork`.
 *
 * - Sync every `sync_interval_ms` (jittered ±25 %) or after `sync_after_interactions` (10) interactions.
 * - Per category an aggregator is elected with terms by a Byzantine quorum of the category's members. The
 *   aggregator merges a round once `min_peers_for_consensus` members (itself included) contributed and
 *   broadcasts the result as a signed aggregate stamped (term, round); members refuse aggregates from an
 *   older term or a (term, round) they have already passed, so a deposed aggregator's output is fenced.
 * - Without an aggregator agents merge peer-to-peer with the robust rule, sending to `gossip_fanout` peers;
 *   when an aggregator returns they send to it again and adopt its rounds.
 * - Every delta and control message is Ed25519-signed; every delta is validated before any rule sees it.
 */
import {
  type Clock,
  ElexError,
  fnv1a,
  isElexError,
  ManualClock,
  type Rng,
  SeededRng,
} from '../core/index.js';
import {
  type AggregateStamp,
  AggregatorElection,
  type ConsensusState,
  checkVoteState,
  type VoteState,
} from './aggregator-election.js';
import { type Control, type ControlType, decodeControl, encodeControl } from './control.js';
import {
  DELTA_FRAME_BYTES,
  DELTA_STATE_BYTES,
  type Delta,
  decodeDelta,
  deltaEntryBytes,
  emptyDelta,
  encodeDelta,
  encodedDeltaBytesBound,
  MAX_DELTA_ACTIONS,
  MAX_DELTA_BYTES,
  MAX_DELTA_ENTRIES,
} from './delta-codec.js';
import { type LearningConfig, QLearner } from './engine.js';
import { ENVELOPE, envelope } from './envelope.js';
import { type Identity, identityFromRng, type Keyring, MapKeyring } from './identity.js';
import { DEFAULT_RULE, type RuleName, ruleByName } from './merge/index.js';
import { type FederationNetwork, InMemoryNetwork } from './network.js';
import { QTable } from './q-table.js';
import { ReachabilityWindow } from './reachability-window.js';
import { relayedCounts } from './relay.js';
import { REWARD_MAX, REWARD_MIN } from './reward.js';
import { deltaSince, MergeWorkspace, mergeDeltasIntoTable, putEntry, type Weighting } from './table-merge.js';
import { ReporterTrust } from './trust.js';
import { checkDelta, tdReachable, tdTargetRange } from './validate.js';

export type { ConsensusState, VoteState } from './aggregator-election.js';

export interface FederationConfig {
  sync_interval_ms?: number;
  min_peers_for_consensus?: number;
  byzantine_threshold?: number;
  gossip_fanout?: number;
  /** This member's id (default 'agent-0'). */
  id?: string;
  /** The other members of this member's category. */
  peers?: readonly string[];
  network?: FederationNetwork;
  /** Public keys of the members; this member's key is added to it. */
  keyring?: MapKeyring;
  /** Seed for this member's key and random draws (deterministic in simulation). */
  seed?: number;
  identity?: Identity;
  clock?: Clock;
  rule?: RuleName;
  learning?: Partial<LearningConfig>;
  sync_after_interactions?: number;
  /** Most interactions a peer may claim in one delta (plausibility). */
  max_interactions_per_delta?: number;
  /** Cap on one peer's weight for one entry, in fresh visits (default 2, the evaluated configuration). */
  weight_cap?: number;
  /** Reports differing by more than this (Q units) count as a conflict. */
  conflict_tolerance?: number;
  /** (term, vote) saved by an earlier life of this member (see `on_vote_state`). */
  vote_state?: VoteState;
  /**
   * Called whenever this member's (term, vote) changes, before any message that depends on it is sent. Save it
   * durably and pass it back as `vote_state` after a restart: a member that forgets its vote could vote twice
   * in one term, and two quorums would no longer need an honest member in common.
   */
  on_vote_state?: (s: VoteState) => void;
  /**
   * Most entries in one delta this member sends (default and most: `MAX_DELTA_ENTRIES`). More changes go out
   * in parts, one per sync and recipient (docs/federation.md, "Protocol notes"). Lower values are for tests.
   */
  max_delta_entries?: number;
  /** Most bytes of one delta this member sends (default and most: `MAX_DELTA_BYTES`; at least 1024). */
  max_delta_bytes?: number;
}

/** Fewest bytes `max_delta_bytes` may allow: the largest frame and room for entries. */
const MIN_DELTA_BYTES = 1024;

export interface SyncResult {
  updates_sent: number;
  updates_received: number;
  conflicts_resolved: number;
  sync_time_ms: number;
  refused: number;
}

const U32_MAX = 0xffffffff;

/** Peer deltas remembered per origin to refuse replays (Ed25519 signatures are deterministic: same bytes). */
const REPLAY_WINDOW = 256;

export class FederatedQTable {
  readonly id: string;
  readonly local_qtable: QTable;
  readonly learner: QLearner;
  readonly peers: readonly string[];
  /** Peer deltas waiting for the aggregator's next round. */
  pending_updates: Delta[] = [];
  readonly sync_interval_ms: number;
  readonly config: Required<
    Pick<
      FederationConfig,
      | 'min_peers_for_consensus'
      | 'byzantine_threshold'
      | 'gossip_fanout'
      | 'sync_after_interactions'
      | 'max_interactions_per_delta'
      | 'weight_cap'
      | 'conflict_tolerance'
    >
  > & { rule: RuleName };
  /** Who aggregates this category: terms, votes, certificates, heartbeats (sans-IO, driven by `sync`). */
  readonly election: AggregatorElection;
  readonly refusals = new Map<string, number>();

  private readonly network: FederationNetwork;
  private readonly keyring: Keyring;
  private readonly identity: Identity;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly acked = new Map<string, number>();
  private readonly recentDeltas = new Map<string, number[]>();
  private interactionsAtSync = 0;
  private lastSyncAt: number;
  private nextSyncAt: number;
  /** As aggregator: every entry at a version up to this went out in an aggregate of this term. */
  private broadcastVersion = 0;
  /** As aggregator: the table's clock when it sent its last aggregate (later versions are new to members). */
  private newsSince = 0;
  /** Limits of the deltas this member sends (`max_delta_entries`, `max_delta_bytes`). */
  private readonly deltaLimits: { entries: number; bytes: number };
  private readonly ws = new MergeWorkspace();
  /**
   * Peer-to-peer relay: per entry, the weight a merge kept from each origin since this member last sent
   * deltas. Sent on as fresh visits (to everyone but that origin), so knowledge adopted from one peer
   * reaches the next hop with the samples behind it instead of with no weight.
   */
  private relay = new Map<number, Map<string, number>>();
  /** As aggregator: per member, the keys of its last refused (unreachable) delta, sent back in the aggregate. */
  private resend = new Map<string, Array<[number, number, number]>>();
  /** As aggregator: the values its entries were published with in its last TD_WINDOW aggregates. */
  private readonly window = new ReachabilityWindow();
  /** Reputation of the peers whose deltas this member merges (as aggregator or peer-to-peer). */
  readonly trust: ReporterTrust;

  constructor(config: FederationConfig = {}) {
    // Checked before anything else: a refused configuration must leave the caller's keyring untouched.
    if (config.vote_state) checkVoteState(config.vote_state);
    const maxEntries = config.max_delta_entries ?? MAX_DELTA_ENTRIES;
    if (!(Number.isInteger(maxEntries) && maxEntries >= 1 && maxEntries <= MAX_DELTA_ENTRIES))
      throw new ElexError('E_CONFIG', `max_delta_entries must be an integer in 1..${MAX_DELTA_ENTRIES}`);
    const maxBytes = config.max_delta_bytes ?? MAX_DELTA_BYTES;
    if (!(Number.isInteger(maxBytes) && maxBytes >= MIN_DELTA_BYTES && maxBytes <= MAX_DELTA_BYTES))
      throw new ElexError(
        'E_CONFIG',
        `max_delta_bytes must be an integer in ${MIN_DELTA_BYTES}..${MAX_DELTA_BYTES}`,
      );
    this.deltaLimits = { entries: maxEntries, bytes: maxBytes };
    this.id = config.id ?? 'agent-0';
    this.peers = (config.peers ?? []).filter((p) => p !== this.id);
    this.sync_interval_ms = config.sync_interval_ms ?? 60_000;
    if (!(this.sync_interval_ms > 0)) throw new ElexError('E_CONFIG', 'sync_interval_ms must be positive');
    const threshold = config.byzantine_threshold ?? 0.33;
    if (!(threshold >= 0 && threshold < 0.5))
      throw new ElexError('E_CONFIG', 'byzantine_threshold must be in [0, 0.5)');
    this.config = {
      min_peers_for_consensus: config.min_peers_for_consensus ?? 3,
      byzantine_threshold: threshold,
      gossip_fanout: config.gossip_fanout ?? 3,
      sync_after_interactions: config.sync_after_interactions ?? 10,
      max_interactions_per_delta: config.max_interactions_per_delta ?? 10_000,
      weight_cap: config.weight_cap ?? 2,
      conflict_tolerance: config.conflict_tolerance ?? 0.05,
      rule: config.rule ?? DEFAULT_RULE,
    };
    ruleByName(this.config.rule);
    const root = new SeededRng(config.seed ?? 1).fork(this.id);
    this.rng = root.fork('draws');
    this.identity = config.identity ?? identityFromRng(this.id, root.fork('key'));
    if (this.identity.id !== this.id)
      throw new ElexError('E_CONFIG', 'identity id differs from the member id');
    const keyring = config.keyring ?? new MapKeyring();
    keyring.add(this.id, this.identity.publicKey);
    this.keyring = keyring;
    this.network = config.network ?? new InMemoryNetwork();
    this.clock = config.clock ?? new ManualClock(0);
    // A delta names a state's actions in an 8-bit mask: a member learning action 8 or above could not encode
    // its next delta, and every sync threw E_ENCODE.
    const actions = config.learning?.actions;
    if (actions !== undefined && !(actions >= 1 && actions <= MAX_DELTA_ACTIONS))
      throw new ElexError('E_CONFIG', `learning.actions must be 1..${MAX_DELTA_ACTIONS} to federate`);
    this.local_qtable = new QTable();
    this.learner = new QLearner(this.local_qtable, this.rng.fork('learner'), config.learning);
    this.trust = new ReporterTrust({
      alpha: this.learner.config.alpha,
      minScale: 0.1 * (REWARD_MAX - REWARD_MIN),
    });
    this.lastSyncAt = this.clock.now();
    this.nextSyncAt = this.jittered(this.lastSyncAt);
    this.election = new AggregatorElection({
      id: this.id,
      peers: this.peers,
      byzantineThreshold: threshold,
      syncIntervalMs: this.sync_interval_ms,
      keyring,
      rng: this.rng,
      transport: {
        control: (to, type, value, term) => this.sendControl(to, type, value, term),
        certificate: (to, c) => this.network.send(this.id, to, envelope(ENVELOPE.certificate, c)),
      },
      hooks: {
        // Deltas sent to this member as aggregator: a follower must not merge them into a round of its own.
        steppedDown: () => {
          this.pending_updates = [];
          this.window.clear();
        },
        becameLeader: () => {
          this.window.clear();
          this.broadcastVersion = 0;
          this.newsSince = 0;
        },
      },
      voteState: config.vote_state,
      onVoteState: config.on_vote_state,
      now: this.lastSyncAt,
    });
  }

  /** ADR-115's consensus state: Follower, Candidate{term} or Leader{term}. */
  get consensus_state(): ConsensusState {
    return this.election.state;
  }
  get term(): number {
    return this.election.term;
  }
  get votedFor(): string | null {
    return this.election.votedFor;
  }
  /** The aggregator this member last followed, or itself while it leads (null: none). */
  get leader(): string | null {
    return this.election.leader;
  }
  /** (term, round) of the last aggregate applied here; the aggregator's own round counter when leading. */
  get lastAggregate(): AggregateStamp {
    return this.election.lastAggregate;
  }

  private jittered(from: number): number {
    return from + this.sync_interval_ms * (0.75 + 0.5 * this.rng.next());
  }

  /** Members of the category, this one included. */
  get members(): number {
    return this.peers.length + 1;
  }

  /** Sync is due: the (jittered) interval has passed or enough interactions accumulated. */
  syncDue(): boolean {
    return (
      this.clock.now() >= this.nextSyncAt ||
      this.learner.interactions - this.interactionsAtSync >= this.config.sync_after_interactions
    );
  }

  /** Remembers the last `REPLAY_WINDOW` peer deltas per origin (by a hash of their signed bytes). */
  private seenBefore(origin: string, hash: number): boolean {
    let ring = this.recentDeltas.get(origin);
    if (!ring) {
      ring = [];
      this.recentDeltas.set(origin, ring);
    }
    if (ring.includes(hash)) return true;
    ring.push(hash);
    if (ring.length > REPLAY_WINDOW) ring.shift();
    return false;
  }

  private refuse(code: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }

  private sendControl(to: string, type: ControlType, value: number, term: number): void {
    const msg = encodeControl({ type, from: this.id, to, term, value }, this.identity);
    this.network.send(this.id, to, envelope(ENVELOPE.control, msg));
  }

  /**
   * Peer-to-peer, the member's own table is anchored at `weight_cap` (it holds everything the member has
   * learned and adopted; one peer's report must not replace it). As aggregator, its table is the consensus
   * and weighs only its own fresh visits since the previous sync, capped like any member's: the evaluated
   * aggregator (`elex simulate federation`) exactly.
   */
  private weighting(anchor: number | ReadonlyMap<number, number>): Weighting {
    return this.config.rule === 'visit-weighted'
      ? { kind: 'claimed' }
      : { kind: 'fresh', cap: this.config.weight_cap, anchor };
  }

  /**
   * The aggregator's TD-reachability check (`tdReachable`): every member delta's values with fresh visits
   * must be reachable by those visits of Q-learning, with targets inside the consensus's range, from a value
   * the entry was published with in the last TD_WINDOW aggregates (docs/federation.md, "Reachability window").
   * A delta with any unreachable value is refused whole (`E_UNREACHABLE`): it is poison, or it was learned
   * from a consensus this member does not hold (it was cut off, or merged peer-to-peer meanwhile). The
   * consensus of the unreachable entries (0 where the aggregator has none) goes back to that member in its
   * next aggregate, so its next deltas are reachable; before, an entry only it had learned was refused for ever.
   */
  private reachable(deltas: readonly Delta[]): Delta[] {
    if (this.config.rule === 'visit-weighted') return [...deltas];
    // A window not yet full: check against the table with one step of slack (`ReachabilityWindow.full`).
    const windowed = this.window.full;
    const t = this.local_qtable;
    let vMin = 0;
    let vMax = 0;
    for (let e = 0; e < t.size; e++) {
      if (t.q[e] < vMin) vMin = t.q[e];
      if (t.q[e] > vMax) vMax = t.q[e];
    }
    const { alpha, gamma } = this.learner.config;
    const { tMin, tMax } = tdTargetRange(vMin, vMax, REWARD_MIN, REWARD_MAX, gamma, alpha);
    return deltas.filter((d) => {
      const back: Array<[number, number, number]> = [];
      for (let i = 0; i < d.count; i++) {
        const e = t.find(d.hi[i], d.lo[i], d.action[i]);
        const fresh = Math.min(d.fresh[i], d.interactions);
        // No fresh visits: no weight under a robust rule (a repeat of a report not yet acknowledged).
        if (fresh === 0) continue;
        const from = (g: number, steps: number) => tdReachable(g, d.q[i], steps, alpha, tMin, tMax, 1e-4);
        let ok: boolean;
        if (e < 0) ok = from(0, windowed ? fresh : fresh + 1);
        else if (!windowed) ok = from(t.q[e], fresh + 1);
        else ok = this.window.anyBase(e, t.q[e], (g) => from(g, fresh));
        if (!ok) back.push([d.hi[i], d.lo[i], d.action[i]]);
      }
      if (back.length === 0) return true;
      this.refuse('E_UNREACHABLE');
      this.resend.set(d.origin, back);
      return false;
    });
  }

  /**
   * The published values of the entries `deltas` report, before the merge changes them. Entries new to the
   * table are inserted here (q 0, never written: what members start from), in the order the merge would
   * insert them, so one pass covers both.
   */
  private notePublishedOf(deltas: readonly Delta[]): void {
    const t = this.local_qtable;
    for (const d of deltas) {
      for (let i = 0; i < d.count; i++) {
        const e = t.slot(d.hi[i], d.lo[i], d.action[i]);
        this.window.notePublished(e, t.q[e]);
      }
    }
  }

  private merge(
    deltas: Delta[],
    relay = false,
    anchor: number | ReadonlyMap<number, number> = this.config.weight_cap,
  ): number {
    if (deltas.length === 0) return 0;
    const onKept = relay
      ? (e: number, r: number, w: number) => {
          let m = this.relay.get(e);
          if (!m) {
            m = new Map();
            this.relay.set(e, m);
          }
          const o = deltas[r].origin;
          m.set(o, (m.get(o) ?? 0) + w);
        }
      : undefined;
    const learning = this.learner.config;
    const res = mergeDeltasIntoTable(
      this.local_qtable,
      deltas,
      {
        rule: ruleByName(this.config.rule),
        params: {
          beta: this.config.byzantine_threshold,
          f: Math.floor(this.config.byzantine_threshold * (deltas.length + 1)),
          clipRadius: learning.alpha * (this.learner.bounds.max - this.learner.bounds.min) * 0.05,
          bounds: this.learner.bounds,
        },
        weighting: this.weighting(anchor),
        tolerance: this.config.conflict_tolerance,
        trust: this.trust,
        onKept,
        restateUndecided: !relay,
      },
      this.ws,
    );
    return res.conflicts;
  }

  /** An aggregate's entries, adopted once the election admits it (fenced, certified, newer). */
  private applyAggregate(d: Delta): void {
    this.election.admitAggregate(d.origin, d.term, d.round, this.clock.now());
    const t = this.local_qtable;
    for (let i = 0; i < d.count; i++) {
      const e = t.slot(d.hi[i], d.lo[i], d.action[i]);
      // Own learning since the last sync is moved onto the adopted value, not overwritten by it.
      this.learner.adopt(e, d.q[i], Math.max(t.visits[e], d.visits[i]));
    }
    // Adopted values are the aggregator's; do not echo them back as this member's changes. Own learning since
    // the last sync is not yet reported: stamped again, it goes out with the next delta (it used to be counted
    // as acknowledged with the aggregate, and a member's learning reached no one whenever an aggregate came
    // between two of its syncs).
    this.acked.set(d.origin, t.clock);
    for (const e of this.learner.peekOwnVisits().keys()) t.write(e, t.q[e], t.visits[e]);
  }

  /** A delta to a peer (as member): this member's changes since `to` last acknowledged, or their oldest part. */
  private sendDelta(to: string, fresh: ReadonlyMap<number, number>, interactions: number): number {
    let counts = fresh;
    let covered = interactions;
    if (this.relay.size > 0) {
      const budget = this.config.max_interactions_per_delta - interactions;
      const r = relayedCounts(this.relay, fresh, to, this.config.weight_cap, budget);
      counts = r.counts;
      covered += r.extra;
    }
    // Entries with fresh (own or relayed) visits go in any part: they are the newest, and the visits go out
    // once, with this sync's deltas (a later part restates the entry with the fresh visits of its own sync).
    const { d, cut } = this.outgoing(
      'peer',
      this.acked.get(to) ?? 0,
      counts,
      (e) => (counts.get(e) ?? 0) > 0,
    );
    if (d.count === 0) return 0;
    // The round is what the recipient acknowledges: the whole table's clock, or the part's cut.
    return this.send(to, d, cut, covered);
  }

  private send(to: string, d: Delta, round: number, interactions: number): number {
    const out: Delta = { ...d, to, term: this.term, round, interactions };
    this.network.send(this.id, to, envelope(ENVELOPE.delta, encodeDelta(out, this.identity)));
    return out.count;
  }

  /** Bytes `d` may take at most when it fits one delta this member may send, else null. */
  private fits(d: Delta): number | null {
    const { entries, bytes } = this.deltaLimits;
    if (d.count > entries) return null;
    const quick = encodedDeltaBytesBound(d);
    if (quick <= bytes) return quick;
    const exact = encodedDeltaBytesBound(d, true);
    return exact <= bytes ? exact : null;
  }

  /**
   * What goes out of the changes after version `since`: all of them when they fit one delta (`cut` is the
   * clock), else one part of them (`boundedPart`; `cut`: every change up to it is in the part). `inPart` tells
   * the entries it holds, `room` what the limits leave.
   */
  private outgoing(
    kind: 'peer' | 'aggregate',
    since: number,
    counts: ReadonlyMap<number, number>,
    urgent: (e: number) => boolean,
  ): { d: Delta; cut: number; inPart: (e: number) => boolean; room: { entries: number; bytes: number } } {
    const t = this.local_qtable;
    const limits = this.deltaLimits;
    const all = deltaSince(t, since, counts, { origin: this.id, kind });
    const bytes = this.fits(all);
    if (bytes !== null) {
      return {
        d: all,
        cut: t.clock,
        inPart: (e) => t.version[e] > since,
        room: { entries: limits.entries - all.count, bytes: limits.bytes - bytes },
      };
    }
    const part = boundedPart(t, since, counts, urgent, limits);
    const n = part.entries.length;
    const d = emptyDelta(kind, this.id, n);
    for (let i = 0; i < n; i++) putEntry(d, i, t, part.entries[i], counts);
    return {
      d,
      cut: part.cut,
      inPart: (e) => part.mark[e] === 1,
      room: { entries: limits.entries - n, bytes: limits.bytes - part.bytes },
    };
  }

  /**
   * `d` plus the consensus of the entries `to` sent unreachable (only to it: no amplification to others), those
   * not already in `d` (`inPart`) and as many as `room` leaves.
   */
  private withResend(
    d: Delta,
    to: string,
    inPart: (e: number) => boolean,
    room: { entries: number; bytes: number },
  ): Delta {
    const back = this.resend.get(to);
    if (!back) return d;
    const t = this.local_qtable;
    const out = emptyDelta(d.kind, d.origin, d.count + Math.min(back.length, Math.max(0, room.entries)));
    let n = 0;
    let bytes = 0;
    const put = (hi: number, lo: number, action: number, q: number, visits: number) => {
      out.hi[n] = hi;
      out.lo[n] = lo;
      out.action[n] = action;
      out.q[n] = q;
      out.visits[n] = visits;
      n++;
    };
    for (let i = 0; i < d.count; i++) put(d.hi[i], d.lo[i], d.action[i], d.q[i], d.visits[i]);
    for (const [hi, lo, action] of back) {
      const e = t.find(hi, lo, action);
      if (e >= 0 && inPart(e)) continue;
      const visits = e < 0 ? 0 : t.visits[e];
      const cost = DELTA_STATE_BYTES + deltaEntryBytes(visits, 0);
      if (n - d.count >= room.entries || bytes + cost > room.bytes) break;
      put(hi, lo, action, e < 0 ? 0 : t.q[e], visits);
      bytes += cost;
    }
    return {
      ...out,
      count: n,
      hi: out.hi.subarray(0, n),
      lo: out.lo.subarray(0, n),
      action: out.action.subarray(0, n),
      q: out.q.subarray(0, n),
      visits: out.visits.subarray(0, n),
      fresh: out.fresh.subarray(0, n),
    };
  }

  /**
   * One synchronisation step: take in what arrived, merge peer-to-peer deltas, then act by role. An aggregator
   * runs a round once enough members contributed and sends a heartbeat; a follower of a live aggregator sends
   * it its delta; a member without one gossips its delta to `gossip_fanout` peers and may campaign.
   */
  async sync(): Promise<SyncResult> {
    const t0 = this.clock.now();
    const result: SyncResult = {
      updates_sent: 0,
      updates_received: 0,
      conflicts_resolved: 0,
      sync_time_ms: 0,
      refused: 0,
    };
    const peerDeltas = this.receive(result);
    const now = this.clock.now();
    if (this.election.isLeader) {
      // Its own learning since the last aggregate moved these entries away from what it published.
      for (const e of this.learner.peekOwnVisits().keys())
        this.window.notePublished(e, this.learner.ownBaseOf(e) ?? this.local_qtable.q[e]);
    }
    const fresh = this.learner.takeOwnVisits();
    const interactions = this.learner.interactions - this.interactionsAtSync;
    this.interactionsAtSync = this.learner.interactions;
    // Peer-to-peer merges (no aggregator, or members that have not heard of it yet).
    result.conflicts_resolved += this.merge(oneRowPerOrigin(peerDeltas), true);

    const live = this.election.liveLeader(now);
    if (this.election.isLeader) this.lead(now, fresh, interactions, result);
    else if (live !== null) result.updates_sent += this.sendDelta(live, fresh, interactions);
    else {
      this.election.forgetLeader();
      const targets = [...this.peers];
      for (let i = targets.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1);
        [targets[i], targets[j]] = [targets[j], targets[i]];
      }
      for (const p of targets.slice(0, this.config.gossip_fanout)) {
        result.updates_sent += this.sendDelta(p, fresh, interactions);
      }
      this.election.tick(now);
    }
    // Relayed weight goes out once, with this sync's deltas (like own visits).
    this.relay.clear();
    this.lastSyncAt = now;
    this.nextSyncAt = this.jittered(now);
    result.sync_time_ms = this.clock.now() - t0;
    return result;
  }

  /**
   * Drains the network: applies aggregates, certificates and control messages, queues peer deltas for the
   * aggregator's round (as aggregator) and returns those to merge peer-to-peer. Anything refused is counted
   * by its typed code and changes nothing.
   */
  private receive(result: SyncResult): Delta[] {
    const peerDeltas: Delta[] = [];
    for (const msg of this.network.drain(this.id)) {
      try {
        if (msg.length < 1) throw new ElexError('E_DECODE', 'empty message');
        const body = msg.subarray(1);
        if (msg[0] === ENVELOPE.delta) {
          const d = this.decodeDeltaFrom(body);
          result.updates_received += d.count;
          if (d.kind === 'aggregate') this.applyAggregate(d);
          else this.onPeerDelta(d, peerDeltas);
        } else if (msg[0] === ENVELOPE.control) {
          const c = decodeControl(body, this.keyring);
          // A replay of this member's own message: its own vote request used to earn it a signed self vote,
          // which made its certificate invalid at every member.
          if (c.from === this.id) throw new ElexError('E_DECODE', 'a control message from myself');
          if (c.type === 'ack') this.onAck(c);
          else this.election.step(c, body, this.clock.now());
        } else if (msg[0] === ENVELOPE.certificate) {
          this.election.onCertificate(body);
        } else {
          throw new ElexError('E_DECODE', `unknown envelope ${msg[0]}`);
        }
      } catch (e) {
        if (!isElexError(e)) throw e;
        result.refused++;
        this.refuse(e.code);
      }
    }
    return peerDeltas;
  }

  /** A delta's bytes, decoded and checked: signed by a member, addressed here, plausible, not a replay. */
  private decodeDeltaFrom(body: Uint8Array): Delta {
    const d = decodeDelta(body, this.keyring, { actions: this.learner.config.actions });
    if (d.origin === this.id) throw new ElexError('E_DECODE', 'a delta from myself');
    if (!this.election.memberIds.has(d.origin))
      throw new ElexError('E_MEMBER', `delta from non-member '${d.origin}'`);
    // Signed for another member: forwarded to this one, its samples would count twice in the category.
    if (d.to !== undefined && d.to !== this.id)
      throw new ElexError('E_NOT_ADDRESSED', `delta from '${d.origin}' is for '${d.to}'`);
    const v = checkDelta(d, {
      bounds: this.learner.bounds,
      maxInteractions: this.config.max_interactions_per_delta,
    });
    if (!v.ok) throw new ElexError(v.code, v.reason);
    // The same signed delta twice (a replay, or a resend after a lost ack) would count its samples twice.
    if (d.kind === 'peer' && this.seenBefore(d.origin, fnv1a(body)))
      throw new ElexError('E_REPLAY', `delta from '${d.origin}' already received`);
    return d;
  }

  /** A member's delta: queued for the aggregator's round here, or merged peer-to-peer without an aggregator. */
  private onPeerDelta(d: Delta, peerDeltas: Delta[]): void {
    // A follower of a live aggregator merges no peer deltas: only the aggregator does, and a delta its origin
    // sent there could otherwise be forwarded here and counted twice in the category.
    if (!this.election.isLeader && this.election.liveLeader(this.clock.now()) !== null)
      throw new ElexError('E_FOLLOWING', `peer delta from '${d.origin}' while following an aggregator`);
    // A peer delta's term is only its sender's claim: terms change through votes and aggregates, so a member
    // cannot depose an aggregator by writing a higher term into a delta.
    this.sendControl(d.origin, 'ack', d.round, this.election.term);
    if (!this.election.isLeader) {
      peerDeltas.push(d);
      return;
    }
    this.election.heardFrom(d.origin, d.round, this.clock.now());
    // Bounded backlog while a round waits for contributors: 4 deltas per member, its oldest go first (a shared
    // bound let one member's flood evict everyone else's deltas, and the round never came).
    let own = 0;
    for (const p of this.pending_updates) if (p.origin === d.origin) own++;
    if (own >= 4) {
      this.pending_updates.splice(
        this.pending_updates.findIndex((p) => p.origin === d.origin),
        1,
      );
      this.refuse('E_BACKLOG');
    }
    this.pending_updates.push(d);
  }

  /**
   * As aggregator: a round once `min_peers_for_consensus` members (itself included) contributed, each admitted
   * delta checked for reachability; then a signed heartbeat, and CheckQuorum.
   */
  private lead(
    now: number,
    fresh: ReadonlyMap<number, number>,
    interactions: number,
    result: SyncResult,
  ): void {
    const contributors = new Set(this.pending_updates.map((d) => d.origin));
    if (contributors.size + 1 >= this.config.min_peers_for_consensus) {
      const reachable = this.reachable(this.pending_updates);
      result.refused += this.pending_updates.length - reachable.length;
      const admitted = oneRowPerOrigin(reachable);
      this.notePublishedOf(admitted);
      result.conflicts_resolved += this.merge(admitted, false, fresh);
      this.pending_updates = [];
      this.election.nextRound();
      // What changed since the last aggregate goes in any part; the rest of a term's first aggregate, or of a
      // round too large for one delta, follows oldest first in the next rounds' aggregates.
      const t = this.local_qtable;
      const since = this.newsSince;
      const { d, cut, inPart, room } = this.outgoing(
        'aggregate',
        this.broadcastVersion,
        fresh,
        (e) => t.version[e] > since,
      );
      for (const p of this.peers) {
        // The certificate first: members adopt aggregates only from a member elected for their term.
        this.election.sendCertificate(p);
        const out = this.withResend(d, p, inPart, room);
        if (out.count > 0) result.updates_sent += this.send(p, out, this.lastAggregate.round, interactions);
      }
      this.broadcastVersion = cut;
      this.newsSince = t.clock;
      this.resend.clear();
      this.window.published();
    } else {
      // No round yet: repeat the certificate, so a returning older leader learns it was deposed (it may be
      // the contributor this round waits for).
      this.election.broadcastCertificate();
    }
    this.election.heartbeat(now);
  }

  private onAck(c: Control): void {
    // Only an ack addressed here: one relayed from another member (value: that member's version) made this
    // member skip everything up to that version in its deltas to the ack's sender.
    if (c.to !== this.id) return;
    this.acked.set(c.from, Math.max(this.acked.get(c.from) ?? 0, c.value));
  }
}

/**
 * One part of the changes of `t` after version `since` when they do not fit one delta (`limits`): first the
 * `urgent` changed entries, oldest version first, as long as they take at most half of the limits; then the
 * other changed entries, oldest version first, up to the limits. Every changed entry with a version up to
 * `cut` is in the part, so an ack of `cut` acknowledges only what it carried, and each part moves `cut` on by
 * at least one entry. Urgent entries past `cut` go out again in a later part. `entries` in table order,
 * `mark` 1 for them, `bytes` an upper bound of the encoded part.
 */
function boundedPart(
  t: QTable,
  since: number,
  counts: ReadonlyMap<number, number>,
  urgent: (e: number) => boolean,
  limits: { entries: number; bytes: number },
): { entries: Int32Array; cut: number; mark: Uint8Array; bytes: number } {
  let changed = 0;
  for (let e = 0; e < t.size; e++) if (t.version[e] > since) changed++;
  const byVersion = new Int32Array(changed);
  changed = 0;
  for (let e = 0; e < t.size; e++) if (t.version[e] > since) byVersion[changed++] = e;
  byVersion.sort((a, b) => t.version[a] - t.version[b]);
  const mark = new Uint8Array(t.size);
  // Distinct states in the part (as keys (hi, lo, 0)): each costs its group header once.
  const states = new QTable(Math.min(changed, limits.entries));
  const budget = limits.bytes - DELTA_FRAME_BYTES;
  let n = 0;
  let bytes = 0;
  const take = (e: number, maxEntries: number, maxBytes: number): boolean => {
    const isNew = states.find(t.hi[e], t.lo[e], 0) < 0;
    const cost = deltaEntryBytes(t.visits[e], counts.get(e) ?? 0) + (isNew ? DELTA_STATE_BYTES : 0);
    if (n + 1 > maxEntries || bytes + cost > maxBytes) return false;
    if (isNew) states.slot(t.hi[e], t.lo[e], 0);
    mark[e] = 1;
    n++;
    bytes += cost;
    return true;
  };
  const halfEntries = Math.floor(limits.entries / 2);
  const halfBytes = Math.floor(budget / 2);
  for (const e of byVersion) if (urgent(e) && !take(e, halfEntries, halfBytes)) break;
  let cut = since;
  for (const e of byVersion) {
    if (mark[e] === 0 && !take(e, limits.entries, budget)) break;
    cut = t.version[e];
  }
  const entries = new Int32Array(n);
  let i = 0;
  for (const e of byVersion) if (mark[e] === 1) entries[i++] = e;
  entries.sort();
  return { entries, cut, mark, bytes: DELTA_FRAME_BYTES + bytes };
}

/**
 * One report row per member: its several deltas of one round (it synced more often than the aggregator, or
 * floods) become one, each entry at the value of its newest delta holding it (highest round, then arrival)
 * with the fresh visits of all of them, so the weight cap holds per member and entry. As separate rows, one
 * Byzantine member's four backlogged deltas weighed four capped reports on an entry, out-voted the honest
 * members under the trimmed mean and were most of the reporters whose median reporter trust scores against.
 */
function oneRowPerOrigin(deltas: readonly Delta[]): Delta[] {
  const groups = new Map<string, Delta[]>();
  for (const d of deltas) {
    const g = groups.get(d.origin);
    if (g) g.push(d);
    else groups.set(d.origin, [d]);
  }
  if (groups.size === deltas.length) return [...deltas];
  const out: Delta[] = [];
  for (const group of groups.values()) {
    if (group.length === 1) {
      out.push(group[0]);
      continue;
    }
    // Oldest first (stable sort: arrival order among equal rounds), so newer values overwrite older ones.
    const g = [...group].sort((x, y) => x.round - y.round);
    let total = 0;
    for (const d of g) total += d.count;
    const c = emptyDelta(g[0].kind, g[0].origin, total);
    // Rows of `c` are the entries of `keys`, in first-seen order.
    const keys = new QTable(total);
    let n = 0;
    let interactions = 0;
    for (const d of g) {
      for (let i = 0; i < d.count; i++) {
        const j = keys.slot(d.hi[i], d.lo[i], d.action[i]);
        if (j === n) {
          c.hi[j] = d.hi[i];
          c.lo[j] = d.lo[i];
          c.action[j] = d.action[i];
          n++;
        }
        c.q[j] = d.q[i];
        c.visits[j] = d.visits[i];
        c.fresh[j] = Math.min(U32_MAX, c.fresh[j] + d.fresh[i]);
      }
      interactions += d.interactions;
    }
    const last = g[g.length - 1];
    out.push({
      ...c,
      to: last.to,
      term: last.term,
      round: last.round,
      interactions,
      count: n,
      hi: c.hi.subarray(0, n),
      lo: c.lo.subarray(0, n),
      action: c.action.subarray(0, n),
      q: c.q.subarray(0, n),
      visits: c.visits.subarray(0, n),
      fresh: c.fresh.subarray(0, n),
    });
  }
  return out;
}

/** ADR-115's `create_federated_qtable`. */
export async function createFederatedQTable(config: FederationConfig = {}): Promise<FederatedQTable> {
  return new FederatedQTable(config);
}

/** ADR-115's `federated_sync`: one synchronisation step of `fqt`. */
export async function federatedSync(fqt: FederatedQTable): Promise<SyncResult> {
  return fqt.sync();
}
