/**
 * Applies a merge rule to a `QTable` from validated deltas. Builds the columnar report set (row 0 = the local
 * table), runs the rule, clamps to the Q bounds and writes back. Two weightings:
 *
 * - `claimed`: ADR-115 exactly. Weights are the visit counts as claimed (local and peers); n = Σ n.
 * - `fresh`:   a peer's weight is its fresh visits (own interactions since its previous sync), capped at
 *              `cap`; the local row weighs `anchor` when the entry exists locally: a constant, or per entry
 *              (the local table's own fresh visits, capped like a peer's). Lifetime totals are
 *              never trusted: n = n_local + Σ fresh weight of the reports the rule kept (`MergeOutput.used`;
 *              a report the robust rule trimmed or trust rejected adds nothing).
 */
import { ElexError } from '../core/index.js';
import type { Delta } from './delta-codec.js';
import { countConflicts, type MergeParams, type MergeRule, type ReportSet } from './merge/index.js';
import type { QTable } from './q-table.js';
import { mergeVisitWeighted } from './slot-order.js';
import type { ReporterTrust } from './trust.js';

const U32_MAX = 0xffffffff;

export type Weighting =
  | { kind: 'claimed' }
  | { kind: 'fresh'; cap: number; anchor: number | ReadonlyMap<number, number> };

export interface TableMergeOptions {
  rule: MergeRule;
  params: MergeParams;
  weighting: Weighting;
  /** Reports further apart than this count as a conflict the rule decided. */
  tolerance: number;
  /**
   * Reputation across rounds (robust weightings only): scores this round's reporters (by delta origin)
   * against the local table and scales their weights by their trust before the rule runs.
   */
  trust?: ReporterTrust;
  /**
   * Called for every decided entry and every delta whose report the rule kept there, with the table entry,
   * the delta's index in `deltas` and the kept weight (after trust). A peer-to-peer member uses it to relay
   * the weight behind entries it adopted (see `FederatedQTable`).
   */
  onKept?: (entry: number, delta: number, weight: number) => void;
  /**
   * An entry the deltas reported but the rule kept nothing of (every report trimmed, or its reporters
   * distrusted) keeps its value under a new version, so the next delta built from the table (an aggregate)
   * restates it. Without this a member whose reports are dropped keeps learning on its own value, drifts
   * from the consensus, looks ever more deviant to reporter trust and ends refused as unreachable (in the
   * simulation: every honest member distrusted, stale replayers trusted, ρ 0.93 → 0.30).
   */
  restateUndecided?: boolean;
}

export interface TableMergeResult {
  entries: number;
  changed: number;
  conflicts: number;
}

/** Reusable scratch so repeated merges do not allocate per call beyond growth. */
export class MergeWorkspace {
  mark = new Int32Array(0);
  cols = new Int32Array(0);
  q = new Float64Array(0);
  w = new Float64Array(0);
  steps = new Float64Array(0);
  used = new Float64Array(0);
  outQ = new Float64Array(0);
  outW = new Float64Array(0);

  ensure(tableSize: number, cells: number, entries: number): void {
    if (this.mark.length < tableSize) {
      const m = new Int32Array(Math.max(tableSize, this.mark.length * 2)).fill(-1);
      this.mark = m;
    }
    if (this.q.length < cells) {
      this.q = new Float64Array(Math.max(cells, this.q.length * 2));
      this.w = new Float64Array(this.q.length);
      this.steps = new Float64Array(this.q.length);
      this.used = new Float64Array(this.q.length);
    }
    if (this.cols.length < entries) {
      this.cols = new Int32Array(Math.max(entries, this.cols.length * 2));
      this.outQ = new Float64Array(this.cols.length);
      this.outW = new Float64Array(this.cols.length);
    }
  }
}

