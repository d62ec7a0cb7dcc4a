import { describe, expect, it } from 'vitest';
import {
  type AttackName,
  campaignRunConfig,
  campaignSeed,
  type MdpName,
  runFederation,
} from '../../src/sim/federation/index.js';

const run = (mdp: MdpName, attack: AttackName, seed: number) =>
  runFederation(
    campaignRunConfig(mdp, {
      agents: 10,
      byzantine: 3,
      attack,
      seed: campaignSeed(1, seed),
      episodes: mdp === 'frozen-lake' ? 600 : 200,
    }),
  );

// The evaluation's rounds are synchronous and every honest member adopts every decided entry (and is sent the
// consensus of anything undecided or refused), so after a round all honest tables are the consensus. The
// campaign's `rho_min` ("the worst honest agent") is therefore the worst seed's consensus, not an outlier agent.
describe('honest agents of one evaluated run', () => {
  it.each([
    ['frozen-lake', 'none'],
    ['frozen-lake', 'stale-replay'],
    ['random', 'alie'],
    ['elex-query', 'sign-flip'],
  ] as Array<[MdpName, AttackName]>)('hold the same table: one ρ for all (%s, %s)', (mdp, attack) => {
    const byAgent = run(mdp, attack, 0).rho;
    expect(byAgent).toHaveLength(7);
    expect(new Set(byAgent).size).toBe(1);
  });

  it("an agent's ρ is the mean of the run's six tail checkpoints (rhoTail)", () => {
    const r = run('frozen-lake', 'none', 0);
    expect(r.rhoTail).toHaveLength(6);
    const mean = r.rhoTail.reduce((a, b) => a + b, 0) / r.rhoTail.length;
    expect(r.rho[0]).toBeCloseTo(mean, 12);
  });

  it('while seeds differ (the identity is not a constant ρ)', () => {
    const bySeed = [0, 1, 2].map((s) => run('frozen-lake', 'none', s).rho[0]);
    expect(new Set(bySeed).size).toBeGreaterThan(1);
  });
});
