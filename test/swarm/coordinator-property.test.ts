import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Command, CoordinatorStateMachine, encodeCommand } from '../../src/swarm/index.js';
import { catalog } from './coordinator-helpers.js';

/** A pool of features dense in prerequisites and conflicts, so random sequences hit every rule. */
function pool(): string[] {
  const seeds = [
    'FAJ_121_3009',
    'FAJ_121_4963',
    'FAJ_121_3046',
    'FAJ_121_0497',
    'FAJ_121_3094',
    'FAJ_121_5571',
  ];
  const out = new Set<string>();
  for (const s of seeds) {
    for (const id of catalog.activationOrder(s)) {
      out.add(id);
      for (const c of catalog.conflicts(id)) for (const x of catalog.activationOrder(c)) out.add(x);
    }
  }
  return [...out].sort();
}

const FEATURES = pool();
const PARAMS = [
  ...new Set(FEATURES.flatMap((f) => catalog.zonesFor(f).map((z) => z.parameter))),
  'mroMode',
  'hoA3Offset',
  'qosAmp',
].sort();

const feature = fc.constantFrom(...FEATURES, 'FAJ_121_0000');
const parameter = fc.constantFrom(...PARAMS, 'noSuchParameter');
/** (feature, parameter) pairs that apply, for features that have zones: most parameter writes use these. */
const PAIRS = FEATURES.flatMap((f) =>
  [...catalog.zonesFor(f).map((z) => z.parameter), 'mroMode', 'hoA3Offset'].map((p) => [f, p] as const),
).filter(([f]) => catalog.zonesFor(f).length > 0);
const HOT = [...new Set(PAIRS.map(([f]) => f))];
const hotFeature = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOT) },
  { weight: 2, arbitrary: feature },
);
const pair = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PAIRS) },
  { weight: 1, arbitrary: fc.tuple(feature, parameter) },
);

/** Values near the interesting points of a zone: bounds, inside, just outside, and the current-ish middle. */
function valueFor(p: string): fc.Arbitrary<number> {
  const z = catalog.zone(p);
  if (!z) return fc.double({ min: -10, max: 10, noNaN: true });
  const span = z.absolute_max - z.absolute_min;
  return fc.oneof(
    fc.constantFrom(z.safe_min, z.safe_max, (z.safe_min + z.safe_max) / 2, z.absolute_min, z.absolute_max, 0),
    fc.double({
      min: z.absolute_min - span / 4,
      max: z.absolute_max + span / 4,
      noNaN: true,
      noDefaultInfinity: true,
    }),
  );
}

const step = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -60_000, max: 300_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4_000_000 }) },
);

/** A few pairs written often, so successive writes meet the change limit and the cooldown. */
const NUDGED = HOT.map((f) => [f, catalog.zonesFor(f)[1].parameter] as const);

/** A parameter write relative to the current value (known only at run time): hits the change limit and cooldown. */
const nudge = fc
  .tuple(fc.constantFrom(...NUDGED), fc.double({ min: -0.3, max: 0.3, noNaN: true }))
  .map(([[f, p], pct]) => (t: number, sm: CoordinatorStateMachine): Command => {
    const z = catalog.zone(p)!;
    const current = sm.value(f, p) ?? (z.safe_min + z.safe_max) / 2;
    return {
      op: 'set_parameter',
      feature: f,
      parameter: p,
      value: current === 0 ? pct : current * (1 + pct),
      at_ms: t,
    };
  });

const activateWithChain =
  (f: string) =>
  (t: number): Command => ({ op: 'activate', feature: f, with_prerequisites: true, at_ms: t });

