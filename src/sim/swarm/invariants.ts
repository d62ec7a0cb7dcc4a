import { fnv1a } from '../../core/index.js';
import type { Entry } from '../../raft/index.js';
import type { CommandResult, CoordinatorReplica } from '../../swarm/index.js';
import type { InvariantChecker } from '../raft/checkers.js';
import type { Simulator } from '../simulator.js';
import type { ConflictSets } from './conflict-sets.js';
import type { SwarmTopology } from './topology.js';

export interface Violation {
  invariant: string;
  at_ms: number;
  detail: string;
}

/**
 * The run's invariants and what they found (the first 50 violations): the log oracle (the first application
 * of every index, wherever it happens), replica agreement and the state machine's own invariants, the Raft
 * checker's findings, and the conflict sets' outcome.
 */
export class Invariants {
  readonly violations: Violation[] = [];
  /** Every violation found, also those past the 50 kept (a campaign's sum of kept ones undercounted). */
  violationsTotal = 0;
  commandsCommitted = 0;
  private readonly firstApplied = new Map<number, true>();

  constructor(
    private readonly sim: Simulator,
    private readonly topo: SwarmTopology,
    private readonly conflicts: ConflictSets,
  ) {}

  violate(invariant: string, detail: string): void {
    this.violationsTotal++;
    if (this.violations.length < 50)
      this.violations.push({ invariant, at_ms: Math.round(this.sim.now), detail });
  }

  /** The log oracle: the first application of every index. */
  onApply(e: Entry, result: CommandResult | null): void {
    if (this.firstApplied.has(e.index)) return;
    this.firstApplied.set(e.index, true);
    if (result === null) return;
    this.commandsCommitted++;
    this.conflicts.onCommitted(result);
  }

  /** Live replicas at the same applied index hold the same state, and each satisfies the machine's invariants. */
  checkReplicas(replicas: readonly CoordinatorReplica[]): void {
    const nodeName = (n: number) => this.topo.nodeName(n);
    const byIndex = new Map<number, { id: number; snap: string }>();
    for (const r of replicas) {
      if (!r.up) continue;
      const s = r.machine.snapshot();
      const key = `${s.length}:${fnv1a(s)}`;
      const other = byIndex.get(r.appliedIndex);
      if (other === undefined) byIndex.set(r.appliedIndex, { id: r.id, snap: key });
      else if (other.snap !== key)
        this.violate(
          'replicas-differ',
          `${nodeName(other.id)} and ${nodeName(r.id)} differ at applied index ${r.appliedIndex}`,
        );
      for (const v of r.machine.invariants())
        this.violate(`state-machine ${v.kind}`, `${nodeName(r.id)} at ${r.appliedIndex}: ${v.message}`);
    }
  }

  /** End of run: the Raft checker's findings, then each conflict set (more than one winner is a violation). */
  finish(checker: InvariantChecker): { exactlyOne: number; none: number } {
    for (const v of checker.violations) this.violate(`raft ${v.invariant}`, v.detail);
    let exactlyOne = 0;
    let none = 0;
    for (const s of this.conflicts.all) {
      if (s.wins.size === 1) exactlyOne++;
      else if (s.wins.size === 0) none++;
      else this.violate('conflicting-activations', `${s.features.join(' and ')} were both activated`);
    }
    return { exactlyOne, none };
  }
}
