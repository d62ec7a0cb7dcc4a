import { describe, expect, it } from 'vitest';
import {
  type Delta,
  emptyDelta,
  MergeWorkspace,
  mergeDeltasIntoTable,
  QTable,
  ruleByName,
} from '../../src/learning/index.js';

/** A peer delta of `n` keys (0, i, i % 5), all members reporting the same entries (the usual case). */
function sameKeys(origin: string, n: number): Delta {
  const d = emptyDelta('peer', origin, n);
  for (let i = 0; i < n; i++) {
    d.lo[i] = i;
    d.action[i] = i % 5;
    d.q[i] = 0.5;
    d.visits[i] = 3;
    d.fresh[i] = 1;
  }
  d.interactions = n;
  return d;
}

describe('mergeDeltasIntoTable scratch memory', () => {
  it('sizes its report-set scratch by distinct entries × reporters, not by the sum of delta sizes × reporters', () => {
    // 30 members each report the same 5,000 entries: K = 5,000 distinct entries, R = 31 rows (table + 30).
    const members = 30;
    const n = 5_000;
    const deltas = Array.from({ length: members }, (_, m) => sameKeys(`m${m}`, n));
    const ws = new MergeWorkspace();
    const res = mergeDeltasIntoTable(
      new QTable(),
      deltas,
      {
        rule: ruleByName('trimmed-mean'),
        params: { beta: 0.33, f: 9, clipRadius: 0.3, bounds: { min: -30, max: 30 } },
        weighting: { kind: 'fresh', cap: 2, anchor: 2 },
        tolerance: 0.05,
      },
      ws,
    );
    const cells = res.entries * (members + 1);
    expect(res.entries).toBe(n);
    // The rule reads K·R cells; four Float64 columns of that (q, w, steps, used), with room to double.
    // Observed: Σ counts × R = 150,000 × 31 = 4,650,000 cells per column (≈149 MB for the four), 30× the need;
    // at 156 members (the nr category) × 8,000-entry deltas that is ≈ 6 GB.
    expect(ws.q.length).toBeLessThanOrEqual(2 * cells);
  });
});
