import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReachabilityWindow, TD_WINDOW } from '../../src/learning/index.js';

/** Every value `anyBase` tries for entry e, in order. */
function tried(w: ReachabilityWindow, e: number, current: number): number[] {
  const seen: number[] = [];
  w.anyBase(e, current, (g) => {
    seen.push(g);
    return false;
  });
  return seen;
}

type Op = { kind: 'write'; e: number; q: number } | { kind: 'publish' };

const ops = fc.array(
  fc.oneof(
    fc.record({
      kind: fc.constant('write' as const),
      e: fc.integer({ min: 0, max: 5 }),
      q: fc.integer({ min: -9, max: 9 }),
    }),
    fc.record({ kind: fc.constant('publish' as const) }),
  ),
  { maxLength: 60 },
);

describe('ReachabilityWindow', () => {
  it('tries exactly the values each entry was published with in the last `size` aggregates', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), ops, (size, script: Op[]) => {
        const w = new ReachabilityWindow(size);
        // The model: the table, and a snapshot of it at every publication (the first: what the term began with).
        const table = new Map<number, number>();
        const snapshots: Array<Map<number, number>> = [new Map()];
        for (const op of script) {
          if (op.kind === 'write') {
            // As the aggregator does: note the published value before the entry changes.
            w.notePublished(op.e, table.get(op.e) ?? 0);
            table.set(op.e, op.q);
          } else {
            w.published();
            snapshots.push(new Map(table));
          }
        }
        const recent = snapshots.slice(-size);
        for (let e = 0; e <= 5; e++) {
          const expected = new Set(recent.map((s) => s.get(e) ?? 0));
          expect(new Set(tried(w, e, table.get(e) ?? 0))).toEqual(expected);
        }
        expect(w.full).toBe(snapshots.length - 1 >= size - 1);
      }),
    );
  });

  it('tries the newest value first and stops at the first accepted', () => {
    const w = new ReachabilityWindow(3);
    w.notePublished(0, 1);
    w.published();
    w.notePublished(0, 2);
    w.published();
    // Published with 1, then 2, now 3 (published in the latest aggregate, unchanged since).
    expect(tried(w, 0, 3)).toEqual([3, 2, 1]);
    const calls: number[] = [];
    const accepts = (g: number) => {
      calls.push(g);
      return g === 2;
    };
    expect(w.anyBase(0, 3, accepts)).toBe(true);
    expect(calls).toEqual([3, 2]);
  });

  it('forgets a term on clear: only the current value is left', () => {
    const w = new ReachabilityWindow();
    w.notePublished(7, 0.5);
    w.published();
    w.notePublished(7, 0.25);
    w.clear();
    expect(w.full).toBe(false);
    expect(tried(w, 7, 0.125)).toEqual([0.125]);
  });

  it('refuses a size that is not a positive integer, with a code', () => {
    expect(new ReachabilityWindow().size).toBe(TD_WINDOW);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new ReachabilityWindow(bad), String(bad)).toThrow(
        expect.objectContaining({ code: 'E_CONFIG' }),
      );
    }
  });
});
