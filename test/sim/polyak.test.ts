import { describe, expect, it } from 'vitest';
import { runFederation } from '../../src/sim/federation/index.js';
import { smallRun } from './small-run.js';

const config = smallRun;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('ρ on a Polyak average of each member’s table (--polyak)', () => {
  it('rate 1 is the member’s own table: the same ρ to the last bit', () => {
    const raw = runFederation(config('random'));
    const one = runFederation(config('random', { polyak: 1 }));
    expect(one.rho).toEqual(raw.rho);
  });

  it('learning is unchanged: only ρ moves (the final tables give the same error and agreement)', () => {
    const raw = runFederation(config('random'));
    const avg = runFederation(config('random', { polyak: 0.01 }));
    expect(avg.qErrorInf).toBe(raw.qErrorInf);
    expect(avg.greedyAgreement).toBe(raw.greedyAgreement);
    expect(avg.refused).toEqual(raw.refused);
    expect(avg.rho).not.toEqual(raw.rho);
  });

  it('on the random MDP the averaged tables serve a better policy (constant-α noise averaged out)', () => {
    const raw = runFederation(config('random', { episodes: 1500 }));
    const avg = runFederation(config('random', { episodes: 1500, polyak: 0.01 }));
    expect(mean(avg.rho)).toBeGreaterThan(mean(raw.rho) + 0.02);
  });

  it('refuses a rate outside (0, 1] with a typed error', () => {
    for (const polyak of [0, -0.1, 1.5, Number.NaN]) {
      expect(() => runFederation(config('random', { polyak, episodes: 50 })), String(polyak)).toThrow(
        expect.objectContaining({ code: 'E_CONFIG' }),
      );
    }
  });
});
