/**
 * `percentile` is the nearest-rank percentile, rank = ⌈p/100 · n⌉ (1-based). Computed as
 * Math.ceil((p / 100) * n) in floating point, p/100 is rounded first (0.999 is a little above 999/1000), so an
 * exact integer rank comes out a hair above it and the ceiling takes the next sample.
 */
import { describe, expect, it } from 'vitest';
import { percentile } from '../../src/core/index.js';

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('percentile (nearest rank)', () => {
  it('control: p50 and p99 of 1..1000', () => {
    expect(percentile(oneTo(1000), 50)).toBe(500);
    expect(percentile(oneTo(1000), 99)).toBe(990);
  });

  it('p99.9 of 1..1000 is the 999th sample, not the maximum', () => {
    expect(percentile(oneTo(1000), 99.9)).toBe(999);
  });

  it('p7 of 1..100 is the 7th sample', () => {
    expect(percentile(oneTo(100), 7)).toBe(7);
  });
});
