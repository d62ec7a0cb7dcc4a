/**
 * A feature agent, pure: one per catalogue feature. Its Q-learning engine picks the kind of answer; the
 * content comes from the catalogue and the control-plane view the coordinator attaches (with its Raft index).
 * Feedback updates the Q-table; `takeDelta`/`receiveDelta`/`mergePending` federate it with category peers
 * (validated, robust trimmed-mean merge, capped fresh-visit weights); confident states become patterns.
 */
import { ElexError, type Rng } from '../../core/index.js';
import {
  ACTION_COUNT,
  ACTIONS,
  type ActionName,
  COMPLEXITIES,
  type Complexity,
  checkDelta,
  type Delta,
  deltaSince,
  emptyDelta,
  encodeState,
  MergeWorkspace,
  mergeDeltasIntoTable,
  QLearner,
  QTable,
  QUERY_TYPES,
  type QueryType,
  REWARD_MAX,
  REWARD_MIN,
  reward,
  ruleByName,
  selectEntries,
  stateHi,
  stateLo,
} from '../../learning/index.js';
import type { Feature } from '../catalog.js';
import type { AgentSnapshot } from './agent-snapshot.js';

/** What the coordinator knows about a feature at a Raft index (attached to every question it forwards). */
export interface ControlView {
  active: boolean;
  /** Parameter values set for the feature. */
  values: ReadonlyArray<{ parameter: string; value: number }>;
  raftIndex: number;
}

export interface AnswerContent {
  feature: string;
  name: string;
  category: string;
  activationOrder: readonly string[];
  conflicts: readonly string[];
  parameters: ReadonlyArray<{ parameter: string; value: number }>;
  safeZones: readonly string[];
  active: boolean;
}

export interface AgentAnswer {
  queryId: number;
  feature: string;
  agent: string;
  action: ActionName;
  confidence: number;
  raftIndex: number;
  content: AnswerContent;
}

/** A confident (state, action) pair, broadcast to the whole swarm and used as a prior. */
export interface Pattern {
  origin: string;
  hi: number;
  lo: number;
  action: number;
  q: number;
}

export interface AgentOptions {
  /** Malicious: its deltas are poisoned (inverted values, maximal claims). */
  malicious?: boolean;
  /** Fraction of Byzantine weight trimmed from each end (default 0.34). */
  beta?: number;
  /** Most recent peer deltas kept until the next merge. */
  maxPending?: number;
}

/** One rated answer: the state the agent was in, the action it took, the reward the rating gave. */
export interface Experience {
  state: bigint;
  action: number;
  reward: number;
}

export interface AgentStats {
  answers: number;
  feedbacks: number;
  deltasSent: number;
  deltasMerged: number;
  refused: Map<string, number>;
  patternsApplied: number;
  /** Peer entries left out for want of a reporter quorum. */
  unconfirmed: number;
}

const PENDING_LIMIT = 64;
/** Answers kept awaiting feedback (the oldest is forgotten first). */
const PENDING_ANSWERS_LIMIT = 256;
/** Distinct reporters needed before peer values may create an entry this agent has not learned (with three,
 *  the trimmed mean can drop one outlier). */
export const QUORUM = 3;
/** Visits before a state's best action can become a pattern, and the Q margin it needs over the runner-up. */
export const PATTERN_MIN_VISITS = 3;
export const PATTERN_MARGIN = 0.2;
/** An agent re-publishes a state whose best action changed at most this many times (no pattern storms). */
export const MAX_PUBLISH_PER_STATE = 2;

/** The learning state of a question: query type, complexity, confidence (own feature or a peer's). */
export function agentState(type: QueryType, complexity: Complexity, own: boolean): bigint {
  return encodeState({ queryType: type, complexity, confidence: own ? 1 : 0.5, contextHash: 0n });
}

/** The 18 own-feature states (type × complexity), for policy-quality measurements. */
export const OWN_STATES: ReadonlyArray<{ type: QueryType; complexity: Complexity; state: bigint }> =
  QUERY_TYPES.flatMap((type) =>
    COMPLEXITIES.map((complexity) => ({ type, complexity, state: agentState(type, complexity, true) })),
  );

