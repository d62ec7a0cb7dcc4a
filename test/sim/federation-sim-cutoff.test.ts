import { describe, expect, it } from 'vitest';
import { FederationSimCluster } from '../../src/sim/federation/sim-network.js';

/**
 * Pin of a bug the simulator found (fixed in 040f038): an entry learned only by members that were cut off stayed
 * stale at the aggregator after the heal. Their values were not TD-reachable from the stale consensus within
 * the fresh visits a delta carries, so each of their deltas was refused whole (E_UNREACHABLE), and aggregates
 * never carried the entry back to them (an aggregate holds only what changed at the aggregator). Seed 5 stayed
 * split for 90–120 s (entry 0, Q* = −1.00: −1.00 at m0 and m1, −0.10 elsewhere). The aggregator now sends a
 * refused member the consensus of its unreachable entries.
 */
describe('FederatedQTable on the simulator: members cut off with the only learners of an entry', () => {
  for (const seed of [5, 12]) {
    it(`seed ${seed}: an entry only cut-off members learned converges within 60 s of the heal`, () => {
      // 5 members, 1 % loss, each entry learned by 2 members (entry 0 by m0 and m1 only).
      const c = new FederationSimCluster({ seed, members: 5, loss: 0.01, owners_per_entry: 2 });
      expect(c.sim.runUntilTrue(() => c.agreedLeader() !== null, 60_000)).toBe(true);
      const leader = c.agreedLeader()!;
      expect(['m0', 'm1']).not.toContain(leader); // m3 (seed 5) / m2 (seed 12)
      const cut = c.isolate(['m0', 'm1']);
      c.sim.runFor(30_000);
      c.sim.heal(cut);
      const healAt = c.sim.now;
      const converged = c.sim.runUntilTrue(
        () => c.agreedLeader() !== null && c.maxError() < 0.05 && c.maxSpread() < 0.05,
        60_000,
      );
      // Observed (seed 5) at healAt + 60 s: everyone follows the same aggregator; entry 0 (Q* = −1.00) is −1.00 at
      // m0 and m1 and −0.10 at m2, m3, m4; E_UNREACHABLE 40 (every delta of m0 and m1 refused).
      // With two of five members cut off the aggregator hears from fewer than a quorum (4) and steps down
      // (CheckQuorum); after the heal everyone follows one aggregator again, possibly another.
      expect(c.agreedLeader()).not.toBeNull();
      expect(c.violations).toEqual([]);
      expect(converged, `Q converged (0.05) within 60 s of the heal at ${healAt.toFixed(0)} ms`).toBe(true);
    });
  }
});
