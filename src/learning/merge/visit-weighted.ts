import type { MergeOutput, MergeParams, ReportSet } from './types.js';

/**
 * ADR-115's merge: q = Σ qᵢ·nᵢ / Σ nᵢ over the local table and the reports, n = Σ nᵢ. Exactly the ADR when
 * the weights are the claimed visit counts; not robust: one report claiming n = 2³²−1 owns the entry.
 */
export function visitWeighted(set: ReportSet, _p: MergeParams, out: MergeOutput): void {
  const R = set.reporters;
  for (let e = 0; e < set.entries; e++) {
    const base = e * R;
    let sw = 0;
    let sq = 0;
    for (let r = 0; r < R; r++) {
      const w = set.w[base + r];
      if (w > 0) {
        sw += w;
        sq += w * set.q[base + r];
      }
      if (out.used) out.used[base + r] = w > 0 ? w : 0;
    }
    out.w[e] = sw;
    out.q[e] = sw > 0 ? sq / sw : 0;
  }
}
