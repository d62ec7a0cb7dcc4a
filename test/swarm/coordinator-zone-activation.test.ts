/**
 * Review (coordinator state machine): a zone update reports the stored values it leaves outside the new safe zone
 * and flags them; the flag exempts them from the invariant "every value inside its zone" while they await
 * correction. A feature that was inactive at the zone update keeps its flagged value, and a later `activate`
 * (no parameters) is accepted: the feature goes live with a value outside its safe zone, and the activation's
 * answer does not mention it.
 */
import { describe, expect, it } from 'vitest';
import { CA, Harness } from './coordinator-helpers.js';

const P = 'caPrimaryScell'; // linked to CA only: absolute [0, 7], safe [0, 3]

describe('activation and values left outside their zone', () => {
  it('activating a feature whose stored value lies outside its current safe zone is refused (OUT_OF_ZONE) unless the activation corrects it', () => {
    const h = new Harness();
    expect(h.run({ op: 'activate', feature: CA, parameters: { [P]: 2 }, at_ms: 0 })).toMatchObject({
      ok: true,
    });
    expect(h.run({ op: 'deactivate', feature: CA, at_ms: 1 })).toMatchObject({ ok: true });
    // While CA is off, the safe zone shrinks to [0, 1]: its stored 2 is reported outside and flagged.
    const zone = {
      absolute_min: 0,
      absolute_max: 7,
      safe_min: 0,
      safe_max: 1,
      change_limit_percent: 10,
      cooldown_seconds: 1800,
    };
    expect(h.run({ op: 'update_safe_zone', parameter: P, zone, at_ms: 2 })).toMatchObject({
      ok: true,
      outside: [{ feature: CA, value: 2 }],
    });
    // Re-activation without correcting the value.
    const r = h.run({ op: 'activate', feature: CA, at_ms: 3 });
    // Observed: { ok: true, activated: [CA], parameters: [] }; CA is live with caPrimaryScell = 2 outside [0, 1].
    expect(r).toMatchObject({ ok: false, code: 'OUT_OF_ZONE' });
    expect(h.sm.isActive(CA)).toBe(false);
  });
});
