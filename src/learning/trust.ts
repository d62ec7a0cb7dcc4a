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
import { sortByKey, sortPrefix } from './small-sort.js';

export interface TrustOptions {
  /** Learning rate α of the members (turns a report into its implied target). */
  alpha: number;
  /** Weight of the newest round in the smoothed ratio when it raises it (0 < smoothing ≤ 1). */
  smoothing: number;
  /**
   * Weight of the newest round when it lowers the smoothed ratio (0 < forgiveness ≤ smoothing): trust is
   * lost fast and regained slowly. With one rate (0.1 both ways) an attacker pushing half as hard as the
   * TD-reachability check allows (visit-inflation-quiet) spent rounds with a low ratio whenever its targets
   * gave it little to push (e.g. optimal actions already at the bottom of the range), was forgiven within
   * a few rounds (smoothed ratio swinging 0.9–7), and kept pushing: FrozenLake 10/3 ρ 0.611 / 0.305; with
   * 0.03 down, 0.874 / 0.821.
   */
  forgiveness: number;
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
  /**
   * What a report's implied target is compared with. `consensus`: the consensus value g of the entry.
   * `peers`: the median of the implied targets of the entry's reporters this round when at least
   * `minReporters` reported it (g otherwise). Comparing with the peers removes the error the consensus
   * still has (common to every honest reporter of the entry), leaving sampling noise against the bias of
   * a reporter learning on other rewards, but colluding attackers that are the majority of an entry's
   * reporters set its peers' median. `both`: a reporter's ratio is the larger of the two tests' ratios
   * (each against its own round median), so poisoners (far from the consensus) and reward flippers (far
   * from their peers) are both flagged.
   */
  reference: 'consensus' | 'peers' | 'both';
  /**
   * A reporter's deviation in a round: the weighted `mean` of its reports' |t̂ − reference|, or their
   * weighted `median`. Sampled targets are heavy-tailed (a rare termination or jump moves one target far),
   * which the median ignores, while a biased learner (flipped rewards) deviates on most of its reports.
   * `mixed`: the mean against the consensus (a poisoner pushing a few entries hard stands out) and the
   * median against the peers (a reward flipper deviating a little on most entries stands out).
   */
  statistic: 'mean' | 'median' | 'mixed';
  /**
   * A reporter's first scored round: `trusted` starts its smoothed ratio at min(ratio, lo) (full weight
   * until the smoothing catches up); `scored` starts it at the round's ratio, so a reporter that deviates
   * from its first round on has no grace period (damage done early, e.g. an optimal action pushed down
   * and then never explored again, can outlast the attacker's weight). `averaged` (default): the smoothed
   * ratio starts as the mean of `newcomerRounds` pseudo-rounds at 1 (the round's median reporter) and the
   * rounds scored so far, until that mean's weight falls to `smoothing` (the bias-corrected start of an
   * EWMA): a reporter that pulls hard from its first round is distrusted within a round or two, while one
   * unlucky honest round is diluted by the prior (with one pseudo-round honest reporters lost weight often
   * enough to slow the honest elex-query federation from 92 to 112 episodes to ρ 0.9; with three, 93).
   */
  newcomer: 'trusted' | 'scored' | 'averaged';
  /** Pseudo-rounds at ratio 1 that start an `averaged` newcomer's smoothed ratio. */
  newcomerRounds: number;
}

export const DEFAULT_TRUST: TrustOptions = {
  alpha: 0.1,
  smoothing: 0.1,
  forgiveness: 0.03,
  lo: 1.3,
  hi: 1.8,
  minReporters: 3,
  minScale: 0,
  reference: 'both',
  statistic: 'mixed',
  newcomer: 'averaged',
  newcomerRounds: 3,
};

export class ReporterTrust {
  readonly options: TrustOptions;
  private readonly ratio = new Map<string, number>();
  /** Rounds scored per reporter, while an `averaged` newcomer's prior still weighs more than `smoothing`. */
  private readonly scoredRounds = new Map<string, number>();
  private sum = new Float64Array(0);
  private mass = new Float64Array(0);
  private scratch = new Float64Array(0);
  private targets = new Float64Array(0);
  private order = new Float64Array(0);
  private devC = new Float64Array(0);
  private devP = new Float64Array(0);
  private ratioC = new Float64Array(0);
  private ratioP = new Float64Array(0);
  private cellOrder: number[] = [];
  private voice = new Uint8Array(0);
  /**
   * The round's reports, listed once so later passes touch reports, not the whole entries × reporters matrix
   * (a member reports a few of the round's entries): row r's cells in entry order at
   * `rowCells[r·entries …]`, `rowCount[r]` of them; entry e's reporting rows in row order at
   * `entryRows[e·R …]`, `entryCount[e]` of them.
   */
  private rowCells = new Int32Array(0);
  private rowCount = new Int32Array(0);
  private entryRows = new Int32Array(0);
  private entryCount = new Int32Array(0);
  /** (1 − α)^k for the usual fresh-visit counts k, from the same `**` as any other k. */
  private readonly keep = new Float64Array(64);

