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
import { type Clock, ElexError, isElexError, ManualClock, type Rng, SeededRng } from '../core/index.js';
import {
  type AggregateStamp,
  AggregatorElection,
  type ConsensusState,
  checkVoteState,
} from './aggregator-election.js';
import { type Control, type ControlType, decodeControl, encodeControl } from './control.js';
import { type Delta, decodeDelta, emptyDelta, encodeDelta } from './delta-codec.js';
import { QLearner } from './engine.js';
import { ENVELOPE, envelope } from './envelope.js';
import {
  checkFederatedActions,
  checkKnownKeys,
  deltaLimitsOf,
  epochOf,
  type FederationConfig,
  type FederationSettings,
  settingsOf,
  syncIntervalOf,
} from './federation-config.js';
import { type Identity, identityFromRng, type Keyring, MapKeyring } from './identity.js';
import { memberMergeOptions, oneRowPerOrigin, withoutWeightlessNewEntries } from './merge-input.js';
import { type FederationNetwork, InMemoryNetwork } from './network.js';
import {
  type DeltaLimits,
  type EntryKey,
  outgoingDelta,
  sweepSlice,
  withResend,
  withSwept,
} from './outgoing-delta.js';
import { QTable } from './q-table.js';
import { reachabilityCheck } from './reachability-check.js';
import { ReachabilityWindow } from './reachability-window.js';
import { relayedCounts } from './relay.js';
import { ReplayGuard } from './replay-guard.js';
import { REWARD_MAX, REWARD_MIN } from './reward.js';
import { MergeWorkspace, mergeDeltasIntoTable } from './table-merge.js';
import { ReporterTrust } from './trust.js';
import { checkDelta } from './validate.js';

export type { ConsensusState, VoteState } from './aggregator-election.js';
export type { FederationConfig } from './federation-config.js';

export interface SyncResult {
  updates_sent: number;
  updates_received: number;
  conflicts_resolved: number;
  sync_time_ms: number;
  refused: number;
}

export class FederatedQTable {
  readonly id: string;
  readonly local_qtable: QTable;
  readonly learner: QLearner;
  readonly peers: readonly string[];
  /** Peer deltas waiting for the aggregator's next round. */
  pending_updates: Delta[] = [];
  readonly sync_interval_ms: number;
  readonly config: FederationSettings;
  /** Who aggregates this category: terms, votes, certificates, heartbeats (sans-IO, driven by `sync`). */
  readonly election: AggregatorElection;
  readonly refusals = new Map<string, number>();

  private readonly network: FederationNetwork;
  private readonly keyring: Keyring;
  private readonly identity: Identity;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly acked = new Map<string, number>();
  private readonly replays = new ReplayGuard();
  /** This member's life (`FederationConfig.epoch`): larger after each restart, stamped into its deltas. */
  readonly epoch: number;
  /** The seq of the last delta this member sent in this life. */
  private seq = 0;
  private interactionsAtSync = 0;
  private lastSyncAt: number;
  private nextSyncAt: number;
  /** As aggregator: every entry at a version up to this went out in an aggregate of this term. */
  private broadcastVersion = 0;
  /** As aggregator: the table's clock when it sent its last aggregate (later versions are new to members). */
  private newsSince = 0;
  /** The table's generation (`QTable.sinceNow`) that `acked`, `broadcastVersion` and `newsSince` are in. */
  private versionsOf = 0;
  /** Limits of the deltas this member sends (`max_delta_entries`, `max_delta_bytes`). */
  private readonly deltaLimits: DeltaLimits;
  private readonly ws = new MergeWorkspace();
  /**
   * Peer-to-peer relay: per entry, the weight a merge kept from each origin since this member last sent
   * deltas. Sent on as fresh visits (to everyone but that origin), so knowledge adopted from one peer
   * reaches the next hop with the samples behind it instead of with no weight.
   */
  private relay = new Map<number, Map<string, number>>();
  /** As aggregator: per member, the keys of its last refused (unreachable) delta, sent back in the aggregate. */
  private resend = new Map<string, EntryKey[]>();
  /** As aggregator: the table slot the next anti-entropy slice starts at. */
  private sweepFrom = 0;
  /** As aggregator: the values its entries were published with in its last TD_WINDOW aggregates. */
  private readonly window = new ReachabilityWindow();
  /** Reputation of the peers whose deltas this member merges (as aggregator or peer-to-peer). */
  readonly trust: ReporterTrust;

