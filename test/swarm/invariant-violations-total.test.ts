import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.js';
import type { ConflictSets } from '../../src/sim/swarm/conflict-sets.js';
import { Invariants } from '../../src/sim/swarm/invariants.js';
import type { SwarmTopology } from '../../src/sim/swarm/topology.js';

describe('invariant violations past the 50 a run keeps', () => {
  it('the list keeps the first 50 and the total counts them all', () => {
    const sim = { now: 0 } as unknown as Simulator;
    const inv = new Invariants(sim, {} as SwarmTopology, {} as ConflictSets);
    for (let i = 0; i < 73; i++) inv.violate('replicas-differ', `#${i}`);
    expect(inv.violations).toHaveLength(50);
    expect(inv.violations[49].detail).toBe('#49');
    expect(inv.violationsTotal).toBe(73);
  });
});
