import { describe, expect, it } from 'vitest';
import { TD_WINDOW } from '../../src/learning/index.js';
import {
  type AttackName,
  campaignRunConfig,
  campaignSeed,
  type MdpName,
  type RunConfig,
  runFederation,
} from '../../src/sim/federation/index.js';

const config = (mdp: MdpName, attack: AttackName, extra: Partial<RunConfig> = {}): RunConfig =>
  campaignRunConfig(mdp, {
    agents: 10,
    byzantine: 3,
    attack,
    seed: campaignSeed(1, 0),
    episodes: mdp === 'frozen-lake' ? 1000 : 300,
    ...extra,
  });

describe('the evaluation’s TD-reachability check (--td-window, --td-slack)', () => {
  const before = { tdWindow: 1, tdSlack: 1 };

  it('defaults to the product’s: a window of TD_WINDOW aggregates, no slack', () => {
    expect(TD_WINDOW).toBe(3);
    const byDefault = runFederation(config('random', 'stale-replay'));
    const explicit = runFederation(config('random', 'stale-replay', { tdWindow: 3, tdSlack: 0 }));
    expect(byDefault).toEqual(explicit);
  });

  it('refuses a stale replay more often than the check before the window, and no honest delta', () => {
    const old = runFederation(config('frozen-lake', 'stale-replay', before));
    const now = runFederation(config('frozen-lake', 'stale-replay'));
    expect(now.refused.E_UNREACHABLE ?? 0).toBeGreaterThan(old.refused.E_UNREACHABLE ?? 0);
    // Honest members learn from the latest aggregate: none of their deltas is refused either way.
    expect(now.refused.HONEST_UNREACHABLE).toBeUndefined();
    expect(old.refused.HONEST_UNREACHABLE).toBeUndefined();
  });

  it('visit inflation pushes to the edge the check accepts: accepted at any window and slack, loud = quiet without slack', () => {
    for (const extra of [{}, before, { tdWindow: 1, tdSlack: 0 }, { tdWindow: 5, tdSlack: 2 }]) {
      const r = runFederation(config('random', 'visit-inflation', extra));
      expect(r.refused.E_UNREACHABLE, JSON.stringify(extra)).toBeUndefined();
    }
    // Without slack the loud variant's edge is the quiet one's (the window's first rounds allow one step).
    const noSlack = { tdWindow: 1, tdSlack: 0 };
    const loud = runFederation(config('random', 'visit-inflation', noSlack));
    const quiet = runFederation(config('random', 'visit-inflation-quiet', noSlack));
    expect(loud.rho).toEqual(quiet.rho);
  });

  it('refuses a slack outside 0..10 or a window outside 1..50 with a typed error', () => {
    for (const tdSlack of [-1, 0.5, 11, Number.NaN]) {
      expect(() => runFederation(config('random', 'none', { tdSlack })), String(tdSlack)).toThrow(
        expect.objectContaining({ code: 'E_CONFIG' }),
      );
    }
    for (const tdWindow of [0, 1.5, 51, Number.NaN]) {
      expect(() => runFederation(config('random', 'none', { tdWindow })), String(tdWindow)).toThrow(
        expect.objectContaining({ code: 'E_CONFIG' }),
      );
    }
  });
});

describe('the plain merge in the evaluation', () => {
  it('falls below ρ 0.5 under visit inflation: entries the attackers have no fresh visits for are poisoned at the bounds', () => {
    // They are not checked (no weight under a robust rule); pushed only as far as a check would accept, they
    // left the plain merge at ρ 0.55 on the random MDP.
    const plain = runFederation(config('random', 'visit-inflation', { rule: 'visit-weighted' }));
    expect(Math.max(...plain.rho)).toBeLessThan(0.5);
    const robust = runFederation(config('random', 'visit-inflation'));
    expect(Math.min(...robust.rho)).toBeGreaterThan(0.7);
  });

  it('has no reachability check, as in FederatedQTable: poison within bounds is accepted, not refused', () => {
    const plain = runFederation(config('random', 'noise', { rule: 'visit-weighted' }));
    const robust = runFederation(config('random', 'noise'));
    expect(plain.refused.E_UNREACHABLE).toBeUndefined();
    expect(robust.refused.E_UNREACHABLE).toBeGreaterThan(0);
  });
});