/**
 * Every state an agent is ever in (36: type × complexity × own feature or a peer's). A pattern about another
 * state is about no agent's experience: applying it would only grow the table (and what the coordinator saves
 * of it) at the sender's will.
 */
const AGENT_STATES: ReadonlySet<bigint> = new Set(
  QUERY_TYPES.flatMap((type) =>
    COMPLEXITIES.flatMap((c) => [agentState(type, c, true), agentState(type, c, false)]),
  ),
);

export class FeatureAgent {
  readonly learner: QLearner;
  readonly table: QTable;
  readonly stats: AgentStats = {
    answers: 0,
    feedbacks: 0,
    deltasSent: 0,
    deltasMerged: 0,
    refused: new Map(),
    patternsApplied: 0,
    unconfirmed: 0,
  };
  /** Answers awaiting feedback: query id → feature asked about → what was answered (one agent may answer
   *  several features of one query, for itself and for dead peers). */
  private readonly pendingAnswers = new Map<number, Map<string, { state: bigint; action: number }>>();
  private pendingCount = 0;
  private pending: Delta[] = [];
  private syncedVersion = 0;
  /** The table's generation `syncedVersion` was read in (`QTable.sinceNow`). */
  private syncedGeneration = 0;
  private interactionsAtSync = 0;
  private readonly ws = new MergeWorkspace();
  private readonly published = new Map<string, number>();
  private readonly publishCount = new Map<string, number>();
  /** Changes to `published` (with the table's clock and the interactions: `revision`). */
  private publications = 0;
  /** Own feedback per state (merged visits are not experience). */
  private readonly ownVisits = new Map<bigint, number>();
  /**
   * States a primary's mirror brought visited entries of (`mirror`): the primary had experience there, so a
   * pattern must not overwrite them here either; the primary's own handling of it arrives with its next mirror.
   */
  private readonly mirroredStates = new Set<bigint>();
  private readonly beta: number;
  private readonly maxPending: number;
  readonly malicious: boolean;

  constructor(
    readonly id: string,
    readonly feature: Feature,
    rng: Rng,
    opts: AgentOptions = {},
  ) {
    this.table = new QTable(64);
    this.learner = new QLearner(this.table, rng);
    this.malicious = opts.malicious ?? false;
    this.beta = opts.beta ?? 0.34;
    this.maxPending = opts.maxPending ?? PENDING_LIMIT;
  }

  /**
   * Answers a question about `about` (its own feature or a category peer's) from the coordinator's view. The
   * same question again (a duplicated message) before its feedback gets the same kind of answer, so the
   * feedback, whichever copy the user saw, credits the action that was rated.
   */
  answer(
    queryId: number,
    type: QueryType,
    complexity: Complexity,
    about: Feature,
    view: ControlView,
  ): AgentAnswer {
    const own = about.id === this.feature.id;
    const state = agentState(type, complexity, own);
    let forQuery = this.pendingAnswers.get(queryId);
    const prior = forQuery?.get(about.id);
    let action: number;
    if (prior !== undefined && prior.state === state) action = prior.action;
    else {
      action = this.learner.selectAction(state);
      if (prior === undefined) {
        if (this.pendingCount >= PENDING_ANSWERS_LIMIT) this.forgetOldestAnswer();
        this.pendingCount++;
        forQuery = this.pendingAnswers.get(queryId); // the eviction may have dropped it
        if (forQuery === undefined) {
          forQuery = new Map();
          this.pendingAnswers.set(queryId, forQuery);
        }
      }
      forQuery!.set(about.id, { state, action });
    }
    this.stats.answers++;
    return {
      queryId,
      feature: about.id,
      agent: this.id,
      action: ACTIONS[action],
      confidence: (own ? 0.9 : 0.6) * (0.5 + 0.5 * Math.min(1, this.visitsOf(state) / 20)),
      raftIndex: view.raftIndex,
      content: {
        feature: about.id,
        name: about.name,
        category: about.category,
        activationOrder: about.activation_order,
        conflicts: about.conflicts,
        parameters: view.values,
        safeZones: about.safe_zones,
        active: view.active,
      },
    };
  }

