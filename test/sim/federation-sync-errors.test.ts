import { describe, expect, it } from 'vitest';
import { FederationSimCluster } from '../../src/sim/federation/sim-network.js';

/**
 * (Session 24, from a review; src/sim/federation/sim-network.ts tick.) Before, `federatedSync(fqt).then(undefined, onError)` records a
 * throw of sync in a promise handler, i.e. in a microtask, after the synchronous simulation returns. A run and
 * its `summary()` are synchronous, so `errors` (and `typedThrows`) are counted only if the caller happens to
 * await between the run and the report: the report depends on the host's microtask timing, not on the seed.
 */
describe('federation sync errors reach the report', () => {
  it('an error thrown inside sync is counted in summary().errors when the run returns', async () => {
    const c = new FederationSimCluster({
      seed: 3,
      members: 3,
      persist: false,
      behaviour: (name, _identity, cluster) =>
        name === 'm0'
          ? {
              byzantine: false,
              network: {
                send: () => {
                  throw new TypeError('transport bug');
                },
                drain: (id) => cluster.network.drain(id),
              },
            }
          : undefined,
    });
    c.sim.runFor(10_000);
    const now = c.summary().errors;
    await new Promise((r) => setTimeout(r, 0));
    const later = c.summary().errors;
    expect(later).toBeGreaterThan(0); // sync did throw
    expect(now).toBe(later);
  }, 20_000);
});
