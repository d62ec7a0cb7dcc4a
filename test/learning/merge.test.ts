import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  countConflicts,
  krum,
  type MergeParams,
  multiKrum,
  newOutput,
  type ReportSet,
  selfCentredClipping,
  trimmedMean,
  visitWeighted,
  weightedMedian,
} from '../../src/learning/index.js';

const params: MergeParams = { beta: 0.3, f: 3, clipRadius: 0.1, bounds: { min: -30, max: 30 } };

/** One entry, reporters given as [q, w]. */
function one(reports: Array<[number, number]>, self = 0): ReportSet {
  return {
    entries: 1,
    reporters: reports.length,
    q: Float64Array.from(reports.map((r) => r[0])),
    w: Float64Array.from(reports.map((r) => r[1])),
    self,
  };
}

describe('merge rules', () => {
  it('visit-weighted is exactly ADR-115: (q_l·n_l + q_p·n_p)/(n_l + n_p)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -30, max: 30, noNaN: true }),
        fc.integer({ min: 1, max: 1e6 }),
        fc.double({ min: -30, max: 30, noNaN: true }),
        fc.integer({ min: 1, max: 1e6 }),
        (ql, nl, qp, np) => {
          const out = newOutput(1);
          visitWeighted(
            one([
              [ql, nl],
              [qp, np],
            ]),
            params,
            out,
          );
          expect(out.q[0]).toBeCloseTo((ql * nl + qp * np) / (nl + np), 9);
          expect(out.w[0]).toBe(nl + np);
        },
      ),
    );
  });

  it('one inflated visit count owns the plain merge but not the trimmed mean or median', () => {
    // 7 honest reports near 1.0 with capped weights, 3 attackers at −30; plain trusts 2^32−1.
    const honest: Array<[number, number]> = [1, 1.02, 0.98, 1.01, 0.99, 1, 1.03].map((q) => [q, 10]);
    const plain = one([...honest, [-30, 2 ** 32 - 1], [-30, 1], [-30, 1]]);
    const out = newOutput(1);
    visitWeighted(plain, params, out);
    expect(out.q[0]).toBeLessThan(-29);
    const capped = one([...honest, [-30, 10], [-30, 10], [-30, 10]]);
    trimmedMean(capped, params, out);
    expect(Math.abs(out.q[0] - 1)).toBeLessThan(0.05);
    weightedMedian(capped, params, out);
    expect(Math.abs(out.q[0] - 1)).toBeLessThan(0.05);
    selfCentredClipping(capped, params, out);
    expect(Math.abs(out.q[0] - 1)).toBeLessThanOrEqual(0.3 * 0.1 + 1e-9);
  });

  it('the trimmed mean stays within the honest range whenever attackers hold at most β of the weight', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 7, maxLength: 7 }),
        fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (h, b) => {
          const set = one([
            ...h.map((q): [number, number] => [q, 1]),
            ...b.map((q): [number, number] => [q, 1]),
          ]);
          const out = newOutput(1);
          trimmedMean(set, params, out);
          expect(out.q[0]).toBeGreaterThanOrEqual(Math.min(...h) - 1e-9);
          expect(out.q[0]).toBeLessThanOrEqual(Math.max(...h) + 1e-9);
        },
      ),
    );
  });

  it('clipping moves the local value by at most τ whatever the reports say', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -30, max: 30, noNaN: true }), fc.integer({ min: 0, max: 10 })), {
          minLength: 1,
          maxLength: 12,
        }),
        (reports) => {
          const set = one([[2, 10], ...reports]);
          const out = newOutput(1);
          selfCentredClipping(set, params, out);
          expect(Math.abs(out.q[0] - 2)).toBeLessThanOrEqual(params.clipRadius + 1e-9);
        },
      ),
    );
  });

  it('Krum selects an honest vector and multi-Krum averages honest ones', () => {
    // 3 entries, 7 honest reporters close together, 3 attackers far away.
    const R = 10;
    const K = 3;
    const q = new Float64Array(K * R);
    const w = new Float64Array(K * R).fill(1);
    for (let e = 0; e < K; e++) for (let r = 0; r < R; r++) q[e * R + r] = r < 7 ? e + 0.01 * r : 20;
    const out = newOutput(K);
    krum({ entries: K, reporters: R, q, w, self: 0 }, params, out);
    for (let e = 0; e < K; e++) expect(out.q[e]).toBeLessThan(e + 0.1);
    multiKrum({ entries: K, reporters: R, q, w, self: 0 }, params, out);
    for (let e = 0; e < K; e++) expect(out.q[e]).toBeLessThan(e + 0.1);
  });

  it('reports no decision for an entry nobody weighed and counts conflicts beyond tolerance', () => {
    const out = newOutput(1);
    trimmedMean(
      one([
        [5, 0],
        [6, 0],
      ]),
      params,
      out,
    );
    expect(out.w[0]).toBe(0);
    expect(
      countConflicts(
        one([
          [1, 1],
          [1.01, 1],
        ]),
        0.05,
      ),
    ).toBe(0);
    expect(
      countConflicts(
        one([
          [1, 1],
          [2, 1],
        ]),
        0.05,
      ),
    ).toBe(1);
    expect(
      countConflicts(
        one([
          [1, 1],
          [9, 0],
        ]),
        0.05,
      ),
    ).toBe(0);
  });
});
