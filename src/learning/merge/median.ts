import { type MergeOutput, type MergeParams, type ReportSet, sortedRows } from './types.js';

/** Weighted coordinate-wise median: the value at which the cumulative weight first reaches half the mass. */
export function weightedMedian(set: ReportSet, _p: MergeParams, out: MergeOutput): void {
  const R = set.reporters;
  const rows = new Int32Array(R);
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
    let acc = 0;
    let v = set.q[base + rows[m - 1]];
    let kLo = v;
    let kHi = v;
    for (let i = 0; i < m; i++) {
      acc += set.w[base + rows[i]];
      if (acc >= total / 2) {
        v = set.q[base + rows[i]];
        kLo = kHi = v;
        // An exact split between two reports: average them (the usual convention).
        if (acc === total / 2 && i + 1 < m) {
          kHi = set.q[base + rows[i + 1]];
          v = (v + kHi) / 2;
        }
        break;
      }
    }
    out.q[e] = v;
    // The median rests on the report(s) it takes its value from (and ties with them): the others are trimmed.
    if (out.used) {
      for (let i = 0; i < m; i++) {
        const x = set.q[base + rows[i]];
        if (x >= kLo && x <= kHi) out.used[base + rows[i]] = set.w[base + rows[i]];
      }
    }
  }
}