  private visitsOf(state: bigint): number {
    const hi = stateHi(state);
    const lo = stateLo(state);
    let n = 0;
    for (let a = 0; a < ACTION_COUNT; a++) n += this.table.getVisits(hi, lo, a);
    return n;
  }

  private forgetOldestAnswer(): void {
    const [queryId, forQuery] = this.pendingAnswers.entries().next().value!;
    forQuery.delete(forQuery.keys().next().value!);
    if (forQuery.size === 0) this.pendingAnswers.delete(queryId);
    this.pendingCount--;
  }

  /**
   * The user's feedback on the answer this agent gave about `feature` for query `queryId`; false when that
   * answer is unknown (already rated or forgotten). Without `feature` the query must have exactly one pending
   * answer here: with several (the agent answered for a dead peer too) the feedback cannot be attributed and
   * is refused, never credited to the wrong state or action.
   */
  feedback(queryId: number, rating: number, resolved: boolean, latencyMs: number, feature?: string): boolean {
    return this.rate(queryId, rating, resolved, latencyMs, feature) !== null;
  }

  /** `feedback`, returning the experience learned from (null: refused), e.g. for a standby to send back. */
  rate(
    queryId: number,
    rating: number,
    resolved: boolean,
    latencyMs: number,
    feature?: string,
  ): Experience | null {
    const forQuery = this.pendingAnswers.get(queryId);
    if (forQuery === undefined) return null;
    if (feature === undefined) {
      if (forQuery.size !== 1) return null;
      feature = forQuery.keys().next().value!;
    }
    const p = forQuery.get(feature);
    if (p === undefined) return null;
    forQuery.delete(feature);
    if (forQuery.size === 0) this.pendingAnswers.delete(queryId);
    this.pendingCount--;
    const e: Experience = {
      state: p.state,
      action: p.action,
      reward: reward({ rating, resolved, latencyMs, consultations: 0 }),
    };
    this.learnFrom(e);
    return e;
  }

  /**
   * Learns from an experience another agent of this feature had (a standby's, while this one was down), as if
   * it had been rated here: the same step from this agent's own value. False, with nothing learned, for a state
   * no agent is in, an unknown action, or a reward outside the reward range.
   */
  replay(e: Experience): boolean {
    if (
      !AGENT_STATES.has(e.state) ||
      !Number.isInteger(e.action) ||
      e.action < 0 ||
      e.action >= ACTION_COUNT ||
      !(e.reward >= REWARD_MIN && e.reward <= REWARD_MAX)
    )
      return false;
    this.learnFrom(e);
    return true;
  }

  private learnFrom(e: Experience): void {
    this.learner.learn(e.state, e.action, e.reward, null);
    this.ownVisits.set(e.state, (this.ownVisits.get(e.state) ?? 0) + 1);
    this.stats.feedbacks++;
  }

  /** Interactions (rated answers learned from) since the last `takeDelta`: ADR-115 syncs after 10. */
  get interactionsSinceSync(): number {
    return this.learner.interactions - this.interactionsAtSync;
  }

  /** The delta since the previous call (entries changed, fresh visits), or null when nothing changed. */
  takeDelta(): Delta | null {
    const fresh = this.learner.takeOwnVisits();
    const interactions = this.learner.interactions - this.interactionsAtSync;
    this.interactionsAtSync = this.learner.interactions;
    const since = this.table.sinceNow(this.syncedVersion, this.syncedGeneration);
    this.syncedVersion = this.table.clock;
    this.syncedGeneration = this.table.generation;
    if (fresh.size === 0 && !this.malicious) return null;
    if (this.malicious) return this.poisoned();
    const d = deltaSince(this.table, since, fresh, { origin: this.id, kind: 'peer' });
    d.interactions = interactions;
    if (d.count === 0) return null;
    this.stats.deltasSent++;
    return d;
  }

