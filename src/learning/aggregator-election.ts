/**
 * The aggregator election of one category: Raft's election with PreVote, CheckQuorum and leader stickiness,
 * made to hold with up to f Byzantine members (a Byzantine quorum, signed votes, certificates). Sans-IO: time
 * is passed in, randomness comes from the member's stream, messages leave through `ElectionTransport`, and
 * what the member's table must do when the role changes goes through `ElectionHooks`.
 *
 * Every control message enters through `step`, which checks membership and the term bound once and hands it
 * to one handler per type, as etcd's `Step`. docs/aggregator-election.md states the rules and invariants.
 */
import { ElexError, type Rng } from '../core/index.js';
import { electionQuorum, encodeCertificate, verifyCertificate } from './certificate.js';
import { type Control, type ControlType, MAX_TERM } from './control.js';
import type { Keyring } from './identity.js';

export type ConsensusState =
  | { kind: 'Follower' }
  | { kind: 'Candidate'; term: number }
  | { kind: 'Leader'; term: number };

/** What a member must keep across restarts (Raft's hard state, for the aggregator election). */
export interface VoteState {
  term: number;
  voted_for: string | null;
  /**
   * The newest term this member knows an aggregator was certified for: aggregates of older terms are fenced.
   * Kept with the vote since session 24 (absent: 0): in memory only, a restarted member took a deposed
   * aggregator's delayed certificate and aggregates again.
   */
  certified_term?: number;
}

/** (term, round) of the last aggregate a member applied; the aggregator's own round counter while it leads. */
export interface AggregateStamp {
  term: number;
  round: number;
}

/** How the election speaks: signed control messages and certificate broadcasts, sent by the member. */
export interface ElectionTransport {
  control(to: string, type: ControlType, value: number, term: number): void;
  certificate(to: string, certificate: Uint8Array): void;
}

/** What the member's table does when this member's role changes. */
export interface ElectionHooks {
  /** Stepped down (or moved to a newer term as follower): drop what it held as aggregator. */
  steppedDown(): void;
  /** Won a term: start aggregating it from nothing. */
  becameLeader(): void;
}

export interface ElectionOptions {
  id: string;
  peers: readonly string[];
  byzantineThreshold: number;
  /** The member's sync interval: heartbeats go out once per sync, timeouts are multiples of it. */
  syncIntervalMs: number;
  keyring: Keyring;
  /** The member's random stream (shared with its sync jitter, so one seed orders everything). */
  rng: Rng;
  transport: ElectionTransport;
  hooks: ElectionHooks;
  /** (term, vote) saved by an earlier life of this member. */
  voteState?: VoteState;
  /**
   * Called with the new (term, vote) before any message that depends on it is sent, and before this member
   * holds it: if it throws (the state could not be saved), the vote state is unchanged and nothing is sent.
   */
  onVoteState?: (s: VoteState) => void;
  now: number;
}

/**
 * How far above the terms it knows a member lets an election message move it (see `step`). Honest churn
 * under a tight quorum moved terms by ~60 in 100 s while a member was away (simulator, 7 members, 3 % loss), so
 * the bound is loose: it makes exhausting MAX_TERM take millions of messages instead of one.
 */
const MAX_TERM_STEP = 1024;
/** Certified terms remembered below the newest (aggregates of older terms are fenced anyway). */
const CERTIFIED_KEPT = 4;

/** Refuses a saved (term, vote) that cannot be one (`E_CONFIG`). */
export function checkVoteState(v: VoteState): void {
  if (!(Number.isSafeInteger(v.term) && v.term >= 0 && v.term <= MAX_TERM))
    throw new ElexError('E_CONFIG', `vote_state.term ${v.term} is not a term`);
  if (v.voted_for !== null && typeof v.voted_for !== 'string')
    throw new ElexError('E_CONFIG', 'vote_state.voted_for must be a member id or null');
  const c = v.certified_term;
  if (c !== undefined && !(Number.isSafeInteger(c) && c >= 0 && c <= MAX_TERM))
    throw new ElexError('E_CONFIG', `vote_state.certified_term ${c} is not a term`);
}

