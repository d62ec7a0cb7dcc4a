import { describe, expect, it } from 'vitest';
import { ElexError } from '../../src/core/index.js';
import { CoordinatorStateMachine, decodeCommand, encodeCommand } from '../../src/swarm/index.js';
import { CA, CM_DRX, CTIFH, CTIFSC, catalog, Harness, IFLB, RRP } from './coordinator-helpers.js';

const HOUR = 3_600_000;

describe('coordinator: activation', () => {
  it('refuses a feature whose prerequisites are not active, naming them in activation order', () => {
    const h = new Harness();
    const before = h.sm.snapshot();
    const r = h.run({ op: 'activate', feature: IFLB, at_ms: 0 });
    expect(r).toMatchObject({
      ok: false,
      code: 'MISSING_PREREQUISITE',
      feature: IFLB,
      missing: [CTIFSC, CTIFH],
    });
    expect(h.sm.snapshot()).toEqual(before);
  });

  it('with_prerequisites activates the missing chain in activation order in one entry', () => {
    const h = new Harness();
    h.run({ op: 'activate', feature: CTIFSC, at_ms: 0 });
    const r = h.run({ op: 'activate', feature: IFLB, with_prerequisites: true, at_ms: 10 });
    expect(r).toMatchObject({ ok: true, activated: [CTIFH, IFLB] });
    expect(h.sm.activeFeatures()).toEqual([CTIFSC, CTIFH, IFLB].sort());
    expect(h.sm.activeSince(IFLB)).toBe(2);
    expect(h.sm.invariants()).toEqual([]);
  });

  it('refuses a conflict with an active feature, in both directions', () => {
    const h = new Harness();
    h.run({ op: 'activate', feature: RRP, at_ms: 0 });
    const r = h.run({ op: 'activate', feature: IFLB, with_prerequisites: true, at_ms: 1 });
    expect(r).toMatchObject({ ok: false, code: 'CONFLICT', feature: IFLB, conflicts_with: [RRP] });
    expect(h.sm.activeFeatures()).toEqual([RRP]); // the chain was not half-activated

    const g = new Harness();
    g.run({ op: 'activate', feature: IFLB, with_prerequisites: true, at_ms: 0 });
    expect(g.run({ op: 'activate', feature: RRP, at_ms: 1 })).toMatchObject({
      ok: false,
      code: 'CONFLICT',
      conflicts_with: [IFLB],
    });
  });

  it('of two concurrent conflicting activations exactly the first in the log wins', () => {
    const h = new Harness();
    const a = h.run({ op: 'activate', feature: IFLB, with_prerequisites: true, at_ms: 5 });
    const b = h.run({ op: 'activate', feature: RRP, at_ms: 5 });
    expect([a.ok, b.ok]).toEqual([true, false]);
  });

  it('refuses an already active feature and an unknown one', () => {
    const h = new Harness();
    h.run({ op: 'activate', feature: CA, at_ms: 0 });
    expect(h.run({ op: 'activate', feature: CA, at_ms: 1 })).toMatchObject({
      ok: false,
      code: 'ALREADY_ACTIVE',
    });
    expect(h.run({ op: 'activate', feature: 'FAJ_121_9999', at_ms: 1 })).toMatchObject({
      ok: false,
      code: 'UNKNOWN_FEATURE',
    });
  });

  it('checks activation parameters against their safe zones, atomically', () => {
    const h = new Harness();
    const bad = h.run({
      op: 'activate',
      feature: CM_DRX,
      parameters: { drxCycle: 100, drxInactivityTimer: 5000 },
      at_ms: 0,
    });
    expect(bad).toMatchObject({
      ok: false,
      code: 'OUT_OF_ZONE',
      parameter: 'drxInactivityTimer',
      bound: 'absolute',
    });
    expect(h.sm.isActive(CM_DRX)).toBe(false);
    expect(h.sm.value(CM_DRX, 'drxCycle')).toBeUndefined();
    const ok = h.run({
      op: 'activate',
      feature: CM_DRX,
      parameters: { drxCycle: 100, mroMode: 0.5 },
      at_ms: 0,
    });
    expect(ok).toMatchObject({ ok: true, activated: [CM_DRX] });
    expect(h.sm.value(CM_DRX, 'drxCycle')).toBe(100);
    expect(h.sm.value(CM_DRX, 'mroMode')).toBe(0.5); // a global zone applies to every feature
    expect(
      h.run({ op: 'activate', feature: CA, parameters: { lbActivationThreshold: 60 }, at_ms: 0 }),
    ).toMatchObject({ ok: false, code: 'PARAMETER_NOT_APPLICABLE' });
  });
});

