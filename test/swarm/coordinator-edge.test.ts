import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CoordinatorStateMachine,
  decodeCommand,
  encodeCommand,
  MAX_REGISTERED_AGENTS,
} from '../../src/swarm/index.js';
import { CA, catalog, Harness, IFLB } from './coordinator-helpers.js';

const enc = new TextEncoder();
const HOUR = 3_600_000;

describe('coordinator: decoder edge cases', () => {
  it('never drops a parameter: a `__proto__` key is refused, not silently ignored', () => {
    const h = new Harness();
    const before = h.sm.snapshot();
    const r = h.raw(enc.encode(`{"op":"activate","feature":"${CA}","parameters":{"__proto__":5},"at_ms":0}`));
    expect(r).toMatchObject({ ok: false, code: 'MALFORMED' });
    expect((r as { message: string }).message).toMatch(/__proto__/);
    expect(h.sm.isActive(CA)).toBe(false);
    expect(Buffer.from(h.sm.snapshot()).equals(Buffer.from(before))).toBe(true);
  });

  it('a decoded command keeps every field it was given (fast-check)', () => {
    const key = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'toString', 'caPrimaryScell', 'mroMode'),
      fc.string({ minLength: 1, maxLength: 12 }),
    );
    const num = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
    const activate = fc.record(
      {
        op: fc.constant('activate'),
        feature: fc.constantFrom(CA, 'FAJ_121_3009'),
        parameters: fc.dictionary(key, num, { maxKeys: 4 }),
        at_ms: fc.nat(),
      },
      { requiredKeys: ['op', 'feature', 'parameters', 'at_ms'] },
    );
    fc.assert(
      fc.property(activate, (cmd) => {
        const text = JSON.stringify(cmd);
        const d = decodeCommand(enc.encode(text));
        // Either refused, or decoded with exactly the parameters it carried.
        if (d.ok) expect(JSON.stringify(d.command)).toBe(text);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('normalises -0, so a replica restored from a snapshot answers exactly like the original', () => {
    const a = new CoordinatorStateMachine(catalog);
    a.apply(1, encodeCommand({ op: 'activate', feature: CA, at_ms: 0 }));
    a.apply(
      2,
      enc.encode(
        `{"op":"set_parameter","feature":"${CA}","parameter":"caPrimaryScell","value":-0,"at_ms":0}`,
      ),
    );
    const d = new CoordinatorStateMachine(catalog);
    d.restore(a.snapshot(), 2);
    const next = encodeCommand({
      op: 'set_parameter',
      feature: CA,
      parameter: 'caPrimaryScell',
      value: 0.2,
      at_ms: HOUR,
    });
    const ra = a.apply(3, next);
    expect(ra).toMatchObject({ ok: true, changed: true });
    expect(d.apply(3, next)).toEqual(ra); // toEqual tells -0 from 0
    expect(Object.is((ra as { change: { previous: number } }).change.previous, 0)).toBe(true);
  });
  it('decodes no -0 anywhere (spelled -0, -0.0e3 or underflowing -1e-400)', () => {
    const hasNegativeZero = (v: unknown): boolean =>
      Object.is(v, -0) ||
      (typeof v === 'object' && v !== null && Object.values(v).some((x) => hasNegativeZero(x)));
    for (const z of ['-0', '-0.0e3', '-1e-400']) {
      for (const text of [
        `{"op":"activate","feature":"${CA}","parameters":{"caPrimaryScell":${z}},"at_ms":${z}}`,
        `{"op":"set_parameter","feature":"${CA}","parameter":"caPrimaryScell","value":${z},"at_ms":${z}}`,
        `{"op":"update_safe_zone","parameter":"caPrimaryScell","zone":{"absolute_min":${z},"absolute_max":7,` +
          `"safe_min":${z},"safe_max":3,"change_limit_percent":${z},"cooldown_seconds":${z}},"at_ms":${z}}`,
        `{"op":"register_agent","agent":"a","feature":"${CA}","at_ms":${z}}`,
      ]) {
        const d = decodeCommand(enc.encode(text));
        expect(d.ok, text).toBe(true);
        expect(hasNegativeZero(d), text).toBe(false);
      }
    }
  });
});

describe('coordinator: change limit and cooldown edge cases', () => {
  it('a 0 % change limit refuses every change even when the safe zone is wider than Number.MAX_VALUE', () => {
    const h = new Harness();
    const wide = {
      absolute_min: -1.7e308,
      absolute_max: 1.7e308,
      safe_min: -1.7e308,
      safe_max: 1.7e308,
      change_limit_percent: 0,
      cooldown_seconds: 0,
    };
    expect(h.run({ op: 'update_safe_zone', parameter: 'caPrimaryScell', zone: wide, at_ms: 0 }).ok).toBe(
      true,
    );
    expect(h.run({ op: 'activate', feature: CA, parameters: { caPrimaryScell: 0 }, at_ms: 0 }).ok).toBe(true);
    const before = h.sm.snapshot();
    expect(
      h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: 1e300, at_ms: HOUR }),
    ).toMatchObject({ ok: false, code: 'CHANGE_TOO_LARGE', max_change: 0 });
    expect(Buffer.from(h.sm.snapshot()).equals(Buffer.from(before))).toBe(true);
    expect(h.sm.value(CA, 'caPrimaryScell')).toBe(0);
  });

  it('10 % of a safe zone wider than Number.MAX_VALUE is still a finite limit', () => {
    const h = new Harness();
    h.run({
      op: 'update_safe_zone',
      parameter: 'caPrimaryScell',
      zone: {
        absolute_min: -1.7e308,
        absolute_max: 1.7e308,
        safe_min: -1.7e308,
        safe_max: 1.7e308,
        change_limit_percent: 10,
        cooldown_seconds: 0,
      },
      at_ms: 0,
    });
    h.run({ op: 'activate', feature: CA, parameters: { caPrimaryScell: 0 }, at_ms: 0 });
    // 10 % of 3.4e308 is 3.4e307: a move to 1e308 is too large, to 3e307 fine.
    expect(
      h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: 1e308, at_ms: HOUR }),
    ).toMatchObject({ ok: false, code: 'CHANGE_TOO_LARGE' });
    expect(
      h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: 3e307, at_ms: HOUR }).ok,
    ).toBe(true);
  });

  it('re-activating with the stored value starts no cooldown, like set_parameter with the current value', () => {
    // caPrimaryScell: safe [0, 3], 10 %, cooldown 1800 s.
    const h = new Harness();
    h.run({ op: 'activate', feature: CA, parameters: { caPrimaryScell: 1 }, at_ms: 0 });
    h.run({ op: 'deactivate', feature: CA, at_ms: HOUR });
    const again = h.run({ op: 'activate', feature: CA, parameters: { caPrimaryScell: 1 }, at_ms: HOUR });
    expect(again).toMatchObject({
      ok: true,
      parameters: [{ feature: CA, parameter: 'caPrimaryScell', value: 1, previous: 1 }],
    });
    // The last change was at 0 ms: an hour later the cooldown is long over.
    expect(
      h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: 1.05, at_ms: HOUR + 1 }),
    ).toMatchObject({ ok: true, changed: true });
  });
});

