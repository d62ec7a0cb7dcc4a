import type { QBounds } from '../reward.js';

/**
 * Reports about K entries from R reporters, columnar and entry-major: reporter r's value for entry e is
 * `q[e * reporters + r]` with weight `w[e * reporters + r]` (0 = r did not report e). Weights are already
 * validated and capped by the caller: rules never see a peer's claimed lifetime visit total unless the
 * caller chose the plain ADR-115 weighting.
 */
export interface ReportSet {
  entries: number;
  reporters: number;
  q: Float64Array;
  w: Float64Array;
  /** Row of the local table (self-centred rules clip around it), or −1 for a pure aggregator. */
  self: number;
}

export interface MergeParams {
  /** Fraction of weight mass trimmed from each end (β ≥ f/n). */
  beta: number;
  /** Assumed number of Byzantine reporters (Krum's f). */
  f: number;
  /** Radius of self-centred clipping, in Q units. */
  clipRadius: number;
  bounds: QBounds;
}

/** Output per entry: the decided value and the weight mass it rests on (0 = no decision, keep the old). */
export interface MergeOutput {
  q: Float64Array;
  w: Float64Array;
  /**
   * Optional, per cell (the layout of `ReportSet.w`): the weight of each report the decision kept, 0 for a
   * report the rule trimmed or rejected. Rules fill it when present; callers add only kept weight to an
   * entry's visit count (a trimmed report's samples are not behind the decided value).
   */
  used?: Float64Array;
}

/** Every merge rule has this signature: pure over its inputs, writes `out`, allocates only scratch. */
export type MergeRule = (set: ReportSet, params: MergeParams, out: MergeOutput) => void;

export function newOutput(entries: number): MergeOutput {
  return { q: new Float64Array(entries), w: new Float64Array(entries) };
}

/** Entries whose reported values (weight > 0) span more than `tolerance`. */
export function countConflicts(set: ReportSet, tolerance: number): number {
  const R = set.reporters;
  let n = 0;
  for (let e = 0; e < set.entries; e++) {
    let lo = Infinity;
    let hi = -Infinity;
    const base = e * R;
    for (let r = 0; r < R; r++) {
      if (set.w[base + r] > 0) {
        const v = set.q[base + r];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (hi - lo > tolerance) n++;
  }
  return n;
}

/** Reporter rows of entry e with weight > 0, sorted by value (insertion sort: R is small). */
export function sortedRows(set: ReportSet, e: number, scratch: Int32Array): number {
  const R = set.reporters;
  const base = e * R;
  let m = 0;
  for (let r = 0; r < R; r++) {
    if (!(set.w[base + r] > 0)) continue;
    const v = set.q[base + r];
    let i = m++;
    while (i > 0 && set.q[base + scratch[i - 1]] > v) {
      scratch[i] = scratch[i - 1];
      i--;
    }
    scratch[i] = r;
  }
  return m;
}
