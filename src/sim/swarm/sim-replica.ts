import {
  type Catalog,
  CoordinatorReplica,
  type ReplicaHooks,
  type ReplicaOptions,
} from '../../swarm/index.js';
import type { InvariantChecker } from '../raft/checkers.js';
import { simHostEnv } from '../raft/sim-env.js';
import type { Simulator } from '../simulator.js';

/** A coordinator replica on the simulator, watched by the Raft invariant checkers. */
export class SimCoordinatorReplica extends CoordinatorReplica {
  constructor(
    private readonly sim: Simulator,
    id: number,
    catalog: Catalog,
    opts: ReplicaOptions,
    checker: InvariantChecker,
    hooks: ReplicaHooks,
  ) {
    super(simHostEnv(sim, id), id, catalog, opts, checker, hooks);
  }

  /**
   * The scenario drives all replicas from one shared `tickMs` timer (one event instead of fourteen); a crashed
   * or paused replica does not tick, as a paused node's own timer would not fire.
   */
  override tick(): void {
    if (this.sim.status(this.id) !== 'up') return;
    super.tick();
  }
}
