/**
 * ρ, the normalised value of a greedy policy, and the run's checkpoints of it: every `checkEvery` episodes until
 * the honest agents' mean ρ first reaches 0.9, and at every checkpoint of the run's tail, whose mean is the ρ
 * reported.
 */
import type { Agent } from './agent.js';
import { greedyPolicy, type Mdp, policyValue, startValue } from './mdp.js';
import type { RunConfig, Solution } from './run-config.js';

/** ρ = (V^π(s₀) − V^random)/(V* − V^random) of the greedy policy of q. */
export function rhoOf(mdp: Mdp, sol: Solution, q: ArrayLike<number>): number {
  const v = startValue(mdp, policyValue(mdp, greedyPolicy(mdp, q), 1e-7));
  return (v - sol.vRandom) / (sol.vStar - sol.vRandom);
}

/**
 * The tail: checkpoints at most `TAIL` checkpoint periods before the episode budget, i.e. TAIL + 1 of them (the
 * budget's own and the five before it: the last 250 episodes on every MDP's default). Every table since
 * session 3 was measured this way; the comment used to say five.
 */
const TAIL = 5;

export class RhoCheckpoints {
  /** Mean honest episodes at the first checkpoint where the honest agents' mean ρ was ≥ 0.9. */
  episodesTo09: number | null = null;
  /** The honest agents' mean ρ at each checkpoint of the tail, in order (how much the policy jitters). */
  readonly tail: number[] = [];
  private readonly rhoSum: Float64Array;
  private tailChecks = 0;
  private nextCheck: number;
  private readonly polyak: number;
  private readonly averaged: Float64Array[];

  constructor(
    private readonly c: RunConfig,
    private readonly honest: readonly Agent[],
  ) {
    this.rhoSum = new Float64Array(honest.length);
    this.nextCheck = c.checkEvery;
    this.polyak = c.polyak ?? 0;
    this.averaged = this.polyak > 0 ? honest.map((h) => Float64Array.from(h.q)) : [];
  }

  /** After every round: each honest member's Polyak average moves towards its table (when measured on). */
  average(): void {
    const { averaged, honest, polyak } = this;
    for (let i = 0; i < averaged.length; i++) {
      const avg = averaged[i];
      const q = honest[i].q;
      for (let e = 0; e < avg.length; e++) avg[e] += polyak * (q[e] - avg[e]);
    }
  }

  /** A checkpoint if the honest agents' mean episodes `ep` passed the next one. */
  check(ep: number): void {
    const { c, honest } = this;
    if (ep < this.nextCheck) return;
    this.nextCheck += c.checkEvery;
    const inTail = ep >= c.episodes - TAIL * c.checkEvery;
    if (this.episodesTo09 !== null && !inTail) return;
    let m = 0;
    for (let i = 0; i < honest.length; i++) {
      const r = rhoOf(c.mdp, c.solution, this.measured(i));
      m += r;
      if (inTail) this.rhoSum[i] += r;
    }
    if (inTail) {
      this.tailChecks++;
      this.tail.push(m / honest.length);
    }
    if (this.episodesTo09 === null && m / honest.length >= 0.9) this.episodesTo09 = Math.round(ep);
  }

  /** Honest agent i's ρ, averaged over the last checkpoints (constant α keeps the greedy policy jittering). */
  final(i: number): number {
    return this.tailChecks > 0
      ? this.rhoSum[i] / this.tailChecks
      : rhoOf(this.c.mdp, this.c.solution, this.measured(i));
  }

  // The table ρ is measured on: the member's own, or its Polyak average.
  private measured(i: number): ArrayLike<number> {
    return this.polyak > 0 ? this.averaged[i] : this.honest[i].q;
  }
}
