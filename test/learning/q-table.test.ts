import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QTable } from '../../src/learning/index.js';
import { hashKey } from '../../src/learning/q-table.js';

describe('QTable', () => {
  it('behaves like a map keyed by (state hi, state lo, action)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(3), fc.nat(50), fc.nat(4), fc.float({ min: -10, max: 10, noNaN: true })), {
          maxLength: 300,
        }),
        (ops) => {
          const t = new QTable(4);
          const model = new Map<string, number>();
          for (const [hi, lo, a, q] of ops) {
            t.write(t.slot(hi, lo, a), q, 1);
            model.set(`${hi}:${lo}:${a}`, Math.fround(q));
          }
          expect(t.size).toBe(model.size);
          for (const [k, v] of model) {
            const [hi, lo, a] = k.split(':').map(Number);
            expect(t.getQ(hi, lo, a)).toBe(v);
          }
          expect(t.find(99, 99, 0)).toBe(-1);
        },
      ),
    );
  });

  it('stamps a new version on each write and refuses non-finite values', () => {
    const t = new QTable();
    const e = t.slot(1, 2, 3);
    t.write(e, 0.5, 1);
    const v = t.version[e];
    t.write(e, 0.6, 2);
    expect(t.version[e]).toBeGreaterThan(v);
    expect(() => t.write(e, Number.NaN, 1)).toThrow(/q = NaN/);
    expect(() => t.write(e, Number.POSITIVE_INFINITY, 1)).toThrow();
    expect(() => t.write(e, 1e39, 1)).toThrow(/f32/);
    expect(t.q[e]).toBeCloseTo(0.6, 6);
  });

  it('holds 1,000,000 entries in at most 32 MB', () => {
    const t = new QTable(1_000_000);
    for (let i = 0; i < 1_000_000; i++) {
      const e = t.slot(i * 2654435761, i, i % 5);
      t.q[e] = i;
    }
    expect(t.size).toBe(1_000_000);
    expect(t.bytesInMemory()).toBeLessThanOrEqual(32 * 1024 * 1024);
    expect(t.getQ(777 * 2654435761, 777, 777 % 5)).toBe(777);
  });

  it('locate matches find / slot for keys in table order, in any order, and absent', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(3), fc.nat(40), fc.nat(4)), { maxLength: 200 }),
        fc.array(fc.tuple(fc.nat(3), fc.nat(40), fc.nat(4)), { maxLength: 200 }),
        fc.boolean(),
        (existing, asked, insert) => {
          const t = new QTable(4);
          for (const [hi, lo, a] of existing) t.write(t.slot(hi, lo, a), hi + lo, 1);
          // Ask for the table's own run first (the fast path), then arbitrary keys.
          const keys = [...Array(t.size).keys()].map((e) => [t.hi[e], t.lo[e], t.action[e]]).concat(asked);
          const model = t.clone();
          const out = t.locate(
            keys.map((k) => k[0]),
            keys.map((k) => k[1]),
            keys.map((k) => k[2]),
            keys.length,
            new Int32Array(keys.length),
            insert,
          );
          keys.forEach(([hi, lo, a], i) => {
            const want = insert ? model.slot(hi, lo, a) : model.find(hi, lo, a);
            expect(out[i]).toBe(want);
          });
          expect(t.size).toBe(model.size);
        },
      ),
    );
  });

  it('single lookups agree with slot and locate on state halves given as signed 32-bit integers', () => {
    // slot, getQ, getVisits and locate take a half modulo 2^32 (`>>> 0`); find took it as given, so a signed
    // half (hi | 0 of a state with bit 63 set) missed the entry slot had stored.
    const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    fc.assert(
      fc.property(fc.array(fc.tuple(i32, i32, fc.nat(4)), { minLength: 1, maxLength: 60 }), (keys) => {
        const t = new QTable(4);
        const at = keys.map(([hi, lo, a]) => t.slot(hi, lo, a));
        const batch = t.locate(
          keys.map((k) => k[0]),
          keys.map((k) => k[1]),
          keys.map((k) => k[2]),
          keys.length,
          new Int32Array(keys.length),
          false,
        );
        keys.forEach(([hi, lo, a], i) => {
          expect(t.find(hi, lo, a)).toBe(at[i]);
          expect(t.find(hi >>> 0, lo >>> 0, a)).toBe(at[i]);
          expect(batch[i]).toBe(at[i]);
        });
      }),
    );
  });

  it('index slots hold entry | hash tag, found from the home slot, through growth', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.nat(1000), fc.nat(4)), { maxLength: 400 }), (keys) => {
        const t = new QTable(4);
        for (const [hi, lo, a] of keys) t.slot(hi * 7919, lo, a);
        const { index, mask, entryBits } = t.indexView();
        expect(mask + 1).toBe(t.hi.length * 2);
        let used = 0;
        for (const v of index) if (v >= 0) used++;
        expect(used).toBe(t.size);
        for (let e = 0; e < t.size; e++) {
          const h = hashKey(t.hi[e], t.lo[e], t.action[e]);
          const want = e | ((h >>> (entryBits + 1)) << entryBits);
          let s = h & mask;
          while (index[s] !== want) {
            expect(index[s]).toBeGreaterThanOrEqual(0);
            s = (s + 1) & mask;
          }
        }
      }),
    );
  });

  it('refuses a capacity beyond 2^26 entries (the index slot holds the entry in at most 26 bits)', () => {
    expect(() => new QTable(2 ** 26 + 1)).toThrow(/exceed/);
  });
});