describe('coordinator: deactivation', () => {
  it('refuses while an active feature requires it, unless cascade', () => {
    const h = new Harness();
    h.run({ op: 'activate', feature: IFLB, with_prerequisites: true, at_ms: 0 });
    const before = h.sm.snapshot();
    expect(h.run({ op: 'deactivate', feature: CTIFSC, at_ms: 1 })).toMatchObject({
      ok: false,
      code: 'REQUIRED_BY',
      required_by: [CTIFH],
    });
    expect(h.sm.snapshot()).toEqual(before);
    const r = h.run({ op: 'deactivate', feature: CTIFSC, cascade: true, at_ms: 2 });
    expect(r).toMatchObject({ ok: true, deactivated: [IFLB, CTIFH, CTIFSC] });
    expect(h.sm.activeFeatures()).toEqual([]);
    expect(h.run({ op: 'deactivate', feature: CTIFSC, at_ms: 3 })).toMatchObject({
      ok: false,
      code: 'NOT_ACTIVE',
    });
  });

  it('deactivates a leaf without cascade', () => {
    const h = new Harness();
    h.run({ op: 'activate', feature: IFLB, with_prerequisites: true, at_ms: 0 });
    expect(h.run({ op: 'deactivate', feature: IFLB, at_ms: 1 })).toMatchObject({
      ok: true,
      deactivated: [IFLB],
    });
    expect(h.sm.invariants()).toEqual([]);
  });
});

