import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { qBounds, tdReachable } from '../../src/learning/index.js';
import { type EntryView, poisonedValue } from '../../src/sim/federation/attacks.js';

const bounds = qBounds(-1, 1, 0.95);
const ALPHA = 0.1;

function view(o: Partial<EntryView> & { bases: Float64Array[] }): EntryView {
  return {
    entry: 0,
    state: 0,
    action: 0,
    fresh: 1,
    best: 0,
    worst: 1,
    mu: 0,
    sd: 0,
    z: 1,
    consensus: o.bases[0],
    stale: o.bases[0],
    tMin: -1,
    tMax: 1,
    slack: 0,
    actions: 2,
    alpha: ALPHA,
    bounds,
    round: 0,
    reporter: 0,
    rng: new SeededRng(1),
    ...o,
  };
}

describe('poisoned values (the evaluation attacks)', () => {
  it('visit inflation sits exactly on the edge of what the reachability window accepts', () => {
    const value = fc.double({ min: -5, max: 5, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 10 }),
        fc.boolean(),
        fc.boolean(),
        (published, fresh, onBest, quiet) => {
          const bases = published.map((g) => Float64Array.of(g));
          const x = view({ bases, fresh, action: onBest ? 0 : 1, slack: quiet ? 0 : 1 });
          const v = poisonedValue(quiet ? 'visit-inflation-quiet' : 'visit-inflation', x);
          const steps = fresh + x.slack;
          const from = (q: number) =>
            published.some((g) => tdReachable(g, q, steps, ALPHA, x.tMin, x.tMax, 1e-9));
          // Accepted by the check, and any further push in its direction is not.
          expect(from(v)).toBe(true);
          expect(from(onBest ? v - 1e-6 : v + 1e-6)).toBe(false);
        },
      ),
    );
  });

  it('sign flip swaps the best and worst values and leaves the others at the honest mean', () => {
    const consensus = Float64Array.of(0.2, -0.4, 0.1);
    const x = view({ bases: [consensus], actions: 3, best: 0, worst: 1, mu: 0.05 });
    const at = (action: number) => poisonedValue('sign-flip', { ...x, action, entry: action });
    expect([at(0), at(1), at(2)]).toEqual([-0.4, 0.2, 0.05]);
  });

  it('ALIE stays z spreads from the honest mean, against the greedy order; ipm reports −μ/2', () => {
    const x = view({ bases: [Float64Array.of(0)], mu: 0.3, sd: 0.1, z: 0.5 });
    expect(poisonedValue('alie', { ...x, action: 0 })).toBeCloseTo(0.25, 12);
    expect(poisonedValue('alie', { ...x, action: 1 })).toBeCloseTo(0.35, 12);
    expect(poisonedValue('ipm', x)).toBeCloseTo(-0.15, 12);
  });

  it('stale replay reports the old consensus; invalid cycles NaN, +Inf and out of range', () => {
    const x = view({ bases: [Float64Array.of(0.7)], stale: Float64Array.of(-0.2) });
    expect(poisonedValue('stale-replay', x)).toBe(-0.2);
    const bad = [0, 1, 2].map((round) => poisonedValue('invalid', { ...x, round }));
    expect(Number.isNaN(bad[0])).toBe(true);
    expect(bad[1]).toBe(Number.POSITIVE_INFINITY);
    expect(bad[2]).toBeGreaterThan(bounds.max);
  });
});