  constructor(options: Partial<TrustOptions> = {}) {
    this.options = { ...DEFAULT_TRUST, ...options };
    for (let k = 0; k < this.keep.length; k++) this.keep[k] = (1 - this.options.alpha) ** k;
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
    this.ensureCapacity(R, set.entries);
    this.indexReports(set);
    this.chooseVoices(set, ids);
    this.deviations(set, steps);
    let scored = 0;
    for (let r = 0; r < R; r++) if (r !== set.self && this.mass[r] > 0) scored++;
    if (scored < this.options.minReporters) return;
    const stat = this.options.statistic;
    const ref = this.options.reference;
    const okC = ref !== 'peers' && this.ratios(set, this.devC, this.ratioC, stat === 'median', false);
    const okP = ref !== 'consensus' && this.ratios(set, this.devP, this.ratioP, stat !== 'mean', true);
    if (!okC && !okP) return;
    this.smooth(set, ids, okC, okP);
  }

  /** Grows the scratch arrays for R reporters over `entries` entries (never shrinks them). */
  private ensureCapacity(R: number, entries: number): void {
    const cells = entries * R;
    if (this.sum.length < R) {
      this.sum = new Float64Array(R);
      this.mass = new Float64Array(R);
      this.scratch = new Float64Array(R);
      this.targets = new Float64Array(R);
      this.order = new Float64Array(R);
      this.ratioC = new Float64Array(R);
      this.ratioP = new Float64Array(R);
    }
    if (this.devC.length < cells) {
      this.devC = new Float64Array(Math.max(cells, this.devC.length * 2));
      this.devP = new Float64Array(this.devC.length);
      this.rowCells = new Int32Array(this.devC.length);
      this.entryRows = new Int32Array(this.devC.length);
    }
    if (this.rowCount.length < R) this.rowCount = new Int32Array(R);
    if (this.entryCount.length < entries)
      this.entryCount = new Int32Array(Math.max(entries, this.entryCount.length * 2));
  }

  /** Each row's weight this round (`mass`, 0: the row reports nothing), and the lists of reports. */
  private indexReports(set: ReportSet): void {
    const R = set.reporters;
    const E = set.entries;
    const { mass, rowCells, rowCount, entryRows, entryCount } = this;
    mass.fill(0, 0, R);
    rowCount.fill(0, 0, R);
    for (let e = 0; e < E; e++) {
      let m = 0;
      for (let r = 0; r < R; r++) {
        const w = set.w[e * R + r];
        if (r === set.self || !(w > 0)) continue;
        mass[r] += w;
        rowCells[r * E + rowCount[r]++] = e * R + r;
        entryRows[e * R + m++] = r;
      }
      entryCount[e] = m;
    }
  }

  /**
   * Reporters distrusted so far neither shape the peers' median nor the peers test's scale: colluders
   * that are the majority of an entry's reporters would otherwise make honest reports there look deviant.
   */
  private chooseVoices(set: ReportSet, ids: readonly string[]): void {
    const R = set.reporters;
    const voice = this.voice.length >= R ? this.voice : new Uint8Array(R);
    this.voice = voice;
    // Only rows that report this round count towards the quorum: a silent row (a member whose delta was
    // refused) is never scored, so fully trusted, and counting it kept distrusted reporters unheard where too
    // few trusted ones reported (a refused attacker changed honest scores on the random MDP).
    let voices = 0;
    for (let r = 0; r < R; r++) {
      voice[r] = r !== set.self && this.trustOf(ids[r]) >= 0.5 ? 1 : 0;
      if (voice[r] && this.mass[r] > 0) voices++;
    }
    if (voices < this.options.minReporters) for (let r = 0; r < R; r++) voice[r] = r === set.self ? 0 : 1;
  }

