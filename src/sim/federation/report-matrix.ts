/**
 * The round's report matrix, one column per reported entry and one row per reporter: entry e is column
 * mark[e] (−1: not reported this round), cols[k] is column k's entry, `columns` columns so far; row 0 is the
 * consensus, row i + 1 agent i. Column-major (cell (k, r) at k·R + r), as `ReportSet` takes it.
 */
export class ReportMatrix {
  /** Rows: the consensus and one per agent. */
  readonly R: number;
  readonly mark: Int32Array;
  readonly cols: Int32Array;
  /** Reported value, weight and fresh visits per cell. */
  readonly q: Float64Array;
  readonly w: Float64Array;
  readonly fresh: Float64Array;
  columns = 0;

  constructor(entries: number, agents: number) {
    this.R = agents + 1;
    this.mark = new Int32Array(entries).fill(-1);
    this.cols = new Int32Array(entries);
    this.q = new Float64Array(entries * this.R);
    this.w = new Float64Array(entries * this.R);
    this.fresh = new Float64Array(entries * this.R);
  }

  /** Entry e's column, opened (every weight 0) if e is not reported yet this round. */
  add(e: number): number {
    const R = this.R;
    if (this.mark[e] < 0) {
      const K = this.columns;
      this.mark[e] = K;
      this.cols[K] = e;
      for (let r = 0; r < R; r++) this.w[K * R + r] = 0;
      this.columns++;
    }
    return this.mark[e];
  }

  /** Agent i's report in column k. */
  put(i: number, k: number, q: number, w: number, fresh: number): void {
    const cell = k * this.R + i + 1;
    this.q[cell] = q;
    this.w[cell] = w;
    this.fresh[cell] = fresh;
  }
}
