/**
 * Tabular Q-learning (α = 0.1, γ = 0.95, ε-greedy from 0.1 decaying to 0.01) with injected randomness and
 * masking of unavailable actions. The numeric helpers work on any indexable Q row so that the evaluation's
 * dense tables and the hashed `QTable` share one update rule.
 */
import { ElexError, type Rng } from '../core/index.js';
import type { QTable } from './q-table.js';
import { type QBounds, qBounds, REWARD_MAX, REWARD_MIN } from './reward.js';
import { ACTION_COUNT, stateHi, stateLo } from './state.js';

export interface LearningConfig {
  alpha: number;
  gamma: number;
  epsilonStart: number;
  epsilonEnd: number;
  /** ε decays as end + (start − end)·exp(−t / epsilonDecay), t = interactions so far. */
  epsilonDecay: number;
  actions: number;
}

export const DEFAULT_LEARNING: Readonly<LearningConfig> = {
  alpha: 0.1,
  gamma: 0.95,
  epsilonStart: 0.1,
  epsilonEnd: 0.01,
  epsilonDecay: 5000,
  actions: ACTION_COUNT,
};

export function epsilonAt(c: LearningConfig, t: number): number {
  return c.epsilonEnd + (c.epsilonStart - c.epsilonEnd) * Math.exp(-t / c.epsilonDecay);
}

/** All actions available. */
export function fullMask(actions: number): number {
  return actions >= 31 ? 0x7fffffff : (1 << actions) - 1;
}

/**
 * Greedy action among the available ones (bit a of `mask` set), ties broken uniformly with `rng`.
 * `q(a)` reads the value of action a.
 */
export function greedyAction(q: (a: number) => number, actions: number, mask: number, rng: Rng): number {
  let best = -1;
  let bestQ = -Infinity;
  let ties = 0;
  for (let a = 0; a < actions; a++) {
    if ((mask & (1 << a)) === 0) continue;
    const v = q(a);
    if (v > bestQ) {
      bestQ = v;
      best = a;
      ties = 1;
    } else if (v === bestQ) {
      ties++;
      if (rng.int(ties) === 0) best = a;
    }
  }
  if (best < 0) throw new ElexError('E_NO_ACTION', 'no action is available in this state');
  return best;
}

export function randomAvailable(actions: number, mask: number, rng: Rng): number {
  let n = 0;
  for (let a = 0; a < actions; a++) if (mask & (1 << a)) n++;
  if (n === 0) throw new ElexError('E_NO_ACTION', 'no action is available in this state');
  let k = rng.int(n);
  for (let a = 0; a < actions; a++) {
    if (mask & (1 << a)) {
      if (k === 0) return a;
      k--;
    }
  }
  return -1;
}

export function epsilonGreedy(
  q: (a: number) => number,
  actions: number,
  mask: number,
  epsilon: number,
  rng: Rng,
): number {
  return rng.next() < epsilon ? randomAvailable(actions, mask, rng) : greedyAction(q, actions, mask, rng);
}

/** max over available next actions (0 for a terminal state or an empty mask). */
export function maxAvailable(q: (a: number) => number, actions: number, mask: number): number {
  let m = -Infinity;
  for (let a = 0; a < actions; a++) if (mask & (1 << a)) m = Math.max(m, q(a));
  return m === -Infinity ? 0 : m;
}

/** One Q-learning step: q + α(r + γ·maxNext − q). */
export function tdStep(q: number, r: number, maxNext: number, alpha: number, gamma: number): number {
  return q + alpha * (r + gamma * maxNext - q);
}

/** One agent's learner over a `QTable` keyed by ELEX states (u64 as bigint at the API). */
export class QLearner {
  readonly config: LearningConfig;
  readonly bounds: QBounds;
  interactions = 0;
  /** Own visits per entry since the last `takeOwnVisits()` (entry index → count). */
  private own = new Map<number, number>();
  /** Each entry's value before its first own update since the last `takeOwnVisits()` (what own learning started from). */
  private ownBase = new Map<number, number>();