  /** Per report, |t̂ − g| (`devC`) and |t̂ − the voiced peers' median target| (`devP`). */
  private deviations(set: ReportSet, steps: ArrayLike<number>): void {
    const R = set.reporters;
    const E = set.entries;
    const { keep, targets, order, devC, devP, entryRows, entryCount, voice } = this;
    const keepBase = 1 - this.options.alpha;
    const ref = this.options.reference;
    for (let e = 0; e < E; e++) {
      const base = e * R;
      const g = set.self >= 0 ? set.q[base + set.self] : 0;
      const rows = entryCount[e];
      // Implied mean TD targets, as deviations from g.
      let n = 0;
      for (let i = 0; i < rows; i++) {
        const r = entryRows[base + i];
        const k = Math.max(1, steps[base + r]);
        const kk = k < keep.length && Number.isInteger(k) ? keep[k] : keepBase ** k;
        targets[r] = (set.q[base + r] - g) / (1 - kk);
        if (voice[r]) order[n++] = targets[r];
      }
      // The peers' median target (the consensus when too few reported the entry).
      let peer = 0;
      if (ref !== 'consensus' && n >= this.options.minReporters) {
        sortPrefix(order, n);
        peer = n % 2 ? order[n >> 1] : (order[n / 2 - 1] + order[n / 2]) / 2;
      }
      for (let i = 0; i < rows; i++) {
        const r = entryRows[base + i];
        devC[base + r] = Math.abs(targets[r]);
        devP[base + r] = Math.abs(targets[r] - peer);
      }
    }
  }

  /** Folds the round's ratios into each scored reporter's smoothed ratio. */
  private smooth(set: ReportSet, ids: readonly string[], okC: boolean, okP: boolean): void {
    const s = this.options.smoothing;
    for (let r = 0; r < set.reporters; r++) {
      if (r === set.self || !(this.mass[r] > 0)) continue;
      // Either test flags a reporter: the larger ratio counts.
      const x = Math.max(okC ? this.ratioC[r] : 0, okP ? this.ratioP[r] : 0);
      const id = ids[r];
      const prev = this.ratio.get(id);
      const warming = this.scoredRounds.get(id);
      if (this.options.newcomer === 'averaged' && (prev === undefined || warming !== undefined)) {
        const n = (warming ?? 0) + 1;
        const w = Math.max(s, 1 / (n + this.options.newcomerRounds));
        if (w > s) this.scoredRounds.set(id, n);
        else this.scoredRounds.delete(id);
        this.ratio.set(id, (1 - w) * (prev ?? 1) + w * x);
        continue;
      }
      const first = this.options.newcomer === 'scored' ? x : Math.min(x, this.options.lo);
      // Distrust comes at `smoothing`, trust returns at `forgiveness` (slower).
      const w = prev !== undefined && x < prev ? this.options.forgiveness : s;
      this.ratio.set(id, prev === undefined ? first : (1 - w) * prev + w * x);
    }
  }

  /**
   * Per reporter: its deviation statistic over its reports (weighted mean or median of `dev`) divided by
   * the median of that statistic over the round's reporters (floored at `minScale`). False when the round
   * has no scale (every deviation 0 and no floor).
   */
  private ratios(
    set: ReportSet,
    dev: Float64Array,
    into: Float64Array,
    median: boolean,
    voiced: boolean,
  ): boolean {
    const R = set.reporters;
    const E = set.entries;
    const { mass, sum, rowCells, rowCount } = this;
    const cells = this.cellOrder;
    let m = 0;
    const per = this.scratch;
    for (let r = 0; r < R; r++) {
      if (r === set.self || !(mass[r] > 0)) continue;
      const from = r * E;
      const to = from + rowCount[r];
      if (median) {
        cells.length = 0;
        for (let i = from; i < to; i++) cells.push(rowCells[i]);
        sortByKey(cells, dev);
        let acc = 0;
        let v = dev[cells[cells.length - 1]];
        for (const c of cells) {
          acc += set.w[c];
          if (acc >= mass[r] / 2) {
            v = dev[c];
            break;
          }
        }
        sum[r] = v;
      } else {
        let x = 0;
        for (let i = from; i < to; i++) x += set.w[rowCells[i]] * dev[rowCells[i]];
        sum[r] = x / mass[r];
      }
      if (!voiced || this.voice[r]) per[m++] = sum[r];
    }
    if (m === 0) return false;
    const sorted = per.subarray(0, m).sort();
    const med = Math.max(
      this.options.minScale,
      m % 2 ? sorted[m >> 1] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2,
    );
    if (!(med > 0)) return false;
    for (let r = 0; r < R; r++) if (r !== set.self && mass[r] > 0) into[r] = sum[r] / med;
    return true;
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
