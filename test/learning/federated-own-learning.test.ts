import { describe, expect, it } from 'vitest';
import { FederationSimCluster } from '../../src/sim/federation/sim-network.js';

/**
 * Found on the real network (`elex federation-cluster`, 1 run in 6): a member whose reward is wrong (here
 * negated: a sign error in its reward model, running the honest code) that wins the aggregator election
 * held the honest members' values away from Q* for as long as it led (largest error 0.5–1.4 instead of
 * converging), and they partly distrusted each other. Its own learning went into every aggregate without
 * reporter trust, and trust scored the members against its table, moved by that learning.
 */
describe('the aggregator’s own learning is one report among its members’', () => {
  it('a leader learning a negated reward neither holds the honest values nor loses them their trust', () => {
    let led = 0;
    const worst: string[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      const c = new FederationSimCluster({
        seed,
        members: 5,
        loss: 0.02,
        sync_interval_ms: 200,
        behaviour: (name) => (name === 'm4' ? { byzantine: true, reward: (e) => -e.reward } : undefined),
      });
      let flipperLed = false;
      for (let t = 0; t < 12; t++) {
        c.sim.runFor(2000);
        if (c.leaders().some((l) => l.id === 'm4')) flipperLed = true;
      }
      if (!flipperLed) continue;
      led++;
      const error = c.maxError(c.honest());
      const leader = c.leaders().find((l) => l.id === 'm4');
      const ratios = leader ? c.honest().map((t) => leader.trust.trustOf(t.id)) : [];
      if (error > 0.1 || ratios.some((r) => r < 1))
        worst.push(
          `seed ${seed}: error ${error.toFixed(3)}, honest trust ${ratios.map((r) => r.toFixed(2))}`,
        );
    }
    expect(led).toBeGreaterThanOrEqual(2); // the scenario must exercise a flipper that leads
    expect(worst).toEqual([]);
  });
});