function sameBytes(a: Uint8Array, b: Uint8Array | null): boolean {
  if (b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class AggregatorElection {
  readonly id: string;
  readonly peers: readonly string[];
  /** This member and its peers: the only ids whose (pre-)votes and certificates count here. */
  readonly memberIds: ReadonlySet<string>;
  private _state: ConsensusState = { kind: 'Follower' };
  private _term = 0;
  private _votedFor: string | null = null;
  private _leader: string | null = null;
  private _lastAggregate: AggregateStamp = { term: 0, round: 0 };

  private readonly threshold: number;
  private readonly interval: number;
  private readonly keyring: Keyring;
  private readonly rng: Rng;
  private readonly transport: ElectionTransport;
  private readonly hooks: ElectionHooks;
  private readonly onVoteState: ((s: VoteState) => void) | undefined;

  private votes = new Set<string>();
  /** Signed votes granted to this member in its current candidacy (the certificate if it wins). */
  private voteProofs = new Map<string, Uint8Array>();
  /** This member's election certificate while it leads; sent ahead of its aggregates. */
  private _certificate: Uint8Array | null = null;
  private lastCertificate: Uint8Array | null = null;
  /** Who a verified certificate elected, per term (the few latest terms). */
  private readonly certified = new Map<number, string>();
  /** Highest term this member knows an aggregator was certified for (a verified certificate, or its own). */
  private certifiedTerm = 0;
  /**
   * The highest term above its own that a member claimed this round in a refusal (of this member's pre-vote or
   * vote request). Taken when the round has failed, at the next `tick`, not at once: until session 24 a refusal
   * ended the pre-vote round or the candidacy on arrival, and one Byzantine member answering first stalled
   * every election for good (or pushed terms 1,024 up per round) while an honest quorum was granting.
   */
  private claimedTerm = 0;
  /** Pre-votes for `term + 1` while this member asks whether it could win (null: not asking). */
  private preVotes: Set<string> | null = null;
  private electionAt: number;
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

  constructor(o: ElectionOptions) {
    this.id = o.id;
    this.peers = o.peers;
    this.memberIds = new Set([o.id, ...o.peers]);
    if (o.voteState) {
      checkVoteState(o.voteState);
      this._term = o.voteState.term;
      this._votedFor = o.voteState.voted_for;
      this.certifiedTerm = o.voteState.certified_term ?? 0;
    }
    this.threshold = o.byzantineThreshold;
    this.interval = o.syncIntervalMs;
    this.keyring = o.keyring;
    this.rng = o.rng;
    this.transport = o.transport;
    this.hooks = o.hooks;
    this.onVoteState = o.onVoteState;
    this.electionAt = o.now + this.electionTimeout();
  }

  get state(): ConsensusState {
    return this._state;
  }
  get term(): number {
    return this._term;
  }
  get votedFor(): string | null {
    return this._votedFor;
  }
  /** The aggregator this member last followed or is (null: none known to be live). */
  get leader(): string | null {
    return this._leader;
  }
  get lastAggregate(): AggregateStamp {
    return this._lastAggregate;
  }
  get isLeader(): boolean {
    return this._state.kind === 'Leader';
  }
  /** This member's certificate while it leads a category of more than one quorum (null otherwise). */
  get certificate(): Uint8Array | null {
    return this._certificate;
  }

  /**
   * Fault injection for tests and Byzantine simulations: overwrite the volatile role, term and leader as a
   * compromised member would. The protocol never calls it; honest members change these only by messages.
   */
  assume(s: {
    term?: number;
    state?: ConsensusState;
    leader?: string | null;
    lastAggregate?: AggregateStamp;
  }): void {
    if (s.term !== undefined) this._term = s.term;
    if (s.state) this._state = s.state;
    if (s.leader !== undefined) this._leader = s.leader;
    if (s.lastAggregate) this._lastAggregate = { ...s.lastAggregate };
  }

  private electionTimeout(): number {
    return this.interval * (2 + 2 * this.rng.next());
  }

  private get members(): number {
    return this.peers.length + 1;
  }

  private send(to: string, type: ControlType, value: number, term = this._term): void {
    this.transport.control(to, type, value, term);
  }

  /** Sends this member's certificate to `to` (nothing while it has none: not leading, or a one-member quorum). */
  sendCertificate(to: string): void {
    if (this._certificate !== null) this.transport.certificate(to, this._certificate);
  }

  /** `sendCertificate` to every other member. */
  broadcastCertificate(): void {
    for (const p of this.peers) this.sendCertificate(p);
  }

  private setVoteState(term: number, votedFor: string | null): void {
    if (term === this._term && votedFor === this._votedFor) return;
    // Saved first, then held: if saving throws, nothing changed. Held first, a vote whose saving failed
    // counted as saved, and the same request again sent it without ever saving it (a restart then voted twice).
    this.onVoteState?.(this.voteStateOf(term, votedFor, this.certifiedTerm));
    this._term = term;
    this._votedFor = votedFor;
  }

  private voteStateOf(term: number, votedFor: string | null, certified: number): VoteState {
    return certified > 0
      ? { term, voted_for: votedFor, certified_term: certified }
      : { term, voted_for: votedFor };
  }

  /** Raises the newest certified term, saved with the vote so that a restart keeps fencing below it. */
  private raiseCertified(term: number): void {
    if (term <= this.certifiedTerm) return;
    this.onVoteState?.(this.voteStateOf(this._term, this._votedFor, term));
    this.certifiedTerm = term;
  }

  /** Follower of `term` (or of the current term, deposed): the table drops what it held as aggregator. */
  stepDown(term: number): void {
    if (term > this._term) {
      this.setVoteState(term, null);
      this._leader = null;
      // A pre-vote campaign asked for the old term + 1; its pre-votes must not count towards a later one.
      this.preVotes = null;
    }
    this._state = { kind: 'Follower' };
    this._certificate = null;
    this.hooks.steppedDown();
  }

  /**
   * An aggregate stamped (term, round) from `origin`: refused with a typed error unless it comes from the
   * member certified for its term, is not below the newest certified term (not this member's own term, which
   * a vote request or a failed candidacy may have raised: fencing by it stranded members off the live
   * aggregator) and is newer than the last one applied. Accepted, it makes this member `origin`'s follower.
   */
  admitAggregate(origin: string, term: number, round: number, now: number): void {
    if (term < this.certifiedTerm)
      throw new ElexError('E_FENCED', `aggregate of term ${term} below certified term ${this.certifiedTerm}`);
    if (term === this._lastAggregate.term && round <= this._lastAggregate.round)
      throw new ElexError('E_STALE', `aggregate (${term}, ${round}) already passed`);
    if (this.certified.get(term) !== origin)
      throw new ElexError('E_UNCERTIFIED', `'${origin}' is not certified for term ${term}`);
    this.stepDown(term);
    this._leader = origin;
    this.leaderSeenAt = now;
    this._lastAggregate = { term, round };
  }

  /** As aggregator: the stamp of the next round's aggregate. */
  nextRound(): AggregateStamp {
    this._lastAggregate = { term: this._term, round: this._lastAggregate.round + 1 };
    return this._lastAggregate;
  }

  /** As aggregator: a member's delta of round `round` arrived (a sign of life for CheckQuorum). */
  heardFrom(origin: string, round: number, now: number): void {
    // Only if newer than the last one counted: a replayed delta kept a gone member heard.
    if (round > (this.heardRound.get(origin) ?? -1)) {
      this.heardRound.set(origin, round);
      this.heardAt.set(origin, now);
    }
  }

  /**
   * The aggregator this member follows: the one certified for the newest term it knows if its heartbeats
   * arrived within three sync intervals, else the origin of its last aggregate if that arrived within them.
   */
  liveLeader(now: number): string | null {
    const window = 3 * this.interval;
    const h = this.heartbeatLeader;
    if (h !== null && now - this.heartbeatSeenAt <= window && this.certified.get(this.certifiedTerm) === h)
      return h;
    if (this._leader !== null && this._leader !== this.id && now - this.leaderSeenAt <= window)
      return this._leader;
    return null;
  }

  /** No live aggregator at this sync: forget the last one followed. */
  forgetLeader(): void {
    this._leader = null;
  }

  /**
   * As aggregator, once per sync: a signed heartbeat to every member (members with nothing to send keep
   * following instead of electing a new aggregator every three intervals, and their acks tell this aggregator
   * who it still reaches), then CheckQuorum.
   */
  heartbeat(now: number): void {
    this.heartbeatSeq++;
    this.heartbeatSentAt.set(this.heartbeatSeq, now);
    for (const [seq, at] of this.heartbeatSentAt) {
      if (now - at <= 3 * this.interval) break;
      this.heartbeatSentAt.delete(seq);
    }
    for (const p of this.peers) this.send(p, 'heartbeat', this.heartbeatSeq);
    this.checkQuorum(now);
  }

  /**
   * etcd's CheckQuorum: an aggregator that has not heard from a quorum of members (deltas or heartbeat acks)
   * for three sync intervals steps down, so one cut off with a minority stops producing rounds there.
   */
  private checkQuorum(now: number): void {
    const window = 3 * this.interval;
    if (now - this.leaderSince <= window) return;
    let heard = 1;
    for (const p of this.peers) if (now - (this.heardAt.get(p) ?? -Infinity) <= window) heard++;
    if (!this.majority(heard)) {
      this.stepDown(this._term);
      this._leader = null;
    }
  }

  /**
   * Raft's PreVote (§9.6 of Ongaro's thesis), called at a sync without a live aggregator: once the election
   * timeout has passed, ask whether a quorum would grant term + 1. A member that is cut off therefore does not
   * inflate its term while alone, and on its return it cannot depose a live aggregator or fence its rounds.
   */
  tick(now: number): void {
    // At MAX_TERM (a Byzantine vote request can push a member there) term + 1 would be refused anyway.
    if (this.peers.length === 0 || now < this.electionAt || this._term >= MAX_TERM) return;
    this.electionAt = now + this.electionTimeout();
    // The last round failed: the members that refused it at higher terms are there; ask above the highest.
    const claimed = this.claimedTerm;
    this.claimedTerm = 0;
    if (claimed > this._term) this.stepDown(claimed);
    this.preVotes = new Set([this.id]);
    for (const p of this.peers) this.send(p, 'pre-vote-request', this.freshness(), this._term + 1);
  }

  /** Takes term + 1 and asks for votes (after a pre-vote quorum, or directly in a test). */
  campaign(): void {
    this.preVotes = null;
    this.setVoteState(this._term + 1, this.id);
    this._state = { kind: 'Candidate', term: this._term };
    this.votes = new Set([this.id]);
    this.voteProofs = new Map();
    for (const p of this.peers) this.send(p, 'vote-request', this.freshness());
  }

  /**
   * Raft's election restriction: (term, round) of the last aggregate applied, as one number (rounds saturate
   * at 2^21 - 1; MAX_TERM · 2^21 stays a safe integer). Members vote only for a candidate at least as fresh:
   * an elected aggregator's first aggregate is its whole table, adopted outright, so a member that missed
   * rounds would roll the consensus back.
   */
  private freshness(): number {
    return this._lastAggregate.term * 2 ** 21 + Math.min(this._lastAggregate.round, 2 ** 21 - 1);
  }

  /** Enough (pre-)votes to win: a Byzantine quorum (`electionQuorum`), so one term certifies one member. */
  private majority(n: number): boolean {
    return n >= electionQuorum(this.members, this.threshold);
  }

  /** An election certificate: verified once per distinct one; it fences older aggregators and deposes them. */
  onCertificate(body: Uint8Array): void {
    // The aggregator repeats its certificate with every aggregate: verify each distinct one once.
    if (sameBytes(body, this.lastCertificate)) return;
    const c = verifyCertificate(
      body,
      this.keyring,
      this.memberIds,
      electionQuorum(this.members, this.threshold),
    );
    // Saved before it is held (session 25): if saving throws, the certificate changed nothing and is verified
    // again when it comes again.
    this.raiseCertified(c.term);
    this.certified.set(c.term, c.leader);
    for (const t of this.certified.keys()) if (t < c.term - CERTIFIED_KEPT) this.certified.delete(t);
    this.lastCertificate = body.slice();
    // A leader (or candidate) of an older term is deposed: without this it led on, refusing votes.
    if (c.term > this._term && this._state.kind !== 'Follower') this.stepDown(c.term);
  }

  /**
   * Every election control message goes through here, then to one handler per type (etcd's `Step`). It must
   * come from a member of this category, and an election message may not move terms further than
   * `MAX_TERM_STEP` above those this member knows. (Acks of deltas are the table's, not the election's.)
   */
  step(c: Control, signed: Uint8Array, now: number): void {
    if (c.type === 'ack') throw new ElexError('E_DECODE', 'a delta ack is not an election message');
    // The keyring may hold other categories' keys: their election messages neither count nor get a vote here.
    if (!this.memberIds.has(c.from))
      throw new ElexError('E_MEMBER', `'${c.from}' is not a member of this category`);
    // Its own message replayed back: its own vote request earned it a signed vote for itself, which it
    // counted and put in a certificate that every member refuses (it led, and nobody followed). The
    // member's driver refuses these too; the state machine must not rely on it.
    if (c.from === this.id) throw new ElexError('E_DECODE', 'a control message from myself');
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
    const sticky = this.isLeader || this.liveLeader(now) !== null;
    // Terms move one election at a time: a vote message far above every term this member knows (its own, or a
    // certified one) is a Byzantine push towards MAX_TERM, after which nobody could campaign.
    const bound = Math.max(this._term, this.certifiedTerm) + MAX_TERM_STEP;
    if (c.term > bound) {
      // Except a refusal of this member's own pre-vote request: it says the refuser is at c.term or above, so
      // it is also true at the bound, and the member climbs there (no further than one message could push it
      // anyway). Refused outright, a member pushed more than the bound above the others (two Byzantine vote
      // requests) and those below it could never hear each other again: no aggregator, ever.
      if (c.type === 'pre-vote' && c.value === 0 && c.to === this.id && this.preVotes !== null && !sticky) {
        this.onPreVote({ ...c, term: bound }, sticky);
        return;
      }
      throw new ElexError('E_TERM_JUMP', `term ${c.term} from '${c.from}' is far above ${this._term}`);
    }
    switch (c.type) {
      case 'pre-vote-request':
        this.onPreVoteRequest(c, sticky);
        break;
      case 'pre-vote':
        this.onPreVote(c, sticky);
        break;
      case 'vote-request':
        this.onVoteRequest(c, sticky);
        break;
      case 'vote':
        this.onVote(c, signed, sticky, now);
        break;
    }
  }

  private onHeartbeatAck(c: Control, now: number): void {
    // Only an ack of a heartbeat sent within the CheckQuorum window: any old ack, replayed, counted.
    const sent = this.heartbeatSentAt.get(c.value);
    if (
      this.isLeader &&
      c.term === this._term &&
      c.to === this.id &&
      sent !== undefined &&
      now - sent <= 3 * this.interval
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
    if (this._leader === c.from) this.leaderSeenAt = now;
    // Followed before its first aggregate too: only a leader known from an aggregate counted, so after an
    // election in an idle category nobody followed the new aggregator and the others elected again and again.
    else {
      this.heartbeatLeader = c.from;
      this.heartbeatSeenAt = now;
    }
    this.send(c.from, 'heartbeat-ack', c.value, c.term);
  }

  private onPreVoteRequest(c: Control, sticky: boolean): void {
    const grant = !sticky && c.term > this._term && c.value >= this.freshness();
    // A grant carries the asked term (the candidate counts grants for term + 1 only). A refusal carries the
    // refuser's own term, as etcd's: from a member at or past the asked term it lets the candidate catch up
    // (fresher members stuck below a failed candidacy's term otherwise never win); from one below it, it
    // moves nobody. Carrying the asked term there raised every refused candidate's term by one per pre-vote
    // round, terms ratcheted, and the one member fresh enough to win never caught up.
    this.send(c.from, 'pre-vote', grant ? 1 : 0, grant ? c.term : this._term);
  }

  private onPreVote(c: Control, sticky: boolean): void {
    // A refusal at a term above this member's own: noted, and taken if the round fails (not while following a
    // live aggregator, whose followers must not be moved by anyone's term); the next round asks above it.
    if (this.preVotes !== null && c.value === 0 && c.to === this.id && c.term > this._term && !sticky) {
      this.claimTerm(c.term);
      return;
    }
    // Only pre-votes naming this member (a relayed one for another candidate must not count).
    if (this.preVotes === null || c.term !== this._term + 1 || c.value !== 1 || c.to !== this.id) return;
    this.preVotes.add(c.from);
    if (this.majority(this.preVotes.size)) this.campaign();
  }

  private onVoteRequest(c: Control, sticky: boolean): void {
    if (sticky) {
      this.send(c.from, 'vote', 0);
      return;
    }
    if (c.term > this._term) this.stepDown(c.term);
    const grant =
      c.term === this._term &&
      (this._votedFor === null || this._votedFor === c.from) &&
      c.value >= this.freshness();
    if (grant) this.setVoteState(this._term, c.from);
    this.send(c.from, 'vote', grant ? 1 : 0);
  }

  private onVote(c: Control, signed: Uint8Array, sticky: boolean, now: number): void {
    // A sticky member has no candidacy to count votes for; a vote's higher term must not depose it either
    // (it would bypass the stickiness above: any member could sign a refused vote with term + 50).
    if (sticky) return;
    if (c.term > this._term) {
      if (c.to === this.id) this.claimTerm(c.term);
      return;
    }
    if (this._state.kind !== 'Candidate' || c.term !== this._term || c.value !== 1 || c.to !== this.id)
      return;
    this.votes.add(c.from);
    this.voteProofs.set(c.from, signed);
    if (this.majority(this.votes.size)) this.becomeLeader(now);
  }

  /** Notes a claim (a refusal at `term`): taken if this round fails, when the next one starts. */
  private claimTerm(term: number): void {
    this.claimedTerm = Math.max(this.claimedTerm, term);
  }

  /** A quorum of signed votes: lead this term, with them as the certificate members check aggregates against. */
  private becomeLeader(now: number): void {
    // Saved first, as every vote state change: if saving throws, it is still a candidate and sends nothing.
    // Raised after the role changed, a failed save left it leading on a certified term a restart forgets, and
    // its next sync sent the certificate and heartbeats (until session 25).
    this.raiseCertified(this._term);
    this._state = { kind: 'Leader', term: this._term };
    this._certificate = this.majority(1) ? null : encodeCertificate([...this.voteProofs.values()]);
    this._leader = this.id;
    this.leaderSince = now;
    this.heartbeatSeq = 0;
    this.heardAt.clear();
    this.heartbeatSentAt.clear();
    this.heardRound.clear();
    this._lastAggregate = { term: this._term, round: 0 };
    this.hooks.becameLeader();
    // Members fence older aggregators by the newest certificate they know: tell them now, not at the first
    // aggregate (which waits for contributions).
    this.broadcastCertificate();
  }
}
