import type { MergeOutput, ReportSet } from './types.js';

/**
 * Positive-part James–Stein shrinkage of a round's decided moves towards the consensus (not a default: see
 * docs/federation-experiments.md, "Damping the aggregate").
 *
 * A robust rule decides each entry from the round's kept reports alone (a server step of 1): each report has
 * moved its entry a few TD steps of α from the consensus, so the decided move d = m − g carries the sampling
 * noise of a handful of reports, and with a constant α that noise sets the federation's ρ plateau. Treating
 * the round's moves as one vector estimate, James–Stein lowers the mean-squared error by shrinking it towards
 * the prior (the consensus) by the share of its length that noise explains:
 *
 *     c = max(floor, 1 − (p − 2) · σ² / Σ_e n_e d_e²),   g' = g + c · d
 *
 * with p the decided entries, n_e the kept reports of entry e and σ² the per-report variance pooled from the
 * spread of kept reports within entries. Shrinkage only moves a decision towards the consensus, so it adds no
 * way to poison an entry. Entries with `out.w[e] <= 0` are left alone. Returns c (1 when there is too little
 * to estimate σ²: fewer than 3 decided entries or no entry with two kept reports).
 *
 * @param consensus row of the report set that holds the current consensus (its weight is ignored)
 * @param used      kept weight per cell, as the rule filled `MergeOutput.used`
 */
export function shrinkTowardConsensus(
  set: ReportSet,
  consensus: number,
  out: MergeOutput,
  used: Float64Array,
  floor = 0,
): number {
  const R = set.reporters;
  let p = 0;
  let ss = 0;
  let dof = 0;
  let signal = 0;
  for (let e = 0; e < set.entries; e++) {
    if (!(out.w[e] > 0)) continue;
    const base = e * R;
    let n = 0;
    let mean = 0;
    for (let r = 0; r < R; r++) {
      if (r === consensus || !(used[base + r] > 0)) continue;
      n++;
      mean += (set.q[base + r] - mean) / n;
    }
    if (n === 0) continue;
    for (let r = 0; r < R; r++) {
      if (r === consensus || !(used[base + r] > 0)) continue;
      ss += (set.q[base + r] - mean) ** 2;
    }
    dof += n - 1;
    const d = out.q[e] - set.q[base + consensus];
    signal += n * d * d;
    p++;
  }
  if (p < 3 || dof === 0 || !(signal > 0)) return 1;
  const c = Math.min(1, Math.max(floor, 1 - ((p - 2) * (ss / dof)) / signal));
  if (c === 1) return 1;
  for (let e = 0; e < set.entries; e++) {
    if (!(out.w[e] > 0)) continue;
    const g = set.q[e * R + consensus];
    out.q[e] = g + c * (out.q[e] - g);
  }
  return c;
}