  constructor(
    readonly table: QTable,
    private readonly rng: Rng,
    config: Partial<LearningConfig> = {},
  ) {
    this.config = { ...DEFAULT_LEARNING, ...config };
    const c = this.config;
    if (!(c.alpha > 0 && c.alpha <= 1))
      throw new ElexError('E_CONFIG', `alpha must be in (0, 1], got ${c.alpha}`);
    if (!(c.gamma >= 0 && c.gamma < 1))
      throw new ElexError('E_CONFIG', `gamma must be in [0, 1), got ${c.gamma}`);
    if (!(c.actions >= 1 && c.actions <= 31)) throw new ElexError('E_CONFIG', `actions must be 1..31`);
    // A decay of 0 made ε NaN (0/0 in the exponent): the learner never explored.
    if (!(c.epsilonEnd >= 0 && c.epsilonEnd <= c.epsilonStart && c.epsilonStart <= 1))
      throw new ElexError(
        'E_CONFIG',
        `need 0 ≤ epsilonEnd ≤ epsilonStart ≤ 1, got ${c.epsilonEnd} and ${c.epsilonStart}`,
      );
    if (!(c.epsilonDecay > 0))
      throw new ElexError('E_CONFIG', `epsilonDecay must be positive (interactions), got ${c.epsilonDecay}`);
    this.bounds = qBounds(REWARD_MIN, REWARD_MAX, c.gamma);
  }

  q(state: bigint, action: number): number {
    return this.table.getQ(stateHi(state), stateLo(state), action);
  }

  epsilon(): number {
    return epsilonAt(this.config, this.interactions);
  }

  /** The greedy action among those available (`mask` bit a = action a available). */
  bestAction(state: bigint, mask = fullMask(this.config.actions)): number {
    const hi = stateHi(state);
    const lo = stateLo(state);
    return greedyAction((a) => this.table.getQ(hi, lo, a), this.config.actions, mask, this.rng);
  }

  /** ε-greedy choice among available actions. */
  selectAction(state: bigint, mask = fullMask(this.config.actions)): number {
    const hi = stateHi(state);
    const lo = stateLo(state);
    return epsilonGreedy(
      (a) => this.table.getQ(hi, lo, a),
      this.config.actions,
      mask,
      this.epsilon(),
      this.rng,
    );
  }

  /**
   * Learns from one interaction. `next` is null for a terminal outcome. Rewards outside the reward range
   * are refused (they would break the Q bounds that peers validate against).
   */
  learn(
    state: bigint,
    action: number,
    r: number,
    next: bigint | null,
    nextMask = fullMask(this.config.actions),
  ): number {
    if (!Number.isFinite(r) || r < REWARD_MIN || r > REWARD_MAX) {
      throw new ElexError('E_RANGE', `reward ${r} is outside [${REWARD_MIN}, ${REWARD_MAX}]`);
    }
    if (!Number.isInteger(action) || action < 0 || action >= this.config.actions) {
      throw new ElexError('E_RANGE', `action ${action} is not one of 0..${this.config.actions - 1}`);
    }
    let maxNext = 0;
    if (next !== null) {
      const hi = stateHi(next);
      const lo = stateLo(next);
      maxNext = maxAvailable((a) => this.table.getQ(hi, lo, a), this.config.actions, nextMask);
    }
    const e = this.table.slot(stateHi(state), stateLo(state), action);
    if (!this.own.has(e)) this.ownBase.set(e, this.table.q[e]);
    const v = tdStep(this.table.q[e], r, maxNext, this.config.alpha, this.config.gamma);
    const clamped = Math.max(this.bounds.min, Math.min(this.bounds.max, v));
    this.table.write(e, clamped, this.table.visits[e] + 1);
    this.own.set(e, (this.own.get(e) ?? 0) + 1);
    this.interactions++;
    return clamped;
  }

  /** Own visits per entry since the previous call (the visit deltas a sync reports); resets them. */
  takeOwnVisits(): Map<number, number> {
    const out = this.own;
    this.own = new Map();
    this.ownBase = new Map();
    return out;
  }

  /**
   * Adopts `base` (an aggregate's value) for entry `e` without losing own learning not yet reported. k TD
   * steps are linear in their starting value, q_k = (1−α)^k·q_0 + (what the k targets added), so the same
   * samples from `base` give q_k + (1−α)^k·(base − q_0): the value k fresh steps reach from `base`, which is
   * what the aggregator's reachability check expects. Writes (clamped to the Q bounds) and returns the value.
   */
  adopt(e: number, base: number, visits: number): number {
    const k = this.own.get(e) ?? 0;
    let v = base;
    if (k > 0) {
      const from = this.ownBase.get(e) ?? 0;
      v = this.table.q[e] + (1 - this.config.alpha) ** k * (base - from);
      this.ownBase.set(e, base);
    }
    const clamped = Math.max(this.bounds.min, Math.min(this.bounds.max, v));
    this.table.write(e, clamped, visits);
    return clamped;
  }

  peekOwnVisits(): ReadonlyMap<number, number> {
    return this.own;
  }

  /** The value entry `e` had before its first own update since the last take (undefined: no own update). */
  ownBaseOf(e: number): number | undefined {
    return this.ownBase.get(e);
  }
}
