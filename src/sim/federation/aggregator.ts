/**
 * The elected aggregator's decision of one round: the merge rule over the round's report matrix, behind reporter
 * trust (and optional shrinkage), and every learning member's adoption of the decided values.
 */
import { U32_MAX } from './agent.js';
import {
  type MergeOutput,
  type MergeParams,
  type MergeRule,
  newOutput,
  ReporterTrust,
  type ReportSet,
  ruleByName,
  shrinkTowardConsensus,
} from './deps.js';
import type { RunState } from './run-state.js';

export class Aggregator {
  private readonly rule: MergeRule;
  private readonly params: MergeParams;
  /** Reporter trust across rounds (robust rules only; `RunConfig.trust`). */
  private readonly trust: ReporterTrust | null;
  private readonly shrink: boolean;
  /**
   * `RunConfig.serverStep` H (robust rules only; 0 = off): the decided move is scaled by
   * η = min(1, α_n / α), α_n = H / (H + (1 − γ)·n), n the entry's kept visits before the round.
   */
  private readonly serverStep: number;
  private readonly alpha: number;
  private readonly oneMinusGamma: number;
  private readonly rowIds: string[];
  private readonly out: MergeOutput;
  private readonly usedW: Float64Array;

  constructor(run: RunState) {
    const { c, mdp, learning, matrix } = run;
    const SA = run.global.length;
    this.rule = ruleByName(c.rule);
    this.params = {
      beta: c.beta,
      f: c.byzantine,
      clipRadius: learning.alpha * (mdp.rMax - mdp.rMin),
      bounds: run.bounds,
    };
    this.trust =
      !run.plain && c.trust
        ? new ReporterTrust({
            ...c.trustOptions,
            alpha: learning.alpha,
            minScale: 0.1 * (mdp.rMax - mdp.rMin),
          })
        : null;
    this.shrink = !run.plain && c.shrink === true;
    this.serverStep = !run.plain && c.serverStep !== undefined ? c.serverStep : 0;
    this.alpha = learning.alpha;
    this.oneMinusGamma = 1 - learning.gamma;
    this.rowIds = ['consensus', ...run.agents.map((_, i) => `agent-${i}`)];
    this.out = newOutput(SA);
    this.usedW = new Float64Array(SA * matrix.R);
  }

  /** Agent i's final smoothed trust ratio (null: never scored, or trust off). */
  trustRatio(i: number): number | null {
    return this.trust?.ratioOf(`agent-${i}`) ?? null;
  }

  /**
   * The rule decides every reported entry, behind reporter trust, and every member adopts the decision; an
   * entry with nothing kept is restated (`FederatedQTable`'s `restateUndecided`).
   */
  decide(run: RunState): void {
    const { agents, bounds, global, globalN, matrix, plain } = run;
    const { R, cols, mark } = matrix;
    const K = matrix.columns;
    // Row 0: the consensus so far (ADR-115's local table: weighted by its visits under the plain rule; the
    // centre of clipping otherwise, with no weight of its own).
    for (let k = 0; k < K; k++) {
      const e = cols[k];
      matrix.q[k * R] = global[e];
      matrix.w[k * R] = plain ? globalN[e] : 0;
    }
    const set: ReportSet = {
      entries: K,
      reporters: R,
      q: matrix.q.subarray(0, K * R),
      w: matrix.w.subarray(0, K * R),
      self: 0,
    };
    if (this.trust) {
      this.trust.observe(set, matrix.fresh, this.rowIds);
      this.trust.weigh(set, this.rowIds);
    }
    const used = this.usedW.subarray(0, K * R);
    used.set(set.w);
    const o = { q: this.out.q.subarray(0, K), w: this.out.w.subarray(0, K), used };
    this.rule(set, this.params, o);
    if (this.shrink) shrinkTowardConsensus(set, 0, o, used);
    for (let k = 0; k < K; k++) {
      const e = cols[k];
      mark[e] = -1;
      const v = o.q[k];
      if (o.w[k] > 0 && !Number.isFinite(v)) run.nonFinite++;
      if (!(o.w[k] > 0) || !Number.isFinite(v)) {
        // Nothing kept: the aggregate restates the consensus, so a member whose report was dropped does not
        // drift from it.
        for (const ag of agents) if (ag.learns) ag.q[e] = global[e];
        continue;
      }
      let d = v;
      if (this.serverStep > 0) {
        // The rescaled linear step of asynchronous Q-learning (Wainwright 2019; Li et al. 2021), per entry,
        // on the aggregator's own count of kept visits: the full decided move until n ≈ H·(1/α − 1)/(1 − γ).
        const H = this.serverStep;
        const eta = Math.min(1, H / (H + this.oneMinusGamma * globalN[e]) / this.alpha);
        if (eta < 1) d = global[e] + eta * (v - global[e]);
      }
      global[e] = Math.fround(Math.max(bounds.min, Math.min(bounds.max, d)));
      // Visits behind the decided value: only the reports the rule kept.
      let n = plain ? 0 : globalN[e];
      for (let r = plain ? 0 : 1; r < R; r++) n += used[k * R + r];
      globalN[e] = Math.min(U32_MAX, n);
      // Every member adopts the aggregate for the decided entries.
      for (const ag of agents) {
        if (!ag.learns) continue;
        ag.q[e] = global[e];
        ag.visits[e] = globalN[e];
      }
    }
  }
}