  constructor(config: FederationConfig = {}) {
    // Checked before anything else: a refused configuration must leave the caller's keyring untouched.
    checkKnownKeys(config);
    if (config.vote_state) checkVoteState(config.vote_state);
    this.deltaLimits = deltaLimitsOf(config);
    this.id = config.id ?? 'agent-0';
    const listed = config.peers ?? [];
    // A peer listed twice was counted twice: a larger election quorum, and its acks counted twice.
    const twice = listed.find((p, i) => listed.indexOf(p) !== i);
    if (twice !== undefined) throw new ElexError('E_CONFIG', `peers lists '${twice}' twice`);
    this.peers = listed.filter((p) => p !== this.id);
    this.sync_interval_ms = syncIntervalOf(config);
    this.epoch = epochOf(config);
    this.config = settingsOf(config, this.peers.length + 1);
    // The key derives from the seed: with neither given, every member of that id anywhere had one public key.
    if (config.identity === undefined && config.seed === undefined)
      throw new ElexError(
        'E_CONFIG',
        'a member needs its identity (a signing key) or, in tests and simulations, a seed to derive one',
      );
    const root = new SeededRng(config.seed ?? 1).fork(this.id);
    this.rng = root.fork('draws');
    this.identity = config.identity ?? identityFromRng(this.id, root.fork('key'));
    if (this.identity.id !== this.id)
      throw new ElexError('E_CONFIG', 'identity id differs from the member id');
    const keyring = config.keyring ?? new MapKeyring();
    this.keyring = keyring;
    this.network = config.network ?? new InMemoryNetwork();
    this.clock = config.clock ?? new ManualClock(0);
    checkFederatedActions(config);
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
      byzantineThreshold: this.config.byzantine_threshold,
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
    // Last: every check above may still refuse the configuration, and a shared keyring would then hold a
    // key for this id that no member owns (replacing a live member's key under the same id).
    keyring.add(this.id, this.identity.publicKey);
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

  private refuse(code: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }

  private sendControl(to: string, type: ControlType, value: number, term: number): void {
    const msg = encodeControl({ type, from: this.id, to, term, value }, this.identity);
    this.network.send(this.id, to, envelope(ENVELOPE.control, msg));
  }

  /**
   * The aggregator's TD-reachability check (`reachabilityCheck`): every member delta's values with fresh
   * visits must be reachable by those visits of Q-learning from a value the entry was published with in the
   * last TD_WINDOW aggregates (docs/federation.md, "Reachability window").
   * A delta with any unreachable value is refused whole (`E_UNREACHABLE`): it is poison, or it was learned
   * from a consensus this member does not hold (it was cut off, or merged peer-to-peer meanwhile). The
   * consensus of the unreachable entries (0 where the aggregator has none) goes back to that member in its
   * next aggregate, so its next deltas are reachable; before, an entry only it had learned was refused for ever.
   */
  private reachable(deltas: readonly Delta[]): Delta[] {
    if (this.config.rule === 'visit-weighted') return [...deltas];
    const unreachable = reachabilityCheck(this.local_qtable, this.window, this.learner.config);
    return deltas.filter((d) => {
      const back = unreachable(d);
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
    const res = mergeDeltasIntoTable(
      this.local_qtable,
      deltas,
      {
        ...memberMergeOptions(this.config, this.learner, deltas.length, anchor),
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
    this.followRebase();
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
    this.followRebase();
    const { d, cut } = outgoingDelta(
      this.local_qtable,
      this.acked.get(to) ?? 0,
      counts,
      (e) => (counts.get(e) ?? 0) > 0,
      { origin: this.id, kind: 'peer', limits: this.deltaLimits },
    );
    if (d.count === 0) return 0;
    // The round is what the recipient acknowledges: the whole table's clock, or the part's cut.
    return this.send(to, d, cut, covered);
  }

  private send(to: string, d: Delta, round: number, interactions: number): number {
    this.seq++;
    const out: Delta = { ...d, to, term: this.term, round, interactions, epoch: this.epoch, seq: this.seq };
    this.network.send(this.id, to, envelope(ENVELOPE.delta, encodeDelta(out, this.identity)));
    return out.count;
  }

  /** `syncNow` as a promise: ADR-115's `federatedSync` shape (it awaits nothing; a throw is a rejection). */
  async sync(): Promise<SyncResult> {
    return this.syncNow();
  }

  /**
   * One synchronisation step: take in what arrived, merge peer-to-peer deltas, then act by role. An aggregator
   * runs a round once enough members contributed and sends a heartbeat; a follower of a live aggregator sends
   * it its delta; a member without one gossips its delta to `gossip_fanout` peers and may campaign.
   */
  syncNow(): SyncResult {
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
    const ownBases = new Map<number, number>();
    if (this.election.isLeader) {
      // Its own learning since the last aggregate moved these entries away from what it published.
      for (const e of this.learner.peekOwnVisits().keys()) {
        const base = this.learner.ownBaseOf(e) ?? this.local_qtable.q[e];
        this.window.notePublished(e, base);
        ownBases.set(e, base);
      }
    }
    // An aggregator whose round will not run keeps its learning for the next round's report: taken now, it
    // would stay in the table unreported and go out unscored in the next aggregate (until session 23).
    const runs = this.election.isLeader && this.roundRuns();
    const waits = this.election.isLeader && !runs && this.config.rule !== 'visit-weighted';
    const fresh = waits ? new Map<number, number>() : this.learner.takeOwnVisits();
    const interactions = waits ? 0 : this.learner.interactions - this.interactionsAtSync;
    if (!waits) this.interactionsAtSync = this.learner.interactions;
    // Peer-to-peer merges (no aggregator, or members that have not heard of it yet).
    result.conflicts_resolved += this.merge(oneRowPerOrigin(peerDeltas), true);

    const live = this.election.liveLeader(now);
    if (this.election.isLeader) this.lead(now, runs, fresh, ownBases, interactions, result);
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
    // Every delta this code sends carries a seq: one without was crafted, and could be replayed unnoticed.
    if (d.kind === 'peer' && d.seq < 1)
      throw new ElexError('E_DECODE', `peer delta from '${d.origin}' without a seq`);
    // The same signed delta twice would count its samples twice. (Aggregates are fenced by term and round.)
    const replay = d.kind === 'peer' ? this.replays.refusal(d.origin, d.epoch, d.seq) : null;
    if (replay !== null) throw new ElexError('E_REPLAY', replay);
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
  /** Whether enough members contributed for this aggregator to run a round (itself counted). */
  private roundRuns(): boolean {
    const contributors = new Set(this.pending_updates.map((d) => d.origin));
    return contributors.size + 1 >= this.config.min_peers_for_consensus;
  }

  private lead(
    now: number,
    runs: boolean,
    fresh: ReadonlyMap<number, number>,
    ownBases: ReadonlyMap<number, number>,
    interactions: number,
    result: SyncResult,
  ): void {
    if (runs) {
      const reachable = this.reachable(this.pending_updates);
      result.refused += this.pending_updates.length - reachable.length;
      const folded = oneRowPerOrigin(reachable);
      const admitted =
        this.config.rule === 'visit-weighted'
          ? folded
          : withoutWeightlessNewEntries(folded, this.local_qtable);
      const own = this.ownReport(fresh, ownBases, interactions);
      this.notePublishedOf(admitted);
      result.conflicts_resolved += this.merge(own ? [...admitted, own] : admitted, false, own ? 0 : fresh);
      this.pending_updates = [];
      this.election.nextRound();
      // What changed since the last aggregate goes in any part; the rest of a term's first aggregate, or of a
      // round too large for one delta, follows oldest first in the next rounds' aggregates.
      const t = this.local_qtable;
      this.followRebase();
      const since = this.newsSince;
      const { d, cut, inPart, room } = outgoingDelta(
        t,
        this.broadcastVersion,
        fresh,
        (e) => t.version[e] > since,
        { origin: this.id, kind: 'aggregate', limits: this.deltaLimits },
      );
      // Anti-entropy: a slice of the whole table rides along, so entries that no longer change still reach a
      // member that restarted, joined or lost an aggregate.
      const sweep = sweepSlice(t, this.sweepFrom, this.config.anti_entropy_entries, inPart);
      this.sweepFrom = sweep.next;
      for (const p of this.peers) {
        // The certificate first: members adopt aggregates only from a member elected for their term.
        this.election.sendCertificate(p);
        const out = withResend(d, withSwept(this.resend.get(p), sweep.keys), t, inPart, room);
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

  /**
   * As aggregator, its own learning since the last aggregate as one report row, which reporter trust scores
   * and the rule weighs like any member's; the table goes back to the values it published for those entries,
   * so trust measures every report, its own included, from what it was learned from. Its learning used to
   * enter as the table's own row, unscored, and trust measured the members from the table it had moved: an
   * aggregator with a wrong reward held the honest values off Q* and had honest members distrusted
   * (test/learning/federated-own-learning.test.ts). The plain rule keeps ADR-115's merge into the table.
   */
  private ownReport(
    fresh: ReadonlyMap<number, number>,
    bases: ReadonlyMap<number, number>,
    interactions: number,
  ): Delta | null {
    if (this.config.rule === 'visit-weighted' || fresh.size === 0) return null;
    const t = this.local_qtable;
    const d = emptyDelta('peer', this.id, fresh.size);
    d.term = this.term;
    d.interactions = interactions;
    let i = 0;
    for (const [e, k] of fresh) {
      d.hi[i] = t.hi[e];
      d.lo[i] = t.lo[e];
      d.action[i] = t.action[e];
      d.q[i] = t.q[e];
      d.visits[i] = t.visits[e];
      d.fresh[i] = k;
      t.write(e, bases.get(e) ?? t.q[e], Math.max(0, t.visits[e] - k));
      i++;
    }
    return d;
  }

  private onAck(c: Control): void {
    // Only an ack addressed here: one relayed from another member (value: that member's version) made this
    // member skip everything up to that version in its deltas to the ack's sender.
    if (c.to !== this.id) return;
    this.followRebase();
    // No version above the clock was ever sent: such an ack is from before a restart or a rebase of the table,
    // and taken it would hold back every change up to it.
    if (c.value > this.local_qtable.clock) return;
    this.acked.set(c.from, Math.max(this.acked.get(c.from) ?? 0, c.value));
  }

  /** The versions kept above in today's numbering, after any rebase of the table since they were read. */
  private followRebase(): void {
    const t = this.local_qtable;
    const g = this.versionsOf;
    if (t.generation === g) return;
    for (const [peer, v] of this.acked) this.acked.set(peer, t.sinceNow(v, g));
    this.broadcastVersion = t.sinceNow(this.broadcastVersion, g);
    this.newsSince = t.sinceNow(this.newsSince, g);
    this.versionsOf = t.generation;
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