export function mergeDeltasIntoTable(
  table: QTable,
  deltas: readonly Delta[],
  opts: TableMergeOptions,
  ws = new MergeWorkspace(),
): TableMergeResult {
  const R = deltas.length + 1;
  let upper = 0;
  for (const d of deltas) upper += d.count;
  // Pass 1: map every reported key to a table entry (inserting) and to a column.
  const rows: Int32Array[] = [];
  const before = table.size;
  for (const d of deltas) {
    rows.push(table.locate(d.hi, d.lo, d.action, d.count, new Int32Array(d.count), true));
  }
  ws.ensure(table.size, 0, upper);
  const { mark, cols } = ws;
  let K = 0;
  for (const ix of rows) {
    for (let i = 0; i < ix.length; i++) {
      const e = ix[i];
      if (mark[e] < 0) {
        mark[e] = K;
        cols[K++] = e;
      }
    }
  }
  // The report columns are sized by the distinct entries: by Σ counts, 30 members reporting the same 5,000
  // entries took 150,000 × 31 cells per column (about 149 MB) where 5,000 × 31 are read.
  ws.ensure(table.size, K * R, K);
  const q = ws.q.subarray(0, K * R);
  const w = ws.w.subarray(0, K * R);
  w.fill(0);
  const claimed = opts.weighting.kind === 'claimed';
  const cap = opts.weighting.kind === 'fresh' ? opts.weighting.cap : 0;
  const anchor = opts.weighting.kind === 'fresh' ? opts.weighting.anchor : 0;
  for (let k = 0; k < K; k++) {
    const e = cols[k];
    q[k * R] = table.q[e];
    const exists = e < before && (table.visits[e] > 0 || table.version[e] > 0);
    const own = typeof anchor === 'number' ? anchor : Math.min(cap, anchor.get(e) ?? 0);
    w[k * R] = claimed ? table.visits[e] : exists ? own : 0;
  }
  for (let r = 1; r < R; r++) {
    const d = deltas[r - 1];
    const ix = rows[r - 1];
    for (let i = 0; i < d.count; i++) {
      const cell = mark[ix[i]] * R + r;
      q[cell] = d.q[i];
      w[cell] = claimed ? d.visits[i] : Math.min(cap, d.fresh[i]);
    }
  }
  const set: ReportSet = { entries: K, reporters: R, q, w, self: 0 };
  if (opts.trust && !claimed) {
    const steps = ws.steps.subarray(0, K * R);
    steps.fill(0);
    for (let r = 1; r < R; r++) {
      const d = deltas[r - 1];
      const ix = rows[r - 1];
      for (let i = 0; i < d.count; i++) steps[mark[ix[i]] * R + r] = d.fresh[i];
    }
    const ids = ['', ...deltas.map((d) => d.origin)];
    opts.trust.observe(set, steps, ids);
    opts.trust.weigh(set, ids);
  }
  // `used`: per report, the weight the rule kept (trimmed or rejected reports keep none).
  const used = ws.used.subarray(0, K * R);
  used.set(w);
  const out = { q: ws.outQ.subarray(0, K), w: ws.outW.subarray(0, K), used };
  opts.rule(set, opts.params, out);
  const conflicts = countConflicts(set, opts.tolerance);
  const { min, max } = opts.params.bounds;
  let changed = 0;
  for (let k = 0; k < K; k++) {
    const e = cols[k];
    mark[e] = -1;
    const v = out.q[k];
    if (!(out.w[k] > 0) || !Number.isFinite(v)) {
      if (opts.restateUndecided) table.write(e, table.q[e], table.visits[e]);
      continue;
    }
    let n: number;
    if (claimed) {
      n = 0;
      for (let r = 0; r < R; r++) n += w[k * R + r];
    } else {
      // Only the samples behind the decided value: reports the rule trimmed or rejected add nothing.
      n = table.visits[e];
      for (let r = 1; r < R; r++) n += used[k * R + r];
    }
    if (opts.onKept)
      for (let r = 1; r < R; r++) if (used[k * R + r] > 0) opts.onKept(e, r - 1, used[k * R + r]);
    const clamped = v < min ? min : Math.min(v, max);
    if (clamped !== table.q[e] || n !== table.visits[e]) changed++;
    table.write(e, clamped, Math.min(n, U32_MAX));
  }
  return { entries: K, changed, conflicts };
}

/**
 * ADR-115's merge of one peer delta, on the hot path without the report-set machinery:
 * q = (q_l·n_l + q_p·n_p)/(n_l + n_p), n = n_l + n_p (saturating at 2³²−1). Large deltas in any key order
 * are merged in streaming passes (slot-order.ts), with the same result as the per-key merge.
 */
export function mergeVisitWeightedInto(table: QTable, d: Delta): number {
  // The two paths read short columns differently (NaN vs 0): refuse a delta the decoder could never build.
  const short = (['hi', 'lo', 'action', 'q', 'visits', 'fresh'] as const).find((c) => d[c].length < d.count);
  if (short !== undefined) {
    throw new ElexError(
      'E_DELTA',
      `delta column '${short}' has ${d[short].length} values for ${d.count} entries`,
    );
  }
  return mergeVisitWeighted(table, d);
}