describe('coordinator: parameters', () => {
  function withIflb(): Harness {
    const h = new Harness();
    h.run({
      op: 'activate',
      feature: IFLB,
      with_prerequisites: true,
      parameters: { lbActivationThreshold: 80 },
      at_ms: 0,
    });
    return h;
  }

  it('keeps values within the safe zone and the absolute bounds', () => {
    const h = withIflb();
    expect(
      h.run({
        op: 'set_parameter',
        feature: IFLB,
        parameter: 'lbActivationThreshold',
        value: 95,
        at_ms: HOUR,
      }),
    ).toMatchObject({
      ok: false,
      code: 'OUT_OF_ZONE',
      bound: 'safe',
      min: 50,
      max: 90,
    });
    expect(
      h.run({
        op: 'set_parameter',
        feature: IFLB,
        parameter: 'lbActivationThreshold',
        value: 101,
        at_ms: HOUR,
      }),
    ).toMatchObject({
      code: 'OUT_OF_ZONE',
      bound: 'absolute',
    });
    expect(
      h.run({ op: 'set_parameter', feature: IFLB, parameter: 'nope', value: 1, at_ms: HOUR }),
    ).toMatchObject({
      code: 'UNKNOWN_PARAMETER',
    });
  });

  it('limits a change to change_limit_percent of the current value (15 % for lbActivationThreshold)', () => {
    const h = withIflb();
    const tooBig = h.run({
      op: 'set_parameter',
      feature: IFLB,
      parameter: 'lbActivationThreshold',
      value: 62,
      at_ms: HOUR,
    });
    expect(tooBig).toMatchObject({
      ok: false,
      code: 'CHANGE_TOO_LARGE',
      from: 80,
      to: 62,
      limit_percent: 15,
    });
    expect((tooBig as { max_change: number }).max_change).toBeCloseTo(12);
    const ok = h.run({
      op: 'set_parameter',
      feature: IFLB,
      parameter: 'lbActivationThreshold',
      value: 68,
      at_ms: HOUR,
    });
    expect(ok).toMatchObject({ ok: true, changed: true, change: { previous: 80, value: 68 } });
  });

  it('measures the limit against the safe zone width when the current value is 0', () => {
    const h = new Harness();
    h.run({ op: 'activate', feature: CA, parameters: { caPrimaryScell: 0 }, at_ms: 0 });
    // caPrimaryScell: safe [0, 3], 10 %: from 0 at most 0.3.
    expect(
      h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: 0.5, at_ms: HOUR }),
    ).toMatchObject({
      code: 'CHANGE_TOO_LARGE',
      max_change: 0.30000000000000004,
    });
    expect(
      h.run({ op: 'set_parameter', feature: CA, parameter: 'caPrimaryScell', value: 0.3, at_ms: HOUR }).ok,
    ).toBe(true);
  });

  it('refuses a change before the cooldown since the last one, on the stamped leader clock', () => {
    const h = withIflb();
    const early = h.run({
      op: 'set_parameter',
      feature: IFLB,
      parameter: 'lbActivationThreshold',
      value: 85,
      at_ms: HOUR - 1,
    });
    expect(early).toMatchObject({ ok: false, code: 'COOLDOWN', until_ms: HOUR });
    expect(
      h.run({
        op: 'set_parameter',
        feature: IFLB,
        parameter: 'lbActivationThreshold',
        value: 85,
        at_ms: HOUR,
      }).ok,
    ).toBe(true);
    // A leader whose clock is behind cannot shorten the cooldown: the machine's clock never runs backwards.
    expect(
      h.run({ op: 'set_parameter', feature: IFLB, parameter: 'lbActivationThreshold', value: 88, at_ms: 0 }),
    ).toMatchObject({
      code: 'COOLDOWN',
      until_ms: 2 * HOUR,
    });
  });

  it('refuses a parameter of an inactive feature', () => {
    const h = new Harness();
    expect(
      h.run({ op: 'set_parameter', feature: IFLB, parameter: 'lbActivationThreshold', value: 60, at_ms: 0 }),
    ).toMatchObject({
      code: 'NOT_ACTIVE',
    });
  });
});

describe('coordinator: safe-zone updates', () => {
  const zone = (over: Partial<Record<string, number>>) => ({
    absolute_min: 10,
    absolute_max: 100,
    safe_min: 50,
    safe_max: 90,
    change_limit_percent: 15,
    cooldown_seconds: 3600,
    ...over,
  });

  it('validates the zone', () => {
    const h = new Harness();
    for (const [over, reason] of [
      [{ safe_min: 5 }, /absolute_min 10 > safe_min 5/],
      [{ safe_min: 95 }, /safe_min 95 > safe_max 90|safe_max/],
      [{ absolute_max: 80 }, /safe_max 90 > absolute_max 80/],
      [{ change_limit_percent: -1 }, /change_limit_percent/],
      [{ cooldown_seconds: -5 }, /cooldown_seconds/],
    ] as const) {
      const r = h.run({
        op: 'update_safe_zone',
        parameter: 'lbActivationThreshold',
        zone: zone(over),
        at_ms: 0,
      });
      expect(r).toMatchObject({ ok: false, code: 'INVALID_ZONE' });
      expect((r as { reason: string }).reason).toMatch(reason);
    }
    expect(h.sm.zone('lbActivationThreshold')!.safe_min).toBe(50);
  });

  it('reports values the new zone leaves outside; they may be corrected at once', () => {
    const h = new Harness();
    h.run({
      op: 'activate',
      feature: IFLB,
      with_prerequisites: true,
      parameters: { lbActivationThreshold: 85 },
      at_ms: 0,
    });
    const r = h.run({
      op: 'update_safe_zone',
      parameter: 'lbActivationThreshold',
      zone: zone({ safe_max: 70 }),
      at_ms: 1,
    });
    expect(r).toEqual({
      ok: true,
      op: 'update_safe_zone',
      parameter: 'lbActivationThreshold',
      outside: [{ feature: IFLB, value: 85 }],
    });
    expect(h.sm.outOfZone()).toEqual([{ feature: IFLB, parameter: 'lbActivationThreshold', value: 85 }]);
    expect(h.sm.invariants()).toEqual([]); // reported, so not a violation
    // Corrective move: more than 15 % and inside the cooldown, still accepted because it re-enters the zone.
    expect(
      h.run({ op: 'set_parameter', feature: IFLB, parameter: 'lbActivationThreshold', value: 60, at_ms: 2 })
        .ok,
    ).toBe(true);
    expect(h.sm.outOfZone()).toEqual([]);
  });
});

