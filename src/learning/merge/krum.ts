import { weightedMedian } from './median.js';
import type { MergeOutput, MergeParams, ReportSet } from './types.js';

/**
 * Krum and multi-Krum (Blanchard et al. 2017) over tables: each reporter's vector covers the set's entries,
 * an unreported entry filled with the local value (or the weighted median without a local row). A reporter's
 * score is the sum of squared distances to its n − f − 2 nearest others; Krum adopts the best-scored
 * vector, multi-Krum averages the m = n − f best by weight. Whole-vector selection ignores per-entry
 * visit information, which is why it is here for comparison only.
 */
function fill(set: ReportSet, p: MergeParams): Float64Array {
  const R = set.reporters;
  const K = set.entries;
  const filled = new Float64Array(K * R);
  let centre: Float64Array | null = null;
  if (set.self < 0) {
    const med = { q: new Float64Array(K), w: new Float64Array(K) };
    weightedMedian(set, p, med);
    centre = med.q;
  }
  for (let e = 0; e < K; e++) {
    const base = e * R;
    const c = centre ? centre[e] : set.q[base + set.self];
    for (let r = 0; r < R; r++) filled[base + r] = set.w[base + r] > 0 ? set.q[base + r] : c;
  }
  return filled;
}

function scores(set: ReportSet, p: MergeParams, filled: Float64Array, active: number[]): Float64Array {
  const R = set.reporters;
  const K = set.entries;
  const n = active.length;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      const a = active[i];
      const b = active[j];
      for (let e = 0; e < K; e++) {
        const x = filled[e * R + a] - filled[e * R + b];
        s += x * x;
      }
      d[i * n + j] = s;
      d[j * n + i] = s;
    }
  }
  const nearest = Math.max(1, n - Math.floor(p.f) - 2);
  const out = new Float64Array(n);
  const row: number[] = [];
  for (let i = 0; i < n; i++) {
    row.length = 0;
    for (let j = 0; j < n; j++) if (j !== i) row.push(d[i * n + j]);
    row.sort((x, y) => x - y);
    let s = 0;
    for (let k = 0; k < Math.min(nearest, row.length); k++) s += row[k];
    out[i] = s;
  }
  return out;
}

function activeRows(set: ReportSet): number[] {
  const R = set.reporters;
  const active: number[] = [];
  for (let r = 0; r < R; r++) {
    for (let e = 0; e < set.entries; e++) {
      if (set.w[e * R + r] > 0) {
        active.push(r);
        break;
      }
    }
  }
  if (set.self >= 0 && !active.includes(set.self)) active.push(set.self);
  return active;
}

function hasWeight(set: ReportSet, r: number): boolean {
  for (let e = 0; e < set.entries; e++) if (set.w[e * set.reporters + r] > 0) return true;
  return false;
}

function select(set: ReportSet, p: MergeParams, out: MergeOutput, m: number): void {
  const R = set.reporters;
  const filled = fill(set, p);
  const active = activeRows(set);
  const sc = scores(set, p, filled, active);
  const order = active.map((_, i) => i).sort((a, b) => sc[a] - sc[b] || active[a] - active[b]);
  const chosen = order.slice(0, Math.max(1, Math.min(m, order.length))).map((i) => active[i]);
  // The local row is a candidate even where it weighs nothing (an aggregator without fresh visits of its
  // own), and filled with the centre it sits amid every reporter's vector. Weightless it is no report:
  // adopted alone it decided nothing, and under Krum the table never moved. The best-scored row with
  // weight is adopted instead (every other candidate has weight).
  if (chosen.length === 1 && chosen[0] === set.self && !hasWeight(set, set.self)) {
    for (const i of order) {
      if (active[i] !== set.self) {
        chosen[0] = active[i];
        break;
      }
    }
  }
  for (let e = 0; e < set.entries; e++) {
    const base = e * R;
    let sw = 0;
    let sq = 0;
    let total = 0;
    if (out.used) {
      // Only the selected reporters' reports are behind the decision.
      for (let r = 0; r < R; r++) out.used[base + r] = 0;
      for (const r of chosen) out.used[base + r] = set.w[base + r] > 0 ? set.w[base + r] : 0;
    }
    for (const r of chosen) {
      const w = set.w[base + r];
      total += w;
      sw += Math.max(w, 0);
      sq += w > 0 ? w * filled[base + r] : 0;
    }
    // Chosen reporters that did not report e contribute the fill value with unit weight.
    if (sw === 0) {
      let s = 0;
      for (const r of chosen) s += filled[base + r];
      out.q[e] = s / chosen.length;
      out.w[e] = 0;
    } else {
      out.q[e] = sq / sw;
      out.w[e] = total;
    }
  }
}

export function krum(set: ReportSet, p: MergeParams, out: MergeOutput): void {
  select(set, p, out, 1);
}

export function multiKrum(set: ReportSet, p: MergeParams, out: MergeOutput): void {
  select(set, p, out, set.reporters - Math.floor(p.f));
}
