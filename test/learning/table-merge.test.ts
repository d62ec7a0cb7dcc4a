import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Delta,
  emptyDelta,
  type MergeParams,
  mergeDeltasIntoTable,
  mergeVisitWeightedInto,
  newOutput,
  QTable,
  type ReportSet,
  RULE_NAMES,
  ruleByName,
  trimmedMean,
  weightedMedian,
} from '../../src/learning/index.js';

const params: MergeParams = { beta: 0.3, f: 3, clipRadius: 0.1, bounds: { min: -30, max: 30 } };

/** A one-entry peer delta for key (0, 1, action 2). */
function report(origin: string, q: number, fresh: number): Delta {
  const d = emptyDelta('peer', origin, 1);
  d.lo[0] = 1;
  d.action[0] = 2;
  d.q[0] = q;
  d.visits[0] = 100;
  d.fresh[0] = fresh;
  d.interactions = fresh;
  return d;
}

describe('mergeDeltasIntoTable visit counts', () => {
  it('adds only the weight of reports the robust rule kept, not of trimmed ones', () => {
    const t = new QTable();
    const e = t.slot(0, 1, 2);
    t.write(e, 1, 5);
    // Five honest reports at 1.0, one poisoned report at −10 with the same plausible fresh visits.
    const deltas = ['a', 'b', 'c', 'd', 'e'].map((o) => report(o, 1, 2));
    deltas.push(report('x', -10, 2));
    for (const rule of ['trimmed-mean', 'median'] as const) {
      const table = t.clone();
      mergeDeltasIntoTable(table, deltas, {
        rule: ruleByName(rule),
        params,
        weighting: { kind: 'fresh', cap: 2, anchor: 2 },
        tolerance: 0.05,
      });
      expect(table.q[e], rule).toBeCloseTo(1, 6);
      // 5 local + 5 honest × 2 fresh; the trimmed report's 2 visits are not behind the value.
      expect(table.visits[e], rule).toBe(15);
    }
  });

  it('restateUndecided: an entry whose reports were all dropped keeps its value under a new version', () => {
    const t = new QTable();
    const e = t.slot(0, 1, 2);
    t.write(e, 1, 5);
    // No fresh visits: no weight under the fresh weighting; the table's own row weighs nothing (an
    // aggregator without fresh visits of its own), so the rule keeps nothing.
    const deltas = [report('a', 3, 0), report('b', 4, 0)];
    const opts = {
      rule: ruleByName('trimmed-mean'),
      params,
      weighting: { kind: 'fresh' as const, cap: 2, anchor: 0 },
      tolerance: 0.05,
    };
    for (const restate of [false, true]) {
      const table = t.clone();
      const before = table.version[e];
      mergeDeltasIntoTable(table, deltas, { ...opts, restateUndecided: restate });
      expect(table.q[e]).toBe(1);
      expect(table.visits[e]).toBe(5);
      // Restated, it is in the next delta built from the table (the aggregate); otherwise it is not.
      if (restate) expect(table.version[e]).toBeGreaterThan(before);
      else expect(table.version[e]).toBe(before);
    }
  });

  it('krum: an aggregator without fresh visits of its own adopts a reporter, not its weightless table', () => {
    const t = new QTable();
    for (let lo = 0; lo < 6; lo++) t.write(t.slot(0, lo, 2), 0.5, 5);
    // Six members, each moved two of the six entries one TD step up.
    const deltas = ['a', 'b', 'c', 'd', 'e', 'f'].map((o, i) => {
      const d = emptyDelta('peer', o, 2);
      [i, (i + 1) % 6]
        .sort((x, y) => x - y)
        .forEach((lo, j) => {
          d.lo[j] = lo;
          d.action[j] = 2;
          d.q[j] = 0.6;
          d.visits[j] = 6;
          d.fresh[j] = 1;
        });
      d.interactions = 2;
      return d;
    });
    mergeDeltasIntoTable(t, deltas, {
      rule: ruleByName('krum'),
      params: { ...params, f: 1 },
      weighting: { kind: 'fresh', cap: 2, anchor: 0 },
      tolerance: 0.05,
      restateUndecided: true,
    });
    const moved = [0, 1, 2, 3, 4, 5].filter((lo) => t.getQ(0, lo, 2) !== 0.5);
    expect(moved).toHaveLength(2);
    for (const lo of moved) {
      expect(t.getQ(0, lo, 2)).toBeCloseTo(0.6, 6);
      expect(t.getVisits(0, lo, 2)).toBe(6);
    }
  });

  it('adds every reporter under the plain rule (ADR-115: n = Σ n)', () => {
    const t = new QTable();
    const e = t.slot(0, 1, 2);
    t.write(e, 1, 5);
    mergeDeltasIntoTable(t, [report('a', 1, 2), report('x', -10, 2)], {
      rule: ruleByName('visit-weighted'),
      params,
      weighting: { kind: 'claimed' },
      tolerance: 0.05,
    });
    expect(t.visits[e]).toBe(205);
  });
});

describe('kept weight per report (MergeOutput.used)', () => {
  const set: ReportSet = {
    entries: 1,
    reporters: 5,
    q: Float64Array.from([1, 1.1, 0.9, 1, -10]),
    w: Float64Array.from([2, 2, 2, 2, 2]),
    self: 0,
  };
  it('the trimmed mean keeps reports inside its kept value range and drops the trimmed ones', () => {
    const out = { ...newOutput(1), used: new Float64Array(5) };
    trimmedMean(set, params, out);
    expect(out.used[4]).toBe(0);
    expect(out.used[0]).toBe(2);
    expect(out.used[3]).toBe(2);
  });
  it('the median keeps the reports at its value', () => {
    const out = { ...newOutput(1), used: new Float64Array(5) };
    weightedMedian(set, params, out);
    expect(out.q[0]).toBe(1);
    expect([...out.used]).toEqual([2, 0, 0, 2, 0]);
  });
});

describe('every rule fills MergeOutput.used', () => {
  it('for every cell, also of entries nobody weighed: 0 ≤ used ≤ w, whatever the buffer held', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), fc.constantFrom(0, 0, 1, 2, 0.5)), {
          minLength: 24,
          maxLength: 24,
        }),
        fc.constantFrom(0, -1),
        (K, R, cells, self) => {
          const set: ReportSet = {
            entries: K,
            reporters: R,
            q: Float64Array.from(cells.slice(0, K * R), (c) => c[0]),
            w: Float64Array.from(cells.slice(0, K * R), (c) => c[1]),
            self,
          };
          for (const name of RULE_NAMES) {
            // A reused buffer (the merge workspace's) holds the previous merge's values.
            const out = { ...newOutput(K), used: new Float64Array(K * R).fill(7) };
            ruleByName(name)(set, params, out);
            for (let c = 0; c < K * R; c++) {
              expect(out.used[c], `${name} cell ${c}`).toBeGreaterThanOrEqual(0);
              expect(out.used[c], `${name} cell ${c}`).toBeLessThanOrEqual(Math.max(0, set.w[c]));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('mergeVisitWeightedInto input', () => {
  it('refuses a delta whose columns are shorter than its count, whichever merge path it would take', () => {
    for (const count of [3, 5000]) {
      const table = new QTable(1 << 19);
      const d = emptyDelta('peer', 'p', count);
      for (let i = 0; i < count; i++) d.lo[i] = i;
      d.q = d.q.subarray(0, count - 1);
      expect(() => mergeVisitWeightedInto(table, d)).toThrow(/column 'q' has/);
      expect(table.size).toBe(0);
    }
  });
});