describe('coordinator: agents, reads, malformed input', () => {
  it('registers and deregisters agents by feature and category', () => {
    const h = new Harness();
    expect(h.run({ op: 'register_agent', agent: 'agent-iflb', feature: IFLB, at_ms: 0 })).toMatchObject({
      ok: true,
      category: 'rrm',
      replaced: false,
    });
    expect(h.sm.agentsFor(IFLB)).toEqual(['agent-iflb']);
    expect(h.sm.agentsIn('rrm')).toEqual(['agent-iflb']);
    expect(h.run({ op: 'register_agent', agent: 'x', feature: 'FAJ_121_0000', at_ms: 0 })).toMatchObject({
      code: 'UNKNOWN_FEATURE',
    });
    expect(h.run({ op: 'deregister_agent', agent: 'agent-iflb', at_ms: 1 }).ok).toBe(true);
    expect(h.run({ op: 'deregister_agent', agent: 'agent-iflb', at_ms: 1 })).toMatchObject({
      code: 'UNKNOWN_AGENT',
    });
  });

  it('dependencyCheck reports missing prerequisites, active conflicts and the activation order', () => {
    const h = new Harness();
    h.run({ op: 'activate', feature: RRP, at_ms: 0 });
    h.run({ op: 'activate', feature: CTIFSC, at_ms: 0 });
    const before = h.sm.snapshot();
    expect(h.sm.dependencyCheck(IFLB)).toEqual({
      ok: true,
      feature: IFLB,
      active: false,
      missing: [CTIFH],
      active_conflicts: [RRP],
      activation_order: [CTIFSC, CTIFH, IFLB],
      can_activate: false,
      can_activate_with_prerequisites: false,
      applied_index: 2,
    });
    expect(h.sm.snapshot()).toEqual(before);
    expect(h.sm.dependencyCheck('bogus')).toMatchObject({ ok: false, code: 'UNKNOWN_FEATURE' });
  });

  it('answers malformed commands with a typed refusal and changes nothing', () => {
    const h = new Harness();
    const before = h.sm.snapshot();
    const enc = new TextEncoder();
    for (const bytes of [
      new Uint8Array([0xff, 0xfe, 0x00]),
      enc.encode('{"op":"activate"'),
      enc.encode('{"op":"launch","at_ms":0}'),
      enc.encode('{"op":"activate","feature":"FAJ_121_3046","at_ms":-1}'),
      enc.encode(
        '{"op":"set_parameter","feature":"FAJ_121_3046","parameter":"caEnabled","value":"1","at_ms":0}',
      ),
      enc.encode('{"op":"activate","feature":"FAJ_121_3046","at_ms":0,"extra":1}'),
      new Uint8Array(70_000),
    ]) {
      expect(h.raw(bytes)).toMatchObject({ ok: false, code: 'MALFORMED' });
    }
    expect(h.sm.snapshot()).toEqual(before);
    expect(decodeCommand(encodeCommand({ op: 'deactivate', feature: CA, cascade: true, at_ms: 7 }))).toEqual({
      ok: true,
      command: { op: 'deactivate', feature: CA, cascade: true, at_ms: 7 },
    });
  });

  it('refuses an entry index that does not advance', () => {
    const sm = new CoordinatorStateMachine(catalog);
    const cmd = encodeCommand({ op: 'activate', feature: CA, at_ms: 0 });
    expect(sm.apply(5, cmd)).toMatchObject({ ok: true });
    expect(sm.apply(5, cmd)).toMatchObject({ ok: false, code: 'STALE_INDEX' });
  });
});

