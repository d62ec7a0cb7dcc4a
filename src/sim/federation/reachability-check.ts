/**
 * The round's TD-reachability check, as `FederatedQTable`'s: target range, window and slack (`open`). A report
 * passes if its value is reachable by its fresh visits (plus slack) in TD steps from its entry's value in the
 * consensus or in one of the aggregates published before the last `window − 1` rounds.
 */
import { tdReachable, tdTargetRange } from './deps.js';
import type { Mdp } from './mdp.js';

export interface ReachabilityOptions {
  /** Off with the plain merge or `tdCheck` false. */
  readonly enabled: boolean;
  readonly window: number;
  readonly slack: number;
  /** Interactions between rounds: no report has more fresh visits. */
  readonly syncEvery: number;
  readonly alpha: number;
  readonly mdp: Mdp;
}

export class ReachabilityCheck {
  tMin = 0;
  tMax = 0;
  slack = 0;
  /** The consensus, then the window's aggregates (newest first) once enough were published. */
  bases: Float64Array[];
  // The consensus as published before each of the last `window − 1` rounds (newest first).
  private readonly published: Float64Array[] = [];
  private before: Float64Array | null = null;

  constructor(
    private readonly o: ReachabilityOptions,
    private readonly global: Float64Array,
  ) {
    this.bases = [global];
  }

  /** TD bounds from the consensus table, and the values each entry was published with in the window. */
  open(): void {
    const { global, o } = this;
    this.before = o.window > 1 ? global.slice() : null;
    let vMin = 0;
    let vMax = 0;
    for (let e = 0; e < global.length; e++) {
      if (global[e] < vMin) vMin = global[e];
      if (global[e] > vMax) vMax = global[e];
    }
    ({ tMin: this.tMin, tMax: this.tMax } = tdTargetRange(
      vMin,
      vMax,
      o.mdp.rMin,
      o.mdp.rMax,
      o.mdp.gamma,
      o.alpha,
    ));
    // The consensus, and the aggregates before it once enough were published; one step of slack until then.
    const windowed = this.published.length >= o.window - 1;
    this.bases = windowed ? [global, ...this.published] : [global];
    this.slack = windowed ? o.slack : Math.max(1, o.slack);
  }

  // As in `FederatedQTable`, the plain ADR-115 merge has no reachability check (it trusts claimed visits),
  // and a report with no fresh visits (no weight under a robust rule) is not checked.
  reachable(e: number, q: number, fresh: number): boolean {
    if (!this.o.enabled || fresh === 0) return true;
    const steps = Math.min(this.o.syncEvery, fresh) + this.slack;
    const bases = this.bases;
    for (let j = 0; j < bases.length; j++) {
      if (tdReachable(bases[j][e], q, steps, this.o.alpha, this.tMin, this.tMax, 1e-4)) return true;
    }
    return false;
  }

  /** The consensus as the round found it joins the window. */
  close(): void {
    if (this.before === null) return;
    this.published.unshift(this.before);
    if (this.published.length > this.o.window - 1) this.published.pop();
  }
}
