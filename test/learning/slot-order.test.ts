import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Delta, emptyDelta, mergeVisitWeightedInto, QTable } from '../../src/learning/index.js';
import { hashKey } from '../../src/learning/q-table.js';
import {
  followsEntryOrder,
  mergeVisitWeightedDirect,
  mergeVisitWeightedOrdered,
  type SlotOrderOptions,
  SlotOrderScratch,
} from '../../src/learning/slot-order.js';

const U32_MAX = 0xffffffff;

/** The straightforward merge, key by key in delta order (what the merge was before the bucketed path). */
function reference(t: QTable, d: Delta): number {
  const ix: number[] = [];
  for (let i = 0; i < d.count; i++) ix.push(t.slot(d.hi[i], d.lo[i], d.action[i]));
  let changed = 0;
  for (let i = 0; i < d.count; i++) {
    const e = ix[i];
    const nl = t.visits[e];
    const np = d.visits[i];
    const n = nl + np;
    if (n === 0) continue;
    const v = (t.q[e] * nl + d.q[i] * np) / n;
    if (!Number.isFinite(v)) continue;
    t.q[e] = v;
    t.visits[e] = n > U32_MAX ? U32_MAX : n;
    t.version[e] = ++t.clock;
    changed++;
  }
  return changed;
}

function expectSameTable(a: QTable, b: QTable): void {
  expect(a.size).toBe(b.size);
  expect(a.clock).toBe(b.clock);
  const n = a.size;
  expect(Array.from(a.hi.subarray(0, n))).toEqual(Array.from(b.hi.subarray(0, n)));
  expect(Array.from(a.lo.subarray(0, n))).toEqual(Array.from(b.lo.subarray(0, n)));
  expect(Array.from(a.action.subarray(0, n))).toEqual(Array.from(b.action.subarray(0, n)));
  expect(Array.from(a.q.subarray(0, n))).toEqual(Array.from(b.q.subarray(0, n)));
  expect(Array.from(a.visits.subarray(0, n))).toEqual(Array.from(b.visits.subarray(0, n)));
  expect(Array.from(a.version.subarray(0, n))).toEqual(Array.from(b.version.subarray(0, n)));
  for (let e = 0; e < n; e++) expect(a.find(b.hi[e], b.lo[e], b.action[e])).toBe(e);
}

type Key = [number, number, number];
const key = (hiMax: number, loMax: number): fc.Arbitrary<Key> =>
  fc
    .tuple(fc.nat(hiMax), fc.nat(loMax), fc.nat(6))
    .map(([h, l, a]) => [h * 0x9e3779b1, l, a === 6 ? 255 : a]);
const qValue = fc.oneof(
  { weight: 12, arbitrary: fc.float({ min: -20, max: 20, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0) },
);
const visits = fc.oneof(
  { weight: 8, arbitrary: fc.nat(9) },
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constantFrom(U32_MAX, U32_MAX - 1, 0x80000000) },
);

function build(entries: Array<[Key, number, number]>, expected: number): QTable {
  const t = new QTable(expected);
  for (const [[hi, lo, a], q, n] of entries) t.write(t.slot(hi, lo, a), q, n);
  return t;
}

function delta(rows: Array<[Key, number, number]>): Delta {
  const d = emptyDelta('peer', 'p', rows.length);
  rows.forEach(([[hi, lo, a], q, n], i) => {
    d.hi[i] = hi;
    d.lo[i] = lo;
    d.action[i] = a;
    d.q[i] = q;
    d.visits[i] = n;
  });
  return d;
}

const options: fc.Arbitrary<SlotOrderOptions> = fc.record({
  chunk: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constant(1 << 20)),
  slotBucketLog: fc.integer({ min: 0, max: 6 }),
  entryBucketLog: fc.integer({ min: 0, max: 6 }),
});

