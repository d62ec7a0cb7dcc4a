import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortByKey, sortPrefix } from '../../src/learning/small-sort.js';

// Few distinct values, so ties (and −0 next to +0) are common; NaN now and then.
const value = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(-1.5, -0.25, -0, 0, 0.25, 1, 3) },
  { weight: 4, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
);

describe('small sorts (trust.ts): the built-in sorts exactly', () => {
  it('sortPrefix orders a typed array prefix as TypedArray#sort does, and leaves the rest', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 45 }), fc.nat(45), (xs, cut) => {
        const n = Math.min(cut, xs.length);
        const a = Float64Array.from(xs);
        const b = Float64Array.from(xs);
        sortPrefix(a, n);
        b.subarray(0, n).sort();
        // Object.is tells −0 from +0 and NaN from NaN positions.
        expect([...a].map((x, i) => Object.is(x, b[i]))).toEqual(xs.map(() => true));
      }),
      { numRuns: 500 },
    );
  });

  it('sortByKey orders cells as the built-in stable sort with a comparator does (ties keep their order)', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 45 }), (keys) => {
        const key = Float64Array.from(keys);
        const cells = keys.map((_, i) => i);
        const expected = [...cells].sort((x, y) => key[x] - key[y]);
        sortByKey(cells, key);
        expect(cells).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
