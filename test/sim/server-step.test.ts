import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { Aggregator } from '../../src/sim/federation/aggregator.js';
import { campaignRunConfig, runFederation } from '../../src/sim/federation/index.js';
import { newRunState } from '../../src/sim/federation/run-state.js';
import { smallRun } from './small-run.js';

const config = smallRun;

/** One round of the aggregator alone: every agent reports `value` (1 fresh visit) on entry 0. */
function decideOnce(serverStep: number | undefined, keptBefore: number, value: number): number {
  const c = campaignRunConfig('frozen-lake', { agents: 3, serverStep, episodes: 10 });
  const run = newRunState(c, new SeededRng(1), 3, 0);
  run.globalN[0] = keptBefore;
  const aggregator = new Aggregator(run);
  const k = run.matrix.add(0);
  for (let i = 0; i < c.agents; i++) run.matrix.put(i, k, value, 1, 1);
  aggregator.decide(run);
  return run.global[0];
}

describe('the rescaled-linear server step (--server-step)', () => {
  it('off, or never reached, is the default run to the last bit', () => {
    const raw = runFederation(config('random'));
    // H = 10⁶ damps only from n ≈ 1.8·10⁸ kept visits: the step is computed and never taken.
    const far = runFederation(config('random', { serverStep: 1e6 }));
    expect(far).toEqual(raw);
    // The plain merge ignores it.
    const plain = runFederation(config('random', { rule: 'visit-weighted' }));
    const plainStep = runFederation(config('random', { rule: 'visit-weighted', serverStep: 1 }));
    expect(plainStep).toEqual(plain);
  });

  it('a fresh entry takes the whole decided move; a long-run entry only α_n / α of it', () => {
    expect(decideOnce(undefined, 0, 0.05)).toBe(Math.fround(0.05));
    expect(decideOnce(1, 0, 0.05)).toBe(Math.fround(0.05));
    // n = 180: α_n = 1 / (1 + 0.05·180) = 0.1 = α, still the full move.
    expect(decideOnce(1, 180, 0.05)).toBe(Math.fround(0.05));
    expect(decideOnce(undefined, 1000, 0.05)).toBe(Math.fround(0.05));
    // n = 1000: α_n = 1 / 51, η = 10 / 51.
    expect(decideOnce(1, 1000, 0.05)).toBeCloseTo((0.05 * 10) / 51, 6);
    // H = 4: α_n = 4 / 54, η = 40 / 54.
    expect(decideOnce(4, 1000, 0.05)).toBeCloseTo((0.05 * 40) / 54, 6);
  });

  it('changes the run when it damps', () => {
    const raw = runFederation(config('random'));
    const damped = runFederation(config('random', { serverStep: 1 }));
    expect(damped.rho).not.toEqual(raw.rho);
  });

  it('refuses H outside (0, ∞) with a typed error', () => {
    for (const serverStep of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => runFederation(config('random', { serverStep, episodes: 50 })), String(serverStep)).toThrow(
        expect.objectContaining({ code: 'E_CONFIG' }),
      );
    }
  });
});
