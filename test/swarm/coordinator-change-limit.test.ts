/**
 * The change limit of `set_parameter` overflows for values near Number.MAX_VALUE.
 * docs/coordinator.md: CHANGE_TOO_LARGE unless |value − current| ≤ change_limit_percent % × |current|
 * ("for a zone wider than Number.MAX_VALUE, computed without overflowing").
 */
import { describe, expect, it } from 'vitest';
import { CA, Harness } from './coordinator-helpers.js';

const M = Number.MAX_VALUE;
const WIDE = {
  absolute_min: -M,
  absolute_max: M,
  safe_min: -M,
  safe_max: M,
  change_limit_percent: 100,
  cooldown_seconds: 0,
};

function setUp(first: number): Harness {
  const h = new Harness();
  expect(h.run({ op: 'activate', feature: CA, at_ms: 0 })).toMatchObject({ ok: true });
  expect(h.run({ op: 'update_safe_zone', parameter: 'caPrimaryScell', zone: WIDE, at_ms: 0 })).toMatchObject({
    ok: true,
  });
  expect(
    h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: first, at_ms: 0 }),
  ).toMatchObject({ ok: true });
  return h;
}

describe('change limit near Number.MAX_VALUE', () => {
  it('control: 1e300 → −1e300 (a 200 % change) is refused under a 100 % limit', () => {
    const h = setUp(1e300);
    expect(
      h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: -1e300, at_ms: 1 }),
    ).toMatchObject({ ok: false, code: 'CHANGE_TOO_LARGE' });
  });

  it('MAX_VALUE → −MAX_VALUE (the same 200 % change) is refused under a 100 % limit', () => {
    const h = setUp(M);
    const r = h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: -M, at_ms: 1 });
    // |−M − M| = 2·M > 100 % × |M|: the difference overflows to Infinity, and so does
    // maxChange·(1 + CHANGE_EPSILON), and Infinity > Infinity is false, so any change passes.
    expect(r).toMatchObject({ ok: false, code: 'CHANGE_TOO_LARGE' });
    expect(h.sm.value(CA, 'caPrimaryScell')).toBe(M);
  });
});
