import { describe, expect, it } from 'vitest';
import { deriveSeed } from '../../src/core/index.js';
import {
  type AttackName,
  campaignRunConfig,
  type MdpName,
  type RunConfig,
  runFederation,
} from '../../src/sim/federation/index.js';

const config = (mdp: MdpName, attack: AttackName, extra: Partial<RunConfig> = {}): RunConfig =>
  campaignRunConfig(mdp, {
    agents: 10,
    byzantine: 3,
    attack,
    seed: deriveSeed(1, 'seed-0') >>> 0,
    episodes: mdp === 'frozen-lake' ? 1000 : 300,
    ...extra,
  });

describe('the evaluation’s TD-reachability slack (--td-slack)', () => {
  it('defaults to the product’s one step', () => {
    const byDefault = runFederation(config('random', 'stale-replay'));
    const one = runFederation(config('random', 'stale-replay', { tdSlack: 1 }));
    expect(byDefault).toEqual(one);
  });

  it('without the step a stale replay is refused more often', () => {
    const one = runFederation(config('frozen-lake', 'stale-replay'));
    const none = runFederation(config('frozen-lake', 'stale-replay', { tdSlack: 0 }));
    expect(none.refused.E_UNREACHABLE ?? 0).toBeGreaterThan(one.refused.E_UNREACHABLE ?? 0);
    // Honest members learn from the latest aggregate: none of their deltas is refused either way.
    expect(none.refused.HONEST_UNREACHABLE).toBeUndefined();
  });

  it('visit inflation pushes to the edge the check accepts: accepted at any slack, loud = quiet at 0', () => {
    for (const tdSlack of [0, 1, 2]) {
      const r = runFederation(config('random', 'visit-inflation', { tdSlack }));
      expect(r.refused.E_UNREACHABLE, `slack ${tdSlack}`).toBeUndefined();
    }
    const loud = runFederation(config('random', 'visit-inflation', { tdSlack: 0 }));
    const quiet = runFederation(config('random', 'visit-inflation-quiet', { tdSlack: 0 }));
    expect(loud.rho).toEqual(quiet.rho);
  });

  it('refuses a slack that is not an integer in 0..10 with a typed error', () => {
    for (const tdSlack of [-1, 0.5, 11, Number.NaN]) {
      expect(() => runFederation(config('random', 'none', { tdSlack })), String(tdSlack)).toThrow(
        expect.objectContaining({ code: 'E_CONFIG' }),
      );
    }
  });
});

describe('the plain merge in the evaluation', () => {
  it('has no reachability check, as in FederatedQTable: poison within bounds is accepted, not refused', () => {
    const plain = runFederation(config('random', 'noise', { rule: 'visit-weighted' }));
    const robust = runFederation(config('random', 'noise'));
    expect(plain.refused.E_UNREACHABLE).toBeUndefined();
    expect(robust.refused.E_UNREACHABLE).toBeGreaterThan(0);
  });
});
