/**
 * Finite MDPs with exact solutions, for the Byzantine evaluation. Transitions are stored flat: for state s and
 * action a, outcomes `start[s*A+a] .. start[s*A+a+1]` of (probability, next state, reward, terminal).
 */
import { ElexError, type Rng } from '../../core/index.js';

export interface Mdp {
  readonly name: string;
  readonly states: number;
  readonly actions: number;
  readonly gamma: number;
  /** Start-state distribution. */
  readonly initial: Float64Array;
  /** Available actions per state as a bit mask. */
  readonly mask: Uint32Array;
  readonly start: Int32Array;
  readonly prob: Float64Array;
  readonly next: Int32Array;
  readonly reward: Float64Array;
  readonly terminal: Uint8Array;
  /** Episode step limit for learning (truncation, not termination). */
  readonly horizon: number;
  /** Reward range, for the Q bounds agents validate against. */
  readonly rMin: number;
  readonly rMax: number;
}

export interface Outcome {
  p: number;
  next: number;
  r: number;
  terminal: boolean;
}

export function buildMdp(
  spec: Omit<Mdp, 'start' | 'prob' | 'next' | 'reward' | 'terminal' | 'rMin' | 'rMax'>,
  outcomes: (s: number, a: number) => Outcome[],
): Mdp {
  const S = spec.states;
  const A = spec.actions;
  const start = new Int32Array(S * A + 1);
  const all: Outcome[] = [];
  let rMin = 0;
  let rMax = 0;
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      start[s * A + a] = all.length;
      if ((spec.mask[s] & (1 << a)) === 0) continue;
      const os = outcomes(s, a);
      let total = 0;
      for (const o of os) {
        total += o.p;
        rMin = Math.min(rMin, o.r);
        rMax = Math.max(rMax, o.r);
        all.push(o);
      }
      if (Math.abs(total - 1) > 1e-9)
        throw new ElexError('E_MDP', `${spec.name}: P(.|${s},${a}) sums to ${total}`);
    }
  }
  start[S * A] = all.length;
  return {
    ...spec,
    start,
    prob: Float64Array.from(all, (o) => o.p),
    next: Int32Array.from(all, (o) => o.next),
    reward: Float64Array.from(all, (o) => o.r),
    terminal: Uint8Array.from(all, (o) => (o.terminal ? 1 : 0)),
    rMin,
    rMax,
  };
}

/** Expected one-step return of (s, a) under values v. */
function backup(m: Mdp, s: number, a: number, v: Float64Array): number {
  let x = 0;
  for (let k = m.start[s * m.actions + a]; k < m.start[s * m.actions + a + 1]; k++) {
    x += m.prob[k] * (m.reward[k] + (m.terminal[k] ? 0 : m.gamma * v[m.next[k]]));
  }
  return x;
}

/** Q* by value iteration to `tol`. */
export function valueIteration(m: Mdp, tol = 1e-10): { q: Float64Array; v: Float64Array } {
  const S = m.states;
  const A = m.actions;
  const v = new Float64Array(S);
  const q = new Float64Array(S * A);
  for (let it = 0; it < 100_000; it++) {
    let delta = 0;
    for (let s = 0; s < S; s++) {
      let best = -Infinity;
      for (let a = 0; a < A; a++) {
        if ((m.mask[s] & (1 << a)) === 0) continue;
        const x = backup(m, s, a, v);
        q[s * A + a] = x;
        if (x > best) best = x;
      }
      if (best === -Infinity) best = 0;
      delta = Math.max(delta, Math.abs(best - v[s]));
      v[s] = best;
    }
    if (delta < tol) break;
  }
  return { q, v };
}

/** V of a stochastic policy given as per-state action probabilities `pi[s*A+a]`, by iteration. */
export function policyValue(m: Mdp, pi: Float64Array, tol = 1e-9): Float64Array {
  const S = m.states;
  const A = m.actions;
  const v = new Float64Array(S);
  for (let it = 0; it < 100_000; it++) {
    let delta = 0;
    for (let s = 0; s < S; s++) {
      let x = 0;
      for (let a = 0; a < A; a++) {
        const p = pi[s * A + a];
        if (p > 0) x += p * backup(m, s, a, v);
      }
      delta = Math.max(delta, Math.abs(x - v[s]));
      v[s] = x;
    }
    if (delta < tol) break;
  }
  return v;
}

export function startValue(m: Mdp, v: Float64Array): number {
  let x = 0;
  for (let s = 0; s < m.states; s++) x += m.initial[s] * v[s];
  return x;
}

export function uniformPolicy(m: Mdp): Float64Array {
  const pi = new Float64Array(m.states * m.actions);
  for (let s = 0; s < m.states; s++) {
    let n = 0;
    for (let a = 0; a < m.actions; a++) if (m.mask[s] & (1 << a)) n++;
    for (let a = 0; a < m.actions; a++) if (m.mask[s] & (1 << a)) pi[s * m.actions + a] = 1 / n;
  }
  return pi;
}

/** The greedy policy of q among available actions (lowest index on ties: deterministic evaluation). */
export function greedyPolicy(m: Mdp, q: ArrayLike<number>): Float64Array {
  const A = m.actions;
  const pi = new Float64Array(m.states * A);
  for (let s = 0; s < m.states; s++) {
    let best = -1;
    for (let a = 0; a < A; a++) {
      if ((m.mask[s] & (1 << a)) === 0) continue;
      if (best < 0 || q[s * A + a] > q[s * A + best]) best = a;
    }
    if (best >= 0) pi[s * A + best] = 1;
  }
  return pi;
}

/** The best (or worst) available action in s under q (lowest index on ties); −1 if none is available. */
export function argBest(mdp: Mdp, q: ArrayLike<number>, s: number, worst: boolean): number {
  const A = mdp.actions;
  let best = -1;
  for (let a = 0; a < A; a++) {
    if ((mdp.mask[s] & (1 << a)) === 0) continue;
    if (best < 0 || (worst ? q[s * A + a] < q[s * A + best] : q[s * A + a] > q[s * A + best])) best = a;
  }
  return best;
}

/** Samples one transition: returns the outcome index. */
export function sampleOutcome(m: Mdp, s: number, a: number, rng: Rng): number {
  const lo = m.start[s * m.actions + a];
  const hi = m.start[s * m.actions + a + 1];
  let u = rng.next();
  for (let k = lo; k < hi - 1; k++) {
    u -= m.prob[k];
    if (u < 0) return k;
  }
  return hi - 1;
}

export function sampleInitial(m: Mdp, rng: Rng): number {
  let u = rng.next();
  for (let s = 0; s < m.states - 1; s++) {
    u -= m.initial[s];
    if (u < 0) return s;
  }
  return m.states - 1;
}
