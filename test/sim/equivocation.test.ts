import { describe, expect, it } from 'vitest';
import {
  type AttackName,
  campaignRunConfig,
  campaignSeed,
  runFederation,
} from '../../src/sim/federation/index.js';

const run = (attack: AttackName) =>
  runFederation(
    campaignRunConfig('frozen-lake', {
      agents: 10,
      byzantine: 3,
      attack,
      seed: campaignSeed(1, 0),
      episodes: 600,
    }),
  );

// An equivocator signs a different delta for each recipient (`Delta.to`). Under an aggregator only the
// aggregator merges peer deltas (a follower refuses them, E_FOLLOWING), and nothing in src/learning compares
// the versions sent to different members: there is no equivocation check to refuse it. What the evaluation
// can credit is what the library does with the version the aggregator gets, the sign-flipped one, in every
// round. Before: the evaluation refused every equivocator for good after its first accepted delta
// (E_EQUIVOCATION, a code the library does not have), and the attack reproduced the honest baseline.
describe('equivocation in the evaluation', () => {
  it("is judged by the library's checks every round: the aggregator's version is the sign flip", () => {
    const equivocation = run('equivocation');
    const signFlip = run('sign-flip');
    expect(equivocation.refused.E_EQUIVOCATION).toBeUndefined();
    expect(equivocation.refused).toEqual(signFlip.refused);
    expect(equivocation.rho).toEqual(signFlip.rho);
    expect(equivocation.qErrorInf).toBe(signFlip.qErrorInf);
  });
});
