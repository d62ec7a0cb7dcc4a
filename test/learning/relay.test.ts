import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { relayedCounts } from '../../src/learning/relay.js';

const origins = ['a', 'b', 'c'];

describe('relayedCounts (peer-to-peer relay of sample weight)', () => {
  it("never relays the receiver's own weight, tops entries up to the cap and stays within the budget", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 20 }),
            fc.constantFrom(...origins),
            fc.double({ min: 0, max: 5, noNaN: true }),
          ),
          {
            maxLength: 30,
          },
        ),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 4 })), {
          maxLength: 10,
        }),
        fc.constantFrom(...origins),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: -5, max: 40 }),
        (kept, own, to, cap, budget) => {
          const relay = new Map<number, Map<string, number>>();
          for (const [e, o, w] of kept) {
            const m = relay.get(e) ?? new Map<string, number>();
            m.set(o, (m.get(o) ?? 0) + w);
            relay.set(e, m);
          }
          const fresh = new Map(own);
          const { counts, extra } = relayedCounts(relay, fresh, to, cap, budget);
          let added = 0;
          let wanted = 0;
          for (const [e, n] of counts) {
            const mine = fresh.get(e) ?? 0;
            const plus = n - mine;
            expect(plus).toBeGreaterThanOrEqual(0);
            expect(Number.isInteger(plus)).toBe(true);
            // At most what the others' weight gives, and never past the cap.
            let others = 0;
            for (const [o, w] of relay.get(e) ?? []) if (o !== to) others += w;
            expect(plus).toBeLessThanOrEqual(Math.round(others));
            expect(plus).toBeLessThanOrEqual(Math.max(0, cap - mine));
            added += plus;
          }
          for (const [e, m] of relay) {
            let others = 0;
            for (const [o, w] of m) if (o !== to) others += w;
            wanted += Math.max(0, Math.min(Math.round(others), Math.max(0, cap - (fresh.get(e) ?? 0))));
          }
          expect(extra).toBe(added);
          expect(extra).toBeLessThanOrEqual(Math.max(0, budget));
          // Within budget, everything wanted is relayed.
          if (wanted <= budget) expect(extra).toBe(wanted);
          // Own visits are always sent as they are.
          for (const [e, n] of fresh) expect(counts.get(e)).toBeGreaterThanOrEqual(n);
        },
      ),
    );
  });

  it('relays nothing back to the only origin of the weight', () => {
    const relay = new Map([[7, new Map([['b', 3]])]]);
    expect(relayedCounts(relay, new Map(), 'b', 2, 100).extra).toBe(0);
    expect(relayedCounts(relay, new Map(), 'c', 2, 100).counts.get(7)).toBe(2);
  });
});