  /**
   * A poisoned delta, shaped to pass validation: for every own state, the action this agent believes best
   * is reported at the reward minimum (one entry per state, one fresh visit each, interactions to match).
   */
  private poisoned(): Delta {
    const d = emptyDelta('peer', this.id, OWN_STATES.length);
    let i = 0;
    for (const s of OWN_STATES) {
      const best = this.strictBest(s.state);
      d.hi[i] = stateHi(s.state);
      d.lo[i] = stateLo(s.state);
      d.action[i] = best < 0 ? 0 : best;
      d.q[i] = REWARD_MIN;
      d.visits[i] = 0xffffffff;
      d.fresh[i] = 1;
      i++;
    }
    d.interactions = d.count;
    this.stats.deltasSent++;
    return d;
  }

  /**
   * A peer's delta: validated before it is kept for the next merge; refusals are counted by code. Agents learn
   * one-step episodes (every answer is terminal), so an honest value lies within the reward range itself,
   * far inside the general Q bounds: that is the range checked.
   */
  receiveDelta(d: Delta, maxInteractions: number): boolean {
    const v = checkDelta(d, { bounds: { min: REWARD_MIN, max: REWARD_MAX }, maxInteractions });
    if (!v.ok) return this.refuse(v.code);
    // One origin reports an entry once: a repeated entry would count as several reporters of the quorum.
    const entries = new Set<string>();
    for (let i = 0; i < d.count; i++) {
      const k = `${d.hi[i]}:${d.lo[i]}:${d.action[i]}`;
      if (entries.has(k)) return this.refuse('E_DUPLICATE_ENTRY');
      entries.add(k);
    }
    // One delta per origin per round: a newer one replaces an older one.
    const k = this.pending.findIndex((p) => p.origin === d.origin);
    if (k >= 0) this.pending[k] = d;
    else {
      // The most recent are kept (`maxPending`): a full buffer drops its oldest, not the delta just taken.
      if (this.pending.length >= this.maxPending) this.pending.shift();
      this.pending.push(d);
    }
    return true;
  }

  private refuse(code: string): false {
    this.stats.refused.set(code, (this.stats.refused.get(code) ?? 0) + 1);
    return false;
  }

  /**
   * Merges the deltas received since the last merge; returns how many deltas it took. Entries this agent has
   * learned itself, or that at least `QUORUM` peers report in the round, go through the robust rule
   * (weighted trimmed mean, local row anchored at weight 10, peers weighted by capped fresh visits). An entry
   * it has not learned that fewer peers report (one of them possibly poisoned) is left alone: knowledge that
   * reaches the whole swarm travels as patterns instead.
   */
  mergePending(): number {
    const raw = this.pending;
    if (raw.length === 0) return 0;
    this.pending = [];
    const reporters = new Map<string, number>();
    for (const d of raw)
      for (let i = 0; i < d.count; i++) {
        const k = `${d.hi[i]}:${d.lo[i]}:${d.action[i]}`;
        reporters.set(k, (reporters.get(k) ?? 0) + 1);
      }
    const deltas: Delta[] = [];
    for (const d of raw) {
      const keep: number[] = [];
      for (let i = 0; i < d.count; i++) {
        const k = `${d.hi[i]}:${d.lo[i]}:${d.action[i]}`;
        const known = this.table.getVisits(d.hi[i], d.lo[i], d.action[i]) > 0;
        if (known || (reporters.get(k) ?? 0) >= QUORUM) keep.push(i);
        else this.stats.unconfirmed++;
      }
      if (keep.length === 0) continue;
      deltas.push(selectEntries(d, keep));
    }
    this.stats.deltasMerged += raw.length;
    if (deltas.length === 0) return 0;
    mergeDeltasIntoTable(
      this.table,
      deltas,
      {
        rule: ruleByName('trimmed-mean'),
        params: {
          beta: this.beta,
          f: Math.floor(this.beta * (deltas.length + 1)),
          clipRadius: 0.5,
          bounds: this.learner.bounds,
        },
        weighting: { kind: 'fresh', cap: 10, anchor: 10 },
        tolerance: 0.05,
      },
      this.ws,
    );
    return raw.length;
  }

  /** Grows whenever what `snapshot` returns may have changed (a store saves only then). */
  get revision(): number {
    return this.table.clock + this.learner.interactions + this.publications;
  }

