import type { CommandResult } from '../../swarm/index.js';
import type { Simulator } from '../simulator.js';

/** Two conflicting features the client activated at the same instant on two coordinators. */
export interface ConflictSet {
  features: [string, string];
  /** Which of the two the log committed an activation of (at most one may be). */
  wins: Set<string>;
  /** The set's activations not settled yet. */
  pending: number;
}

/** The conflict sets of a run; one is open at a time (the workload issues no other activations meanwhile). */
export class ConflictSets {
  readonly all: ConflictSet[] = [];
  open: ConflictSet | null = null;

  constructor(private readonly sim: Simulator) {}

  begin(a: string, b: string): ConflictSet {
    const set: ConflictSet = { features: [a, b], wins: new Set(), pending: 2 };
    this.all.push(set);
    this.open = set;
    return set;
  }

  /** One of the set's activations settled; the set closes 500 ms after the last. */
  settle(set: ConflictSet): void {
    if (--set.pending > 0) return;
    this.sim.after(500, () => {
      if (this.open === set) this.open = null;
    });
  }

  /** The log applied `result` for the first time. */
  onCommitted(result: CommandResult): void {
    const set = this.open;
    if (set !== null && result.ok && result.op === 'activate') {
      for (const f of result.activated) if (set.features.includes(f)) set.wins.add(f);
    }
  }
}
