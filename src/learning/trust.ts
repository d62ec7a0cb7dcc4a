/**
 * Per-reporter trust across rounds (a reputation in the sense of the Byzantine-robust aggregation
 * literature). Per-entry rules cannot win where colluding attackers are a majority of one entry's reports in
 * one round, which they can arrange cheaply by concentrating plausible fresh visits on the entries honest
 * agents just reported. What they cannot hide is that, over many rounds and entries, their reports pull away
 * from the consensus harder than honest learning does.
 *
 * For each report of value q with k fresh visits on an entry whose consensus is g, the implied mean TD target
 * is t̂ = g + (q − g)/(1 − (1−α)^k): honest reports imply sampled Bellman targets of the consensus, poisoned or
 * reward-flipped ones imply targets far from it. Per round, each reporter's mean |t̂ − g| (weighted by its
 * capped weight) is divided by the median of that figure over the round's reporters (honest while attackers
 * are fewer than half the reporters), and smoothed over rounds. A reporter whose smoothed ratio exceeds
 * `lo` loses weight linearly until `hi`, where its weight is 0; it regains it as its ratio returns.
 *
 * The guarantee is statistical and bounded: an attacker that keeps its ratio under `lo` (reports close to
 * honest learning) keeps its weight but its push per round is then that of one honest learner with skewed
 * samples. Pure and deterministic.
 */
import type { ReportSet } from './merge/index.js';

export interface TrustOptions {
  /** Learning rate α of the members (turns a report into its implied target). */
  alpha: number;
  /** Weight of the newest round in the smoothed ratio (0 < smoothing ≤ 1). */
  smoothing: number;
  /** Smoothed ratio up to which a reporter keeps full weight. */
  lo: number;
  /** Smoothed ratio from which a reporter's weight is 0. */
  hi: number;
  /** Reporters needed in a round for it to score anyone (the median must rest on an honest majority). */
  minReporters: number;
  /**
   * Floor of the round's scale (target units; e.g. 0.1 × the reward range). With sparse rewards honest
   * reports imply targets equal to the consensus (median deviation 0), and a reporter learning on flipped
   * rewards must still stand out.
   */
  minScale: number;
}

export const DEFAULT_TRUST: TrustOptions = {
  alpha: 0.1,
  smoothing: 0.1,
  lo: 1.3,
  hi: 1.8,
  minReporters: 3,
  minScale: 0,
};

export class ReporterTrust {
  readonly options: TrustOptions;
  private readonly ratio = new Map<string, number>();
  private sum = new Float64Array(0);
  private mass = new Float64Array(0);
  private scratch = new Float64Array(0);

  constructor(options: Partial<TrustOptions> = {}) {
    this.options = { ...DEFAULT_TRUST, ...options };
  }

  /** Trust in [0, 1] of a reporter (1 for one never scored). */
  trustOf(id: string): number {
    const z = this.ratio.get(id);
    if (z === undefined) return 1;
    const { lo, hi } = this.options;
    return z <= lo ? 1 : z >= hi ? 0 : (hi - z) / (hi - lo);
  }

  /** The smoothed ratio of a reporter, or undefined before its first scored round. */
  ratioOf(id: string): number | undefined {
    return this.ratio.get(id);
  }

  /**
   * Scores one round. Row `set.self` holds the consensus g (its weight is ignored); `steps[cell]` the fresh
   * visits behind each report (same layout as `set.w`); `ids[r]` the reporter of row r.
   */
  observe(set: ReportSet, steps: ArrayLike<number>, ids: readonly string[]): void {
    const R = set.reporters;
    if (this.sum.length < R) {
      this.sum = new Float64Array(R);
      this.mass = new Float64Array(R);
      this.scratch = new Float64Array(R);
    }
    const { sum, mass } = this;
    sum.fill(0, 0, R);
    mass.fill(0, 0, R);
    const keepBase = 1 - this.options.alpha;
    for (let e = 0; e < set.entries; e++) {
      const base = e * R;
      const g = set.self >= 0 ? set.q[base + set.self] : 0;
      for (let r = 0; r < R; r++) {
        if (r === set.self) continue;
        const w = set.w[base + r];
        if (!(w > 0)) continue;
        const k = Math.max(1, steps[base + r]);
        const dev = Math.abs(set.q[base + r] - g) / (1 - keepBase ** k);
        sum[r] += w * dev;
        mass[r] += w;
      }
    }
    let m = 0;
    const per = this.scratch;
    for (let r = 0; r < R; r++) if (r !== set.self && mass[r] > 0) per[m++] = sum[r] / mass[r];
    if (m < this.options.minReporters) return;
    const sorted = per.subarray(0, m).sort();
    const med = Math.max(
      this.options.minScale,
      m % 2 ? sorted[m >> 1] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2,
    );
    if (!(med > 0)) return;
    const s = this.options.smoothing;
    for (let r = 0; r < R; r++) {
      if (r === set.self || !(mass[r] > 0)) continue;
      const x = sum[r] / mass[r] / med;
      const prev = this.ratio.get(ids[r]);
      this.ratio.set(ids[r], prev === undefined ? Math.min(x, this.options.lo) : (1 - s) * prev + s * x);
    }
  }

  /** Multiplies every report's weight by its reporter's trust (the `self` row is left as it is). */
  weigh(set: ReportSet, ids: readonly string[]): void {
    const R = set.reporters;
    for (let r = 0; r < R; r++) {
      if (r === set.self) continue;
      const t = this.trustOf(ids[r]);
      if (t === 1) continue;
      for (let e = 0; e < set.entries; e++) set.w[e * R + r] *= t;
    }
  }
}
