import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newOutput, type ReportSet, shrinkTowardConsensus } from '../../src/learning/merge/index.js';

/** K entries, row 0 the consensus g, rows 1..n reports; `out` the unshrunk decision (the reports' mean). */
function round(
  g: number[],
  reports: number[][],
): { set: ReportSet; out: ReturnType<typeof newOutput>; used: Float64Array } {
  const K = g.length;
  const R = reports[0].length + 1;
  const q = new Float64Array(K * R);
  const w = new Float64Array(K * R);
  const out = newOutput(K);
  for (let e = 0; e < K; e++) {
    q[e * R] = g[e];
    let m = 0;
    for (let r = 1; r < R; r++) {
      q[e * R + r] = reports[e][r - 1];
      w[e * R + r] = 1;
      m += reports[e][r - 1];
    }
    out.q[e] = m / (R - 1);
    out.w[e] = R - 1;
  }
  return { set: { entries: K, reporters: R, q, w, self: 0 }, out, used: w.slice() };
}

describe('shrinkTowardConsensus (James–Stein towards the consensus)', () => {
  it('leaves moves that dwarf the reports spread (almost) untouched', () => {
    const g = [0, 0, 0, 0, 0];
    const { set, out, used } = round(
      g,
      g.map(() => [0.5, 0.5001, 0.4999]),
    );
    const c = shrinkTowardConsensus(set, 0, out, used);
    expect(c).toBeGreaterThan(0.999);
    expect(out.q[0]).toBeCloseTo(0.5, 3);
  });

  it('shrinks moves that the spread explains, all the way to the consensus when they are pure noise', () => {
    // Reports symmetric around the consensus: mean move 0.01, spread 1.
    const g = [0.3, -0.2, 0.1, 0.0, 0.5, 0.2];
    const { set, out, used } = round(
      g,
      g.map((x) => [x - 1, x + 1.03]),
    );
    const c = shrinkTowardConsensus(set, 0, out, used);
    expect(c).toBe(0);
    for (let e = 0; e < g.length; e++) expect(out.q[e]).toBe(g[e]);
  });

  it('respects the floor and never moves a decision away from the consensus or past the unshrunk one', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: -5, max: 5, noNaN: true }),
            fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 3, maxLength: 3 }),
          ),
          { minLength: 3, maxLength: 12 },
        ),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (rows, floor) => {
          const { set, out, used } = round(
            rows.map((r) => r[0]),
            rows.map((r) => r[1]),
          );
          const before = Float64Array.from(out.q);
          const c = shrinkTowardConsensus(set, 0, out, used, floor);
          expect(c).toBeGreaterThanOrEqual(floor);
          expect(c).toBeLessThanOrEqual(1);
          for (let e = 0; e < rows.length; e++) {
            const g = rows[e][0];
            const lo = Math.min(g, before[e]) - 1e-12;
            const hi = Math.max(g, before[e]) + 1e-12;
            expect(out.q[e]).toBeGreaterThanOrEqual(lo);
            expect(out.q[e]).toBeLessThanOrEqual(hi);
          }
        },
      ),
    );
  });

  it('does nothing with fewer than 3 decided entries or no spread to estimate the noise from', () => {
    const two = round(
      [0, 0],
      [
        [1, -0.9],
        [1, -0.9],
      ],
    );
    expect(shrinkTowardConsensus(two.set, 0, two.out, two.used)).toBe(1);
    const single = round([0, 0, 0, 0], [[0.01], [0.01], [-0.01], [0.02]]);
    expect(shrinkTowardConsensus(single.set, 0, single.out, single.used)).toBe(1);
    expect(single.out.q[0]).toBe(0.01);
  });
});