describe('coordinator: snapshots and invariants', () => {
  it('restores a snapshot byte-identically and goes on deciding the same', () => {
    const h = new Harness();
    h.run({
      op: 'activate',
      feature: IFLB,
      with_prerequisites: true,
      parameters: { lbActivationThreshold: 80 },
      at_ms: 0,
    });
    h.run({ op: 'register_agent', agent: 'a1', feature: IFLB, at_ms: 1 });
    h.run({
      op: 'update_safe_zone',
      parameter: 'drxCycle',
      zone: {
        absolute_min: 10,
        absolute_max: 1024,
        safe_min: 20,
        safe_max: 600,
        change_limit_percent: 12.5,
        cooldown_seconds: 60,
      },
      at_ms: 2,
    });
    const snap = h.sm.snapshot();
    const copy = new CoordinatorStateMachine(catalog);
    copy.restore(snap, h.index);
    expect(Buffer.from(copy.snapshot()).equals(Buffer.from(snap))).toBe(true);
    expect(copy.applied).toBe(h.index);
    const next = encodeCommand({
      op: 'set_parameter',
      feature: IFLB,
      parameter: 'lbActivationThreshold',
      value: 85,
      at_ms: 100,
    });
    expect(copy.apply(h.index + 1, next)).toEqual(h.sm.apply(h.index + 1, next));
    expect(copy.snapshot()).toEqual(h.sm.snapshot());
  });

  it('refuses a corrupt snapshot without touching the state', () => {
    const h = new Harness();
    h.run({ op: 'activate', feature: CA, at_ms: 0 });
    const before = h.sm.snapshot();
    expect(() => h.sm.restore(new TextEncoder().encode('{"v":2}'), 9)).toThrow(ElexError);
    const other = JSON.parse(new TextDecoder().decode(before));
    other.catalog = 'another';
    expect(() => h.sm.restore(new TextEncoder().encode(JSON.stringify(other)), 9)).toThrow(/catalogue/);
    expect(h.sm.snapshot()).toEqual(before);
  });

  it('invariants() finds violations planted in a snapshot', () => {
    const h = new Harness();
    h.run({
      op: 'activate',
      feature: IFLB,
      with_prerequisites: true,
      parameters: { lbActivationThreshold: 80 },
      at_ms: 0,
    });
    h.run({ op: 'activate', feature: CM_DRX, at_ms: 0 });
    const s = JSON.parse(new TextDecoder().decode(h.sm.snapshot()));
    s.active = s.active.filter((a: [string]) => a[0] !== CTIFH); // IFLB without its prerequisite
    s.active.push([RRP, 9, 0, 99]); // RRP ⟂ IFLB
    s.active.sort((a: [string], b: [string]) => (a[0] < b[0] ? -1 : 1));
    s.values[0][2] = 95; // outside [50, 90], never reported
    const sm = new CoordinatorStateMachine(catalog);
    sm.restore(new TextEncoder().encode(JSON.stringify(s)), 3);
    expect(
      sm
        .invariants()
        .map((v) => v.kind)
        .sort(),
    ).toEqual(['CONFLICT', 'MISSING_PREREQUISITE', 'VALUE_OUT_OF_ZONE']);
  });
});