const command: fc.Arbitrary<(t: number, sm: CoordinatorStateMachine) => Command> = fc.oneof(
  { weight: 6, arbitrary: nudge },
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.oneof(
          { weight: 3, arbitrary: hotFeature.map((f) => [f, undefined] as const) },
          { weight: 1, arbitrary: pair.map(([f, p]) => [f, p] as const) },
        ),
        fc.constantFrom(true, true, false),
      )
      .chain(([[f, p], wp]) =>
        (p ? valueFor(p) : fc.constant(0)).map(
          (v) =>
            (t: number): Command => ({
              op: 'activate',
              feature: f,
              with_prerequisites: wp,
              ...(p ? { parameters: { [p]: v } } : {}),
              at_ms: t,
            }),
        ),
      ),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(hotFeature, fc.boolean()).map(
      ([f, c]) =>
        (t: number): Command => ({ op: 'deactivate', feature: f, cascade: c, at_ms: t }),
    ),
  },
  {
    weight: 5,
    arbitrary: pair.chain(([f, p]) =>
      valueFor(p).map(
        (v) =>
          (t: number): Command => ({ op: 'set_parameter', feature: f, parameter: p, value: v, at_ms: t }),
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        parameter,
        fc.array(fc.double({ min: -200, max: 200, noNaN: true, noDefaultInfinity: true }), {
          minLength: 4,
          maxLength: 4,
        }),
        fc.boolean(),
        fc.integer({ min: -5, max: 30 }),
        fc.integer({ min: -10, max: 4000 }),
      )
      .map(([p, xs, sorted, limit, cooldown]) => {
        const b = sorted ? [...xs].sort((a, c) => a - c) : xs;
        return (t: number): Command => ({
          op: 'update_safe_zone',
          parameter: p,
          zone: {
            absolute_min: b[0],
            safe_min: b[1],
            safe_max: b[2],
            absolute_max: b[3],
            change_limit_percent: limit,
            cooldown_seconds: cooldown,
          },
          at_ms: t,
        });
      }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 5 }), feature).map(
      ([a, f]) =>
        (t: number): Command => ({ op: 'register_agent', agent: `agent-${a}`, feature: f, at_ms: t }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 5 }).map(
      (a) =>
        (t: number): Command => ({ op: 'deregister_agent', agent: `agent-${a}`, at_ms: t }),
    ),
  },
);

const entry = fc.oneof(
  { weight: 20, arbitrary: fc.tuple(command, step).map(([c, s]) => ({ make: c, step: s, junk: undefined })) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 40 }).map((junk) => ({ make: undefined, step: 0, junk })),
  },
);

describe('coordinator state machine under random command sequences (fast-check)', () => {
  it(`never breaks invariants(); refusals change nothing; replicas and restored copies agree (${FEATURES.length} features, ${PARAMS.length} parameters)`, () => {
    let accepted = 0;
    let refused = 0;
    const codes = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 80, size: 'max' }),
        fc.nat({ max: 80 }),
        (entries, cut) => {
          const a = new CoordinatorStateMachine(catalog);
          const log: Uint8Array[] = [];
          let t = 0;
          // Half the runs start with the features that have zones active, so parameter rules get exercised.
          const prefix =
            cut % 2 === 0 ? HOT.map((f) => ({ make: activateWithChain(f), step: 0, junk: undefined })) : [];
          for (const e of [...prefix, ...entries]) {
            t = Math.max(0, t + e.step);
            const bytes = e.make ? encodeCommand(e.make(t, a)) : e.junk!;
            log.push(bytes);
            const before = a.snapshot();
            const r = a.apply(log.length, bytes) as { ok: boolean };
            const code = (r as { code?: string }).code ?? 'OK';
            codes.set(code, (codes.get(code) ?? 0) + 1);
            if (r.ok) accepted++;
            else {
              refused++;
              expect(Buffer.from(a.snapshot()).equals(Buffer.from(before))).toBe(true);
            }
            expect(a.invariants()).toEqual([]);
          }
          // A second replica applying the same log reaches byte-identical state.
          const b = new CoordinatorStateMachine(catalog);
          log.forEach((bytes, i) => {
            b.apply(i + 1, bytes);
          });
          expect(Buffer.from(b.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
          // A replica restored from a snapshot part-way, then fed the rest, too.
          const at = Math.min(cut, log.length);
          const c = new CoordinatorStateMachine(catalog);
          log.slice(0, at).forEach((bytes, i) => {
            c.apply(i + 1, bytes);
          });
          const d = new CoordinatorStateMachine(catalog);
          d.restore(c.snapshot(), at);
          expect(Buffer.from(d.snapshot()).equals(Buffer.from(c.snapshot()))).toBe(true);
          log.slice(at).forEach((bytes, i) => {
            d.apply(at + i + 1, bytes);
          });
          expect(Buffer.from(d.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
        },
      ),
      { numRuns: 200, seed: 6 },
    );
    // The generator exercises both outcomes in earnest, and every rule.
    for (const c of [
      'OK',
      'CONFLICT',
      'MISSING_PREREQUISITE',
      'REQUIRED_BY',
      'OUT_OF_ZONE',
      'CHANGE_TOO_LARGE',
      'COOLDOWN',
      'INVALID_ZONE',
      'MALFORMED',
    ]) {
      expect(codes.get(c) ?? 0, c).toBeGreaterThan(5);
    }
    expect(accepted).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  });
});