describe('coordinator: the agent registry is bounded', () => {
  it('refuses a new agent once MAX_REGISTERED_AGENTS are registered (REGISTRY_FULL); re-registering one is taken', () => {
    const h = new Harness();
    for (let i = 0; i < MAX_REGISTERED_AGENTS; i++)
      expect(h.run({ op: 'register_agent', agent: `a${i}`, feature: CA, at_ms: 0 }).ok).toBe(true);
    const before = h.sm.snapshot();
    const r = h.run({ op: 'register_agent', agent: 'one-more', feature: CA, at_ms: 0 });
    expect(r).toMatchObject({ ok: false, code: 'REGISTRY_FULL', limit: MAX_REGISTERED_AGENTS });
    expect(Buffer.from(h.sm.snapshot()).equals(Buffer.from(before))).toBe(true);
    // An agent already registered moves (a restart elsewhere), and a freed place is taken again.
    expect(h.run({ op: 'register_agent', agent: 'a0', feature: IFLB, at_ms: 0 })).toMatchObject({
      ok: true,
      replaced: true,
    });
    expect(h.run({ op: 'deregister_agent', agent: 'a1', at_ms: 0 }).ok).toBe(true);
    expect(h.run({ op: 'register_agent', agent: 'one-more', feature: CA, at_ms: 0 }).ok).toBe(true);
  });
});
