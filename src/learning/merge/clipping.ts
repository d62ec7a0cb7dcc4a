import { weightedMedian } from './median.js';
import type { MergeOutput, MergeParams, ReportSet } from './types.js';

/**
 * Self-centred clipping (ClippedGossip, He, Karimireddy & Jaggi 2022): around the local value c,
 * q = c + Σ (wᵢ/W) · clip(qᵢ − c, τ). No report moves an entry by more than τ·(its weight share) per
 * round, whatever it claims. Without a local row (an aggregator) the centre is the weighted median.
 */
export function selfCentredClipping(set: ReportSet, p: MergeParams, out: MergeOutput): void {
  const R = set.reporters;
  const tau = p.clipRadius;
  let centre: Float64Array | null = null;
  if (set.self < 0) {
    const med = { q: new Float64Array(set.entries), w: new Float64Array(set.entries) };
    weightedMedian(set, p, med);
    centre = med.q;
  }
  for (let e = 0; e < set.entries; e++) {
    const base = e * R;
    let total = 0;
    for (let r = 0; r < R; r++) if (set.w[base + r] > 0) total += set.w[base + r];
    out.w[e] = total;
    if (out.used) for (let r = 0; r < R; r++) out.used[base + r] = 0;
    if (total === 0) {
      out.q[e] = 0;
      continue;
    }
    const c = centre ? centre[e] : set.q[base + set.self];
    let move = 0;
    for (let r = 0; r < R; r++) {
      const w = set.w[base + r];
      if (!(w > 0)) continue;
      const d = set.q[base + r] - c;
      move += (w / total) * (d > tau ? tau : Math.max(d, -tau));
      // A clipped report moves the entry by τ/|d| of its pull: only that fraction of its weight is kept.
      if (out.used) out.used[base + r] = Math.abs(d) > tau ? (w * tau) / Math.abs(d) : w;
    }
    out.q[e] = c + move;
  }
}
