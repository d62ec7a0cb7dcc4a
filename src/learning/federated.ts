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
import { electionQuorum, encodeCertificate, verifyCertificate } from './certificate.js';
import { type Control, type ControlType, decodeControl, encodeControl, MAX_TERM } from './control.js';
import { type Delta, decodeDelta, emptyDelta, encodeDelta, MAX_DELTA_ENTRIES } from './delta-codec.js';
import { type LearningConfig, QLearner } from './engine.js';
import { ENVELOPE, envelope } from './envelope.js';
import { type Identity, identityFromRng, type Keyring, MapKeyring } from './identity.js';
import { DEFAULT_RULE, type RuleName, ruleByName } from './merge/index.js';
import { type FederationNetwork, InMemoryNetwork } from './network.js';
import { QTable } from './q-table.js';
import { ReachabilityWindow } from './reachability-window.js';
import { REWARD_MAX, REWARD_MIN } from './reward.js';
import { deltaSince, MergeWorkspace, mergeDeltasIntoTable, type Weighting } from './table-merge.js';
import { ReporterTrust } from './trust.js';
import { checkDelta, tdReachable, tdTargetRange } from './validate.js';

export type ConsensusState =
  | { kind: 'Follower' }
  | { kind: 'Candidate'; term: number }
  | { kind: 'Leader'; term: number };

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
}

/** What a member must keep across restarts (Raft's hard state, for the aggregator election). */
export interface VoteState {
  term: number;
  voted_for: string | null;
}

export interface SyncResult {
  updates_sent: number;
  updates_received: number;
  conflicts_resolved: number;
  sync_time_ms: number;
  refused: number;
}

/**
 * How far above the terms it knows a member lets an election message move it (see `onControl`). Honest churn
 * under a tight quorum moved terms by ~60 in 100 s while a member was away (simulator, 7 members, 3 % loss), so
 * the bound is loose: it makes exhausting MAX_TERM take millions of messages instead of one.
 */
