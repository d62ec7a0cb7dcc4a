import { describe, expect, it } from 'vitest';
import {
  campaignRunConfig,
  campaignSeed,
  type RunConfig,
  runFederation,
} from '../../src/sim/federation/index.js';

const config = (extra: Partial<RunConfig>): RunConfig => ({
  ...campaignRunConfig('random', {
    agents: 4,
    byzantine: 1,
    attack: 'none',
    seed: campaignSeed(1, 0),
    episodes: 20,
  }),
  ...extra,
});

describe('runFederation refuses a run that could never end', () => {
  // Each of these used to loop forever: no honest agent makes the mean episode count NaN, and a round of
  // zero steps or a NaN budget never reaches the budget.
  it.each<[string, Partial<RunConfig>]>([
    ['no honest agent', { agents: 3, byzantine: 3 }],
    ['more attackers than agents', { agents: 3, byzantine: 4 }],
    ['no agent', { agents: 0, byzantine: 0 }],
    ['a fractional agent count', { agents: 2.5 }],
    ['a negative attacker count', { byzantine: -1 }],
    ['a NaN episode budget', { episodes: Number.NaN }],
    ['a zero sync interval', { syncEvery: 0 }],
  ])('%s: a typed error', (_name, extra) => {
    expect(() => runFederation(config(extra))).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });

  it('still runs a valid one', () => {
    expect(runFederation(config({})).rho.length).toBe(3);
  });
});