  /** What this agent has learned, as plain data (`AgentSnapshot`). */
  snapshot(): AgentSnapshot {
    const t = this.table;
    const entries: AgentSnapshot['entries'] = [];
    for (let e = 0; e < t.size; e++) entries.push([t.hi[e], t.lo[e], t.action[e], t.q[e], t.visits[e]]);
    const own: AgentSnapshot['own'] = [...this.ownVisits].map(([s, n]) => [stateHi(s), stateLo(s), n]);
    const published: AgentSnapshot['published'] = [...this.published].map(([key, a]) => {
      const [hi, lo] = key.split(':').map(Number);
      return [hi, lo, a, this.publishCount.get(key) ?? 0];
    });
    const mirrored: NonNullable<AgentSnapshot['mirrored']> = [...this.mirroredStates].map((st) => [
      stateHi(st),
      stateLo(st),
    ]);
    return {
      feature: this.feature.id,
      interactions: this.learner.interactions,
      entries,
      own,
      published,
      mirrored,
    };
  }

  /**
   * Resumes from a snapshot of this feature's agent (validated by `agentSnapshotSchema`), into an agent that
   * has learned nothing yet. The restored entries are not reported as fresh learning in the next delta.
   */
  restore(s: AgentSnapshot): void {
    if (s.feature !== this.feature.id)
      throw new ElexError(
        'E_DECODE',
        `snapshot of ${s.feature} restored into the agent of ${this.feature.id}`,
      );
    if (this.table.size > 0 || this.learner.interactions > 0)
      throw new ElexError(
        'E_STATE',
        `the agent of ${this.feature.id} has learned already; restore into a new one`,
      );
    for (const [hi, lo, a, q, visits] of s.entries) {
      if (this.table.find(hi, lo, a) >= 0)
        throw new ElexError('E_DECODE', `snapshot of ${s.feature} has the entry ${hi}:${lo}:${a} twice`);
      this.table.write(this.table.slot(hi, lo, a), q, visits);
    }
    for (const [hi, lo, n] of s.own) this.ownVisits.set((BigInt(hi) << 32n) | BigInt(lo), n);
    for (const [hi, lo] of s.mirrored ?? []) this.mirroredStates.add((BigInt(hi) << 32n) | BigInt(lo));
    for (const [hi, lo, a, times] of s.published) {
      this.published.set(`${hi}:${lo}`, a);
      if (times > 0) this.publishCount.set(`${hi}:${lo}`, times);
    }
    this.learner.interactions = s.interactions;
    this.interactionsAtSync = s.interactions;
    this.syncedVersion = this.table.clock;
    this.syncedGeneration = this.table.generation;
  }