const MAX_TERM_STEP = 1024;
/** Peer deltas remembered per origin to refuse replays (Ed25519 signatures are deterministic: same bytes). */
const REPLAY_WINDOW = 256;
function sameBytes(a: Uint8Array, b: Uint8Array | null): boolean {
  if (b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class FederatedQTable {
  readonly id: string;
  readonly local_qtable: QTable;
  readonly learner: QLearner;
  readonly peers: readonly string[];
  /** This member and its peers: the only ids whose (pre-)votes and certificates count here. */
  private readonly memberIds: ReadonlySet<string>;
  consensus_state: ConsensusState = { kind: 'Follower' };
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
  term = 0;
  votedFor: string | null = null;
  leader: string | null = null;
  /** (term, round) of the last aggregate applied here; the aggregator's own round counter when leading. */
  lastAggregate = { term: 0, round: 0 };
  readonly refusals = new Map<string, number>();

  private readonly network: FederationNetwork;
  private readonly keyring: Keyring;
  private readonly identity: Identity;
  private readonly onVoteState: ((s: VoteState) => void) | undefined;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly acked = new Map<string, number>();
  private votes = new Set<string>();
  /** Signed votes granted to this member in its current candidacy (the certificate if it wins). */
  private voteProofs = new Map<string, Uint8Array>();
  /** This member's election certificate while it leads; sent ahead of its aggregates. */
  private certificate: Uint8Array | null = null;
  private lastCertificate: Uint8Array | null = null;
  private readonly recentDeltas = new Map<string, number[]>();
  /** Who a verified certificate elected, per term (the few latest terms). */
  private readonly certified = new Map<number, string>();
  /** Highest term this member knows an aggregator was certified for (a verified certificate, or its own). */
  private certifiedTerm = 0;
  /** Pre-votes for `term + 1` while this member asks whether it could win (null: not asking). */
  private preVotes: Set<string> | null = null;
  private interactionsAtSync = 0;
  private lastSyncAt: number;
  private nextSyncAt: number;
  private leaderSeenAt = 0;
  /** As aggregator: heartbeats sent this term (their sequence) and when each member was last heard from. */
  private heartbeatSeq = 0;
  private leaderSince = 0;
  private readonly heardAt = new Map<string, number>();
  /** As aggregator: when each recent heartbeat went out, and the newest delta round counted per member. */
  private readonly heartbeatSentAt = new Map<number, number>();
  private readonly heardRound = new Map<string, number>();
  /** As member: the newest heartbeat (term, sequence) seen (a replay must not count). */
  private lastHeartbeat = { term: 0, seq: 0 };
  /** As member: the certified aggregator whose heartbeats it hears before adopting any of its aggregates. */
  private heartbeatLeader: string | null = null;
  private heartbeatSeenAt = 0;
  private electionAt: number;
  private broadcastVersion = 0;
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
    this.id = config.id ?? 'agent-0';
    this.peers = (config.peers ?? []).filter((p) => p !== this.id);
    this.memberIds = new Set([this.id, ...this.peers]);
    if (config.vote_state) {
      const v = config.vote_state;
      if (!(Number.isSafeInteger(v.term) && v.term >= 0 && v.term <= MAX_TERM))
        throw new ElexError('E_CONFIG', `vote_state.term ${v.term} is not a term`);
      this.term = v.term;
      this.votedFor = v.voted_for;
    }
    this.onVoteState = config.on_vote_state;
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
    this.local_qtable = new QTable();
    this.learner = new QLearner(this.local_qtable, this.rng.fork('learner'), config.learning);
    this.trust = new ReporterTrust({
      alpha: this.learner.config.alpha,
      minScale: 0.1 * (REWARD_MAX - REWARD_MIN),
    });
    this.lastSyncAt = this.clock.now();
    this.nextSyncAt = this.jittered(this.lastSyncAt);
    this.electionAt = this.lastSyncAt + this.electionTimeout();
  }

  private jittered(from: number): number {
    return from + this.sync_interval_ms * (0.75 + 0.5 * this.rng.next());
  }

  private electionTimeout(): number {
    return this.sync_interval_ms * (2 + 2 * this.rng.next());
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

  private sendControl(to: string, type: ControlType, value: number, term = this.term): void {
    const msg = encodeControl({ type, from: this.id, to, term, value }, this.identity);
    this.network.send(this.id, to, envelope(ENVELOPE.control, msg));
  }

  private setVoteState(term: number, votedFor: string | null): void {
    if (term === this.term && votedFor === this.votedFor) return;
    this.term = term;
    this.votedFor = votedFor;
    this.onVoteState?.({ term, voted_for: votedFor });
  }

  private stepDown(term: number): void {
    if (term > this.term) {
      this.setVoteState(term, null);
      this.leader = null;
      // A pre-vote campaign asked for the old term + 1; its pre-votes must not count towards a later one.
      this.preVotes = null;
    }
    this.consensus_state = { kind: 'Follower' };
    this.certificate = null;
    // Deltas sent to this member as aggregator: a follower must not merge them into a later round of its own.
    this.pending_updates = [];
    this.window.clear();
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

  private applyAggregate(d: Delta): boolean {
    // Fenced by the newest *certified* term, not by this member's own term: a vote request (a Byzantine one,
    // or a failed candidacy) raises the own term, and fencing by it stranded the member off the live aggregator.
    if (d.term < this.certifiedTerm) {
      this.refuse('E_FENCED');
      return false;
    }
    if (d.term === this.lastAggregate.term && d.round <= this.lastAggregate.round) {
      this.refuse('E_STALE');
      return false;
    }
    if (this.certified.get(d.term) !== d.origin) {
      this.refuse('E_UNCERTIFIED');
      return false;
    }
    this.stepDown(d.term);
    this.leader = d.origin;
    this.leaderSeenAt = this.clock.now();
    this.lastAggregate = { term: d.term, round: d.round };
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
    return true;
  }

  private sendDelta(
    to: string,
    kind: 'peer' | 'aggregate',
    fresh: ReadonlyMap<number, number>,
    interactions: number,
  ): number {
    const since = kind === 'aggregate' ? this.broadcastVersion : (this.acked.get(to) ?? 0);
    let counts = fresh;
    let covered = interactions;
    if (kind === 'peer' && this.relay.size > 0) {
      // Own visits plus the weight relayed from origins other than `to` (no echo of its own samples), at
      // most `weight_cap` per entry (what a receiver counts) and within the plausible interactions.
      const merged = new Map(fresh);
      const budget = Math.max(0, this.config.max_interactions_per_delta - interactions);
      let total = 0;
      const parts: Array<[number, number]> = [];
      for (const [e, byOrigin] of this.relay) {
        let w = 0;
        for (const [o, x] of byOrigin) if (o !== to) w += x;
        const own = fresh.get(e) ?? 0;
        const add = Math.min(Math.round(w), Math.max(0, this.config.weight_cap - own));
        if (add > 0) {
          parts.push([e, add]);
          total += add;
        }
      }
      const scale = total > budget ? budget / total : 1;
      for (const [e, add] of parts) {
        const x = Math.floor(add * scale);
        if (x > 0) {
          merged.set(e, (merged.get(e) ?? 0) + x);
          covered += x;
        }
      }
      counts = merged;
    }
    let d = deltaSince(this.local_qtable, since, counts, { origin: this.id, kind });
    if (kind === 'aggregate') d = this.withResend(d, to);
    if (d.count === 0) return 0;
    d.to = to;
    d.term = this.term;
    d.round = kind === 'aggregate' ? this.lastAggregate.round : this.local_qtable.clock;
    d.interactions = covered;
    this.network.send(this.id, to, envelope(ENVELOPE.delta, encodeDelta(d, this.identity)));
    return d.count;
  }

  /** `d` plus the consensus of the entries `to` sent unreachable (only to it: no amplification to others). */
  private withResend(d: Delta, to: string): Delta {
    const back = this.resend.get(to);
    if (!back) return d;
    const t = this.local_qtable;
    const out = emptyDelta(d.kind, d.origin, d.count + back.length);
    let n = 0;
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
      if (n >= MAX_DELTA_ENTRIES) break;
      const e = t.find(hi, lo, action);
      if (e < 0) put(hi, lo, action, 0, 0);
      else if (t.version[e] <= this.broadcastVersion) put(hi, lo, action, t.q[e], t.visits[e]);
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
    if (this.consensus_state.kind === 'Leader') {
      // Its own learning since the last aggregate moved these entries away from what it published.
      for (const e of this.learner.peekOwnVisits().keys())
        this.window.notePublished(e, this.learner.ownBaseOf(e) ?? this.local_qtable.q[e]);
    }
    const fresh = this.learner.takeOwnVisits();
    const interactions = this.learner.interactions - this.interactionsAtSync;
    this.interactionsAtSync = this.learner.interactions;
    // Peer-to-peer merges (no aggregator, or members that have not heard of it yet).
    result.conflicts_resolved += this.merge(peerDeltas, true);

    const live = this.liveLeader(now);
    if (this.consensus_state.kind === 'Leader') this.lead(now, fresh, interactions, result);
    else if (live !== null) result.updates_sent += this.sendDelta(live, 'peer', fresh, interactions);
    else {
      this.leader = null;
      const targets = [...this.peers];
      for (let i = targets.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1);
        [targets[i], targets[j]] = [targets[j], targets[i]];
      }
      for (const p of targets.slice(0, this.config.gossip_fanout)) {
        result.updates_sent += this.sendDelta(p, 'peer', fresh, interactions);
      }
      this.maybeStartElection(now);
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
          if (d.kind === 'aggregate') {
            if (!this.applyAggregate(d)) result.refused++;
          } else this.onPeerDelta(d, peerDeltas);
        } else if (msg[0] === ENVELOPE.control) {
          const c = decodeControl(body, this.keyring);
          // A replay of this member's own message: its own vote request used to earn it a signed self vote,
          // which made its certificate invalid at every member.
          if (c.from === this.id) throw new ElexError('E_DECODE', 'a control message from myself');
          this.onControl(c, body);
        } else if (msg[0] === ENVELOPE.certificate) {
          this.onCertificate(body);
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
    if (!this.memberIds.has(d.origin)) throw new ElexError('E_MEMBER', `delta from non-member '${d.origin}'`);
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
    if (this.consensus_state.kind !== 'Leader' && this.liveLeader(this.clock.now()) !== null)
      throw new ElexError('E_FOLLOWING', `peer delta from '${d.origin}' while following an aggregator`);
    // A peer delta's term is only its sender's claim: terms change through votes and aggregates, so a member
    // cannot depose an aggregator by writing a higher term into a delta.
    this.sendControl(d.origin, 'ack', d.round);
    if (this.consensus_state.kind !== 'Leader') {
      peerDeltas.push(d);
      return;
    }
    // A sign of life only if newer than the last one counted: a replayed delta kept a gone member heard.
    if (d.round > (this.heardRound.get(d.origin) ?? -1)) {
      this.heardRound.set(d.origin, d.round);
      this.heardAt.set(d.origin, this.clock.now());
    }
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

  /** An election certificate: verified once per distinct one; it fences older aggregators and deposes them. */
  private onCertificate(body: Uint8Array): void {
    // The aggregator repeats its certificate with every aggregate: verify each distinct one once.
    if (sameBytes(body, this.lastCertificate)) return;
    const c = verifyCertificate(
      body,
      this.keyring,
      this.memberIds,
      electionQuorum(this.members, this.config.byzantine_threshold),
    );
    this.certified.set(c.term, c.leader);
    this.certifiedTerm = Math.max(this.certifiedTerm, c.term);
    for (const t of this.certified.keys()) if (t < c.term - 4) this.certified.delete(t);
    this.lastCertificate = body.slice();
    // A leader (or candidate) of an older term is deposed: without this it led on, refusing votes.
    if (c.term > this.term && this.consensus_state.kind !== 'Follower') this.stepDown(c.term);
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
      const admitted = this.reachable(this.pending_updates);
      result.refused += this.pending_updates.length - admitted.length;
      this.notePublishedOf(admitted);
      result.conflicts_resolved += this.merge(admitted, false, fresh);
      this.pending_updates = [];
      this.lastAggregate = { term: this.term, round: this.lastAggregate.round + 1 };
      for (const p of this.peers) {
        // The certificate first: members adopt aggregates only from a member elected for their term.
        if (this.certificate !== null)
          this.network.send(this.id, p, envelope(ENVELOPE.certificate, this.certificate));
        result.updates_sent += this.sendDelta(p, 'aggregate', fresh, interactions);
      }
      this.broadcastVersion = this.local_qtable.clock;
      this.resend.clear();
      this.window.published();
    } else if (this.certificate !== null) {
      // No round yet: repeat the certificate, so a returning older leader learns it was deposed (it may be
      // the contributor this round waits for).
      for (const p of this.peers)
        this.network.send(this.id, p, envelope(ENVELOPE.certificate, this.certificate));
    }
    // A signed heartbeat every sync: members with nothing to send keep following (instead of electing a new
    // aggregator every three intervals), and their acks tell this aggregator who it still reaches.
    this.heartbeatSeq++;
    this.heartbeatSentAt.set(this.heartbeatSeq, now);
    for (const [seq, at] of this.heartbeatSentAt) {
      if (now - at <= 3 * this.sync_interval_ms) break;
      this.heartbeatSentAt.delete(seq);
    }
    for (const p of this.peers) this.sendControl(p, 'heartbeat', this.heartbeatSeq);
    this.checkQuorum(now);
  }

  /**
   * etcd's CheckQuorum: an aggregator that has not heard from a quorum of members (deltas or heartbeat acks)
   * for three sync intervals steps down, so one cut off with a minority stops producing rounds there.
   */
  private checkQuorum(now: number): void {
    const window = 3 * this.sync_interval_ms;
    if (now - this.leaderSince <= window) return;
    let heard = 1;
    for (const p of this.peers) if (now - (this.heardAt.get(p) ?? -Infinity) <= window) heard++;
    if (!this.majority(heard)) {
      this.stepDown(this.term);
      this.leader = null;
    }
  }

  /** This member heard its aggregator (aggregates or heartbeats) within three sync intervals. */
  private followsLiveLeader(now: number): boolean {
    return this.liveLeader(now) !== null;
  }

  /**
   * The aggregator this member follows: the one certified for the newest term it knows if its heartbeats
   * arrived within three sync intervals, else the origin of its last aggregate if that arrived within them.
   */
  private liveLeader(now: number): string | null {
    const window = 3 * this.sync_interval_ms;
    const h = this.heartbeatLeader;
    if (h !== null && now - this.heartbeatSeenAt <= window && this.certified.get(this.certifiedTerm) === h)
      return h;
    if (this.leader !== null && this.leader !== this.id && now - this.leaderSeenAt <= window)
      return this.leader;
    return null;
  }

  /**
   * Raft's PreVote (§9.6 of Ongaro's thesis): before taking term + 1, ask whether a majority would grant it.
   * A member that is cut off therefore does not inflate its term while alone, and on its return it cannot
   * depose a live aggregator or fence that aggregator's rounds (aggregates of a lower term are refused).
   */
  private maybeStartElection(now: number): void {
    // At MAX_TERM (a Byzantine vote request can push a member there) term + 1 would be refused anyway.
    if (this.peers.length === 0 || now < this.electionAt || this.term >= MAX_TERM) return;
    this.electionAt = now + this.electionTimeout();
    this.preVotes = new Set([this.id]);
    for (const p of this.peers) this.sendControl(p, 'pre-vote-request', this.freshness(), this.term + 1);
  }

  private startElection(): void {
    this.preVotes = null;
    this.setVoteState(this.term + 1, this.id);
    this.consensus_state = { kind: 'Candidate', term: this.term };
    this.votes = new Set([this.id]);
    this.voteProofs = new Map();
    for (const p of this.peers) this.sendControl(p, 'vote-request', this.freshness());
  }

  /**
   * Raft's election restriction: (term, round) of the last aggregate applied, as one number (rounds saturate
   * at 2^21 - 1; MAX_TERM · 2^21 stays a safe integer). Members vote only for a candidate at least as fresh:
   * an elected aggregator's first aggregate is its whole table, adopted outright, so a member that missed
   * rounds would roll the consensus back.
   */
  private freshness(): number {
    return this.lastAggregate.term * 2 ** 21 + Math.min(this.lastAggregate.round, 2 ** 21 - 1);
  }

  /** Enough (pre-)votes to win: a Byzantine quorum (`electionQuorum`), so one term certifies one member. */
  private majority(n: number): boolean {
    return n >= electionQuorum(this.members, this.config.byzantine_threshold);
  }

  /**
   * Every control message goes through here, then to one handler per type (etcd's `Step`). Acks need only be
   * addressed here; everything else must come from a member of this category, and an election message may not
   * move terms further than `MAX_TERM_STEP` above those this member knows.
   */
  private onControl(c: Control, signed: Uint8Array): void {
    const now = this.clock.now();
    if (c.type === 'ack') {
      this.onAck(c);
      return;
    }
    // The keyring may hold other categories' keys: their election messages neither count nor get a vote here.
    if (!this.memberIds.has(c.from))
      throw new ElexError('E_MEMBER', `'${c.from}' is not a member of this category`);
    if (c.type === 'heartbeat-ack') {
      this.onHeartbeatAck(c, now);
      return;
    }
    if (c.type === 'heartbeat') {
      this.onHeartbeat(c, now);
      return;
    }
    // Leader stickiness (etcd's lease check): while this member follows a live aggregator, or is one, it
    // neither grants (pre-)votes nor lets a candidate's higher term depose that aggregator.
    const sticky = this.consensus_state.kind === 'Leader' || this.followsLiveLeader(now);
    // Terms move one election at a time: a vote message far above every term this member knows (its own, or a
    // certified one) is a Byzantine push towards MAX_TERM, after which nobody could campaign.
    if (c.term > Math.max(this.term, this.certifiedTerm) + MAX_TERM_STEP)
      throw new ElexError('E_TERM_JUMP', `term ${c.term} from '${c.from}' is far above ${this.term}`);
    switch (c.type) {
      case 'pre-vote-request':
        this.onPreVoteRequest(c, sticky);
        break;
      case 'pre-vote':
        this.onPreVote(c, sticky, now);
        break;
      case 'vote-request':
        this.onVoteRequest(c, sticky);
        break;
      case 'vote':
        this.onVote(c, signed, sticky, now);
        break;
    }
  }

  private onAck(c: Control): void {
    // Only an ack addressed here: one relayed from another member (value: that member's version) made this
    // member skip everything up to that version in its deltas to the ack's sender.
    if (c.to !== this.id) return;
    this.acked.set(c.from, Math.max(this.acked.get(c.from) ?? 0, c.value));
  }

  private onHeartbeatAck(c: Control, now: number): void {
    // Only an ack of a heartbeat sent within the CheckQuorum window: any old ack, replayed, counted.
    const sent = this.heartbeatSentAt.get(c.value);
    if (
      this.consensus_state.kind === 'Leader' &&
      c.term === this.term &&
      c.to === this.id &&
      sent !== undefined &&
      now - sent <= 3 * this.sync_interval_ms
    )
      this.heardAt.set(c.from, now);
  }

  private onHeartbeat(c: Control, now: number): void {
    // Only from the aggregator certified for the newest term this member knows, and newer than the last one
    // seen (a replayed heartbeat must not keep a gone aggregator alive).
    // Addressed to this member: relayed by another, it proves nothing about the aggregator reaching this one.
    if (c.to !== this.id || c.term !== this.certifiedTerm || this.certified.get(c.term) !== c.from) return;
    const last = this.lastHeartbeat;
    if (c.term === last.term && c.value <= last.seq) return;
    this.lastHeartbeat = { term: c.term, seq: c.value };
    if (this.leader === c.from) this.leaderSeenAt = now;
    // Followed before its first aggregate too: only a leader known from an aggregate counted, so after an
    // election in an idle category nobody followed the new aggregator and the others elected again and again.
    else {
      this.heartbeatLeader = c.from;
      this.heartbeatSeenAt = now;
    }
    this.sendControl(c.from, 'heartbeat-ack', c.value, c.term);
  }

  private onPreVoteRequest(c: Control, sticky: boolean): void {
    const grant = !sticky && c.term > this.term && c.value >= this.freshness();
    // A grant carries the asked term (the candidate counts grants for term + 1 only). A refusal carries the
    // refuser's own term, as etcd's: from a member at or past the asked term it lets the candidate catch up
    // (fresher members stuck below a failed candidacy's term otherwise never win); from one below it, it
    // moves nobody. Carrying the asked term there raised every refused candidate's term by one per pre-vote
    // round, terms ratcheted, and the one member fresh enough to win never caught up.
    this.sendControl(c.from, 'pre-vote', grant ? 1 : 0, grant ? c.term : this.term);
  }

  private onPreVote(c: Control, sticky: boolean, now: number): void {
    // A refusal at a term at or above the one this member asked for: take that term (not while following
    // a live aggregator, whose followers must not be moved by anyone's term), and ask again above it.
    if (this.preVotes !== null && c.value === 0 && c.to === this.id && c.term > this.term && !sticky) {
      this.stepDown(c.term);
      this.electionAt = now + this.electionTimeout();
      return;
    }
    // Only pre-votes naming this member (a relayed one for another candidate must not count).
    if (this.preVotes === null || c.term !== this.term + 1 || c.value !== 1 || c.to !== this.id) return;
    this.preVotes.add(c.from);
    if (this.majority(this.preVotes.size)) this.startElection();
  }

  private onVoteRequest(c: Control, sticky: boolean): void {
    if (sticky) {
      this.sendControl(c.from, 'vote', 0);
      return;
    }
    if (c.term > this.term) this.stepDown(c.term);
    const grant =
      c.term === this.term &&
      (this.votedFor === null || this.votedFor === c.from) &&
      c.value >= this.freshness();
    if (grant) this.setVoteState(this.term, c.from);
    this.sendControl(c.from, 'vote', grant ? 1 : 0);
  }

  private onVote(c: Control, signed: Uint8Array, sticky: boolean, now: number): void {
    // A sticky member has no candidacy to count votes for; a vote's higher term must not depose it either
    // (it would bypass the stickiness above: any member could sign a refused vote with term + 50).
    if (sticky) return;
    if (c.term > this.term) this.stepDown(c.term);
    if (
      this.consensus_state.kind !== 'Candidate' ||
      c.term !== this.term ||
      c.value !== 1 ||
      c.to !== this.id
    )
      return;
    this.votes.add(c.from);
    this.voteProofs.set(c.from, signed);
    if (this.majority(this.votes.size)) this.becomeLeader(now);
  }

  /** A quorum of signed votes: lead this term, with them as the certificate members check aggregates against. */
  private becomeLeader(now: number): void {
    this.consensus_state = { kind: 'Leader', term: this.term };
    this.certificate = this.majority(1) ? null : encodeCertificate([...this.voteProofs.values()]);
    this.leader = this.id;
    this.certifiedTerm = this.term;
    this.leaderSince = now;
    this.heartbeatSeq = 0;
    this.heardAt.clear();
    this.window.clear();
    this.heartbeatSentAt.clear();
    this.heardRound.clear();
    this.lastAggregate = { term: this.term, round: 0 };
    this.broadcastVersion = 0;
    // Members fence older aggregators by the newest certificate they know: tell them now, not at the first
    // aggregate (which waits for contributions).
    if (this.certificate !== null)
      for (const p of this.peers)
        this.network.send(this.id, p, envelope(ENVELOPE.certificate, this.certificate));
  }
}

/** ADR-115's `create_federated_qtable`. */
export async function createFederatedQTable(config: FederationConfig = {}): Promise<FederatedQTable> {
  return new FederatedQTable(config);
}

/** ADR-115's `federated_sync`: one synchronisation step of `fqt`. */
export async function federatedSync(fqt: FederatedQTable): Promise<SyncResult> {
  return fqt.sync();
}
