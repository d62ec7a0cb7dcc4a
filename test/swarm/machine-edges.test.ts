/**
 * The coordinator state machine's parameter rules (docs/coordinator.md, "Rules").
 */
import { describe, expect, it } from 'vitest';
import { MAX_AT_MS } from '../../src/swarm/index.js';
import { CA, Harness } from './coordinator-helpers.js';

const P = 'caPrimaryScell';

function withZone(zone: {
  safe_min: number;
  safe_max: number;
  change_limit_percent: number;
  cooldown_seconds: number;
}): Harness {
  const h = new Harness();
  expect(h.run({ op: 'activate', feature: CA, at_ms: 0 })).toMatchObject({ ok: true });
  const z = { absolute_min: zone.safe_min, absolute_max: zone.safe_max, ...zone };
  expect(h.run({ op: 'update_safe_zone', parameter: P, zone: z, at_ms: 0 })).toMatchObject({ ok: true });
  return h;
}

describe('change limit and cooldown', () => {
  it('a change of exactly the limit is accepted for subnormal values too (the halved comparison rounds them away)', () => {
    const h = withZone({ safe_min: 0, safe_max: 1, change_limit_percent: 50, cooldown_seconds: 0 });
    expect(h.run({ op: 'set_parameter', feature: CA, parameter: P, value: 1e-323, at_ms: 0 })).toMatchObject({
      ok: true,
    });
    // |5e-324 − 1e-323| = 5e-324 = 50 % × 1e-323: within the limit (the refusal itself says max_change 5e-324).
    const r = h.run({ op: 'set_parameter', feature: CA, parameter: P, value: 5e-324, at_ms: 1 });
    expect(r).toMatchObject({ ok: true, changed: true });
  });

  it('a command stamped past MAX_AT_MS is refused as MALFORMED; at MAX_AT_MS a cooldown still holds', () => {
    const h = withZone({ safe_min: 0, safe_max: 100, change_limit_percent: 100, cooldown_seconds: 3600 });
    // At 1e300 the clock would absorb cooldown_seconds × 1000 and a second change at once would pass.
    expect(h.run({ op: 'set_parameter', feature: CA, parameter: P, value: 50, at_ms: 1e300 })).toMatchObject({
      ok: false,
      code: 'MALFORMED',
    });
    expect(
      h.run({ op: 'set_parameter', feature: CA, parameter: P, value: 50, at_ms: MAX_AT_MS }),
    ).toMatchObject({
      ok: true,
    });
    const r = h.run({ op: 'set_parameter', feature: CA, parameter: P, value: 55, at_ms: MAX_AT_MS });
    expect(r).toMatchObject({ ok: false, code: 'COOLDOWN' });
  });
});
