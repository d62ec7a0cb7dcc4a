/**
 * The aggregator's memory of what it published, for the TD-reachability check (docs/federation.md,
 * "Reachability window").
 *
 * A member learns from the last aggregate it adopted, which need not be the aggregator's latest: an aggregate
 * may be in flight when the member syncs, or lost. So a report is accepted if it is reachable in its fresh
 * visits from the value its entry had in any of the last `size` aggregates. Invariant: the values `anyBase`
 * tries for an entry are exactly those it was published with in the last `size` aggregates of this term (its
 * current value standing for the latest while it has not changed since). Tested in reachability-window.test.ts.
 */
import { ElexError } from '../core/index.js';

/** Aggregates a member's delta may have been learned from: the latest and the two before it. */
export const TD_WINDOW = 3;

export class ReachabilityWindow {
  /** Entries changed since the last aggregate → the value they were published with in it. */
  private unpublished = new Map<number, number>();
  /** Per earlier aggregate (newest last, at most `size − 1`): its changed entries' values before it. */
  private before: Array<Map<number, number>> = [];

  constructor(readonly size = TD_WINDOW) {
    if (!(Number.isInteger(size) && size >= 1))
      throw new ElexError('E_CONFIG', `reachability window of ${size} aggregates (need an integer ≥ 1)`);
  }

  /** Forget everything: a new term (nothing of an earlier leader's publishing carries over) or a step-down. */
  clear(): void {
    this.unpublished.clear();
    this.before = [];
  }

  /**
   * Until it has published `size − 1` aggregates in its term, an aggregator knows neither what its members
   * learned from nor its own moves since; the caller then checks against its table with one step of slack.
   */
  get full(): boolean {
    return this.before.length >= this.size - 1;
  }

  /** Entry `e` is about to change: remember `published`, the value it went out with (only the first time). */
  notePublished(e: number, published: number): void {
    if (!this.unpublished.has(e)) this.unpublished.set(e, published);
  }

  /** An aggregate went out: what changed since the previous one becomes the newest published layer. */
  published(): void {
    this.before.push(this.unpublished);
    if (this.before.length > this.size - 1) this.before.shift();
    this.unpublished = new Map();
  }

  /**
   * Whether `test` accepts any value entry `e` was published with in the window, newest first; `current` is
   * its value in the table now (the latest aggregate's, for an entry unchanged since).
   */
  anyBase(e: number, current: number, test: (base: number) => boolean): boolean {
    if (test(this.unpublished.get(e) ?? current)) return true;
    for (let w = this.before.length - 1; w >= 0; w--) {
      const g = this.before[w].get(e);
      if (g !== undefined && test(g)) return true;
    }
    return false;
  }
}