describe('bucketed visit-weighted merge (slot-order)', () => {
  it('gives the per-key merge’s table bit for bit: values, visits, versions, clock, inserted entries', () => {
    const scratch = new SlotOrderScratch();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key(3, 30), qValue.filter(Number.isFinite), fc.nat(9)), { maxLength: 120 }),
        // Keys from the same small space: updates, new keys, repeats within the delta.
        fc.array(fc.tuple(key(4, 36), qValue, visits), { maxLength: 160 }),
        fc.nat(40),
        fc.boolean(),
        fc.boolean(),
        options,
        (existing, rows, hotRepeats, tight, shuffle, o) => {
          // A hot key repeated many times overfills its slot bucket (the overflow path).
          const all = [...rows];
          if (rows.length > 0) for (let r = 0; r < hotRepeats; r++) all.push([rows[0][0], 0.25 * r, r % 3]);
          if (shuffle) all.reverse();
          // A tight table grows during the merge; a roomy one does not.
          const base = build(existing, tight ? 4 : 512);
          const d = delta(all);
          const want = base.clone();
          const wantChanged = reference(want, d);
          const got = base.clone();
          expect(mergeVisitWeightedOrdered(got, d, scratch, o)).toBe(wantChanged);
          expectSameTable(got, want);
          const direct = base.clone();
          expect(mergeVisitWeightedDirect(direct, d)).toBe(wantChanged);
          expectSameTable(direct, want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles an empty delta, an empty table and a delta of only new keys', () => {
    const scratch = new SlotOrderScratch();
    const empty = new QTable(4);
    const t = empty.clone();
    expect(mergeVisitWeightedOrdered(t, emptyDelta('peer', 'p', 0), scratch)).toBe(0);
    expectSameTable(t, empty);
    const rows: Array<[Key, number, number]> = [];
    for (let i = 0; i < 300; i++) rows.push([[i >> 2, i * 7, i % 5], i / 100, 1 + (i % 3)]);
    const d = delta(rows);
    const want = empty.clone();
    const wantChanged = reference(want, d);
    const got = empty.clone();
    expect(mergeVisitWeightedOrdered(got, d, scratch, { entryBucketLog: 2, slotBucketLog: 2 })).toBe(
      wantChanged,
    );
    expectSameTable(got, want);
    expect(got.size).toBe(300);
  });

  it('resolves a key whose hash equals another key’s (the tag matches, the key does not)', () => {
    // Two keys with the same 32-bit hash: same home slot and tag in any table.
    const seen = new Map<number, number>();
    let pair: [number, number] | undefined;
    for (let lo = 0; lo < 400_000 && !pair; lo++) {
      const h = hashKey(7, lo, 1);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, lo];
      else seen.set(h, lo);
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!;
    const base = build(
      [
        [[7, a, 1], 0.5, 2],
        [[1, 2, 3], 0.1, 1],
      ],
      16,
    );
    const d = delta([
      [[7, b, 1], 0.9, 3],
      [[7, a, 1], -0.5, 2],
      [[7, b, 1], 0.3, 1],
    ]);
    const want = base.clone();
    const wantChanged = reference(want, d);
    const got = base.clone();
    expect(mergeVisitWeightedOrdered(got, d, new SlotOrderScratch())).toBe(wantChanged);
    expectSameTable(got, want);
    expect(got.find(7, b, 1)).toBeGreaterThan(0);
  });

  it('reads delta columns that are views into larger buffers (q is copied as its f32 bits)', () => {
    const base = build(
      [
        [[1, 2, 3], 0.5, 2],
        [[4, 5, 1], -1.25, 7],
      ],
      64,
    );
    const rows: Array<[Key, number, number]> = [
      [[4, 5, 1], 0.75, 3],
      [[9, 9, 0], -0.0, 1],
      [[1, 2, 3], Number.NaN, 4],
      [[1, 2, 3], 3.5e-41, 2],
    ];
    const plain = delta(rows);
    const d = { ...plain };
    const at = 3;
    const view = <T extends Uint32Array | Uint8Array | Float32Array>(col: T, make: (n: number) => T): T => {
      const big = make(col.length + 2 * at);
      big.set(col, at);
      return big.subarray(at, at + col.length) as T;
    };
    d.hi = view(plain.hi, (n) => new Uint32Array(n));
    d.lo = view(plain.lo, (n) => new Uint32Array(n));
    d.action = view(plain.action, (n) => new Uint8Array(n));
    d.q = view(plain.q, (n) => new Float32Array(n));
    d.visits = view(plain.visits, (n) => new Uint32Array(n));
    expect(d.q.byteOffset).toBe(at * 4);
    const want = base.clone();
    const wantChanged = reference(want, plain);
    const got = base.clone();
    expect(mergeVisitWeightedOrdered(got, d, new SlotOrderScratch(), { slotBucketLog: 1 })).toBe(wantChanged);
    expectSameTable(got, want);
  });

  it('mergeVisitWeightedInto takes the bucketed path for a large delta into a large table, same result', () => {
    const base = new QTable(1 << 18);
    for (let i = 0; i < 20_000; i++)
      base.write(base.slot(i * 2654435761, i, i % 5), (i % 50) / 50, 1 + (i % 4));
    const rows: Array<[Key, number, number]> = [];
    // Existing keys in a scrambled order, repeats and new keys.
    for (let k = 0; k < 12_000; k++) {
      const i = (k * 7919) % 25_000;
      rows.push([[(i * 2654435761) >>> 0, i, i % 5], ((k % 40) - 20) / 10, k % 6]);
    }
    const d = delta(rows);
    const want = base.clone();
    const wantChanged = reference(want, d);
    const got = base.clone();
    expect(mergeVisitWeightedInto(got, d)).toBe(wantChanged);
    expectSameTable(got, want);
  });

  it('routes deltas in the table’s entry order to the per-key merge (it follows runs), others to buckets', () => {
    const base = new QTable(1 << 18);
    for (let i = 0; i < 30_000; i++) base.write(base.slot(i * 2654435761, i, i % 5), 0.5, 1);
    const inOrder: Array<[Key, number, number]> = [];
    for (let e = 100; e < 20_100; e++) inOrder.push([[base.hi[e], base.lo[e], base.action[e]], -0.25, 2]);
    const d = delta(inOrder);
    expect(followsEntryOrder(base, d)).toBe(true);
    expect(followsEntryOrder(base, delta([...inOrder].reverse()))).toBe(false);
    const want = base.clone();
    const wantChanged = reference(want, d);
    const got = base.clone();
    expect(mergeVisitWeightedInto(got, d)).toBe(wantChanged);
    expectSameTable(got, want);
  });
});
