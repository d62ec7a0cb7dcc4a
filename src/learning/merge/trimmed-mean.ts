import { type MergeOutput, type MergeParams, type ReportSet, sortedRows } from './types.js';

/**
 * Weighted coordinate-wise trimmed mean: per entry, sort the reports by value, remove β of the weight mass
 * from each end (splitting a boundary report's weight when needed), and average the rest by weight. With
 * capped weights and β ≥ (Byzantine weight share), extreme poisoned values are trimmed away.
 */
export function trimmedMean(set: ReportSet, p: MergeParams, out: MergeOutput): void {
  const R = set.reporters;
  const rows = new Int32Array(R);
  const beta = Math.min(0.49, Math.max(0, p.beta));
  for (let e = 0; e < set.entries; e++) {
    const base = e * R;
    const m = sortedRows(set, e, rows);
    let total = 0;
    for (let i = 0; i < m; i++) total += set.w[base + rows[i]];
    out.w[e] = total;
    if (out.used) for (let r = 0; r < R; r++) out.used[base + r] = 0;
    if (m === 0) {
      out.q[e] = 0;
      continue;
    }
    const lo = beta * total;
    const hi = total - beta * total;
    let acc = 0;
    let sw = 0;
    let sq = 0;
    let kLo = Infinity;
    let kHi = -Infinity;
    for (let i = 0; i < m; i++) {
      const w = set.w[base + rows[i]];
      const a = Math.max(acc, lo);
      const b = Math.min(acc + w, hi);
      if (b > a) {
        const v = set.q[base + rows[i]];
        sw += b - a;
        sq += (b - a) * v;
        if (v < kLo) kLo = v;
        if (v > kHi) kHi = v;
      }
      acc += w;
    }
    out.q[e] = sw > 0 ? sq / sw : set.q[base + rows[m >> 1]];
    if (sw === 0) kLo = kHi = out.q[e];
    // A report is kept when its value lies in the kept range (ties with a kept value are not trimmed).
    if (out.used) {
      for (let i = 0; i < m; i++) {
        const v = set.q[base + rows[i]];
        if (v >= kLo && v <= kHi) out.used[base + rows[i]] = set.w[base + rows[i]];
      }
    }
  }
}