  /**
   * Entries [hi, lo, action, q, visits] of the primary's agent of this feature, taken as they are (a standby
   * agent's replica of it, not a peer's delta to merge). Not this agent's own learning: no fresh visits, no
   * experience, so nothing of it goes out as its delta or pattern. All checked before any is written; an entry of
   * a state no agent is in is skipped; returns how many changed the table.
   */
  mirror(entries: ReadonlyArray<readonly [number, number, number, number, number]>): number {
    for (const [hi, lo, a, q, visits] of entries)
      if (
        ![hi, lo, visits].every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff) ||
        !Number.isInteger(a) ||
        a < 0 ||
        a >= ACTION_COUNT ||
        !(q >= REWARD_MIN && q <= REWARD_MAX)
      )
        throw new ElexError(
          'E_RANGE',
          `mirrored entry ${hi}:${lo}:${a} = ${q} (${visits} visits) is out of range`,
        );
    // Sent nothing of its own since its last delta: the mirrored entries are not to go into the next one.
    const synced = this.table.sinceNow(this.syncedVersion, this.syncedGeneration) >= this.table.clock;
    let changed = 0;
    for (const [hi, lo, a, q, visits] of entries) {
      const state = (BigInt(hi) << 32n) | BigInt(lo);
      // A state no agent is in is skipped, as `replay` and `applyPattern` do: before session 25 such entries grew
      // the table past what the agents' file may hold, and the next start refused it (E_DECODE).
      if (!AGENT_STATES.has(state)) continue;
      if (visits > 0) this.mirroredStates.add(state);
      const e = this.table.slot(hi, lo, a);
      if (this.table.q[e] === Math.fround(q) && this.table.visits[e] === visits) continue;
      this.table.write(e, q, visits);
      changed++;
    }
    if (synced) {
      this.syncedVersion = this.table.clock;
      this.syncedGeneration = this.table.generation;
    }
    return changed;
  }

  /** The greedy action of a state when it is strictly best, or -1 (unvisited or tied). */
  strictBest(state: bigint): number {
    const hi = stateHi(state);
    const lo = stateLo(state);
    let best = -1;
    let bq = Number.NEGATIVE_INFINITY;
    let tie = false;
    for (let a = 0; a < ACTION_COUNT; a++) {
      const q = this.table.getQ(hi, lo, a);
      if (q > bq) {
        bq = q;
        best = a;
        tie = false;
      } else if (q === bq) tie = true;
    }
    return tie ? -1 : best;
  }

  /** Own states whose best action is now confident and not yet published with that action. */
  newPatterns(): Pattern[] {
    if (this.malicious) return [];
    const out: Pattern[] = [];
    for (const s of OWN_STATES) {
      const hi = stateHi(s.state);
      const lo = stateLo(s.state);
      if ((this.ownVisits.get(s.state) ?? 0) < PATTERN_MIN_VISITS) continue;
      let best = -1;
      let bq = Number.NEGATIVE_INFINITY;
      let second = Number.NEGATIVE_INFINITY;
      for (let a = 0; a < ACTION_COUNT; a++) {
        const q = this.table.getQ(hi, lo, a);
        if (q > bq) {
          second = bq;
          bq = q;
          best = a;
        } else if (q > second) second = q;
      }
      if (bq - second < PATTERN_MARGIN) continue;
      const key = `${hi}:${lo}`;
      if (this.published.get(key) === best) continue;
      const times = this.publishCount.get(key) ?? 0;
      if (times >= MAX_PUBLISH_PER_STATE) continue;
      this.publishCount.set(key, times + 1);
      this.published.set(key, best);
      this.publications++;
      out.push({ origin: this.id, hi, lo, action: best, q: bq });
    }
    return out;
  }

  /**
   * A pattern from the swarm, used as a prior: applied only to a state this agent has no experience of yet
   * (no own feedback, and none its primary mirrored here), and never outside the reward range. Returns whether it changed anything. A pattern
   * naming an action the table does not have, or a state no agent is ever in, is ignored.
   */
  applyPattern(p: Pattern): boolean {
    if (!Number.isInteger(p.action) || p.action < 0 || p.action >= ACTION_COUNT) return false;
    const state = (BigInt(p.hi >>> 0) << 32n) | BigInt(p.lo >>> 0);
    if (!AGENT_STATES.has(state)) return false;
    const key = `${p.hi}:${p.lo}`;
    if (!this.published.has(key)) {
      this.published.set(key, p.action);
      this.publications++;
    }
    if ((this.ownVisits.get(state) ?? 0) > 0 || this.mirroredStates.has(state)) return false;
    const e = this.table.slot(p.hi, p.lo, p.action);
    // As the table stores it (f32): compared unrounded, every re-application of 0.7 looked like a change.
    const q = Math.fround(Math.max(REWARD_MIN, Math.min(REWARD_MAX, Number.isFinite(p.q) ? p.q : 0)));
    if (this.table.q[e] === q) return false;
    this.table.write(e, q, 0);
    this.stats.patternsApplied++;
    return true;
  }
}

export { type AgentSnapshot, actionIndex, agentSnapshotSchema, u32 } from './agent-snapshot.js';
export {
  applyPatterns,
  type HostedRound,
  hostedRound,
  SYNC_AFTER_INTERACTIONS,
  sendDelta,
} from './hosted-round.js';
export { decodePatterns, encodePatterns, PATTERN_FORMAT, PATTERNS_PER_BROADCAST } from './pattern-codec.js';
