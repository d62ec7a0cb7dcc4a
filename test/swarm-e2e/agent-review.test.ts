import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ElexError, SeededRng } from '../../src/core/index.js';
import { ACTION_COUNT, emptyDelta, REWARD_MIN, stateHi, stateLo } from '../../src/learning/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import {
  decodePatterns,
  encodePatterns,
  FeatureAgent,
  OWN_STATES,
  PATTERNS_PER_BROADCAST,
  type Pattern,
} from '../../src/swarm/agent/index.js';
import { chooseAgent } from '../../src/swarm/routing/index.js';

const catalog = defaultCatalog();
const f = catalog.features[0];
const s = OWN_STATES[0].state;
const hi = stateHi(s);
const lo = stateLo(s);

/** A peer delta reporting (s, action 2) at the reward minimum `times` times, from `origin`. */
function report(origin: string, times: number) {
  const d = emptyDelta('peer', origin, times);
  for (let i = 0; i < times; i++) {
    d.hi[i] = hi;
    d.lo[i] = lo;
    d.action[i] = 2;
    d.q[i] = REWARD_MIN;
    d.visits[i] = 1;
    d.fresh[i] = 1;
  }
  d.interactions = times;
  return d;
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof ElexError ? e.code : `untyped ${String(e)}`;
  }
  return undefined;
}

describe('reporter quorum counts reporters, not entries', () => {
  it('three distinct peers reporting an entry the agent has not learned do create it (control)', () => {
    const a = new FeatureAgent('agent/a', f, new SeededRng(1));
    for (const o of ['agent/p', 'agent/q', 'agent/r']) expect(a.receiveDelta(report(o, 1), 20)).toBe(true);
    a.mergePending();
    expect(a.table.getVisits(hi, lo, 2)).toBeGreaterThan(0);
  });

  it('one peer listing the same entry three times in one delta does not reach the quorum alone', () => {
    const a = new FeatureAgent('agent/a', f, new SeededRng(1));
    expect(a.receiveDelta(report('agent/evil', 3), 20)).toBe(false);
    expect(a.stats.refused.get('E_DUPLICATE_ENTRY')).toBe(1);
    a.mergePending();
    expect(a.table.getVisits(hi, lo, 2)).toBe(0);
    expect(a.table.getQ(hi, lo, 2)).toBe(0);
  });
});

describe('patterns: the encoder refuses what the decoder would refuse or corrupt', () => {
  const ok: Pattern = { origin: 'agent/x', hi: 1, lo: 2, action: 1, q: 0.5 };
  it('refuses an action outside the table, a non-finite q and a state half outside u32 with E_ENCODE', () => {
    for (const bad of [
      { ...ok, action: ACTION_COUNT },
      { ...ok, action: 256 }, // was written as action 0
      { ...ok, action: 1.5 },
      { ...ok, q: Number.NaN },
      { ...ok, q: Number.POSITIVE_INFINITY },
      { ...ok, hi: 2 ** 32 }, // was written as 0
      { ...ok, lo: -1 },
      { ...ok, lo: 0.5 },
    ])
      expect(code(() => encodePatterns([ok, bad]))).toBe('E_ENCODE');
    expect(decodePatterns(encodePatterns([ok]), 'agent/x')).toEqual([ok]);
  });

  it('property: any bytes decode to valid patterns or throw E_DECODE; valid batches round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        let out: Pattern[] | undefined;
        const c = code(() => {
          out = decodePatterns(bytes, 'agent/y');
        });
        if (c !== undefined) expect(c).toBe('E_DECODE');
        else
          for (const p of out!) {
            expect(p.action).toBeLessThan(ACTION_COUNT);
            expect(Number.isFinite(p.q)).toBe(true);
          }
      }),
      { numRuns: 3000, seed: 7 },
    );
    const pattern = fc.record({
      origin: fc.constant('agent/z'),
      hi: fc.nat({ max: 2 ** 32 - 1 }),
      lo: fc.nat({ max: 2 ** 32 - 1 }),
      action: fc.nat({ max: ACTION_COUNT - 1 }),
      q: fc.double({ noNaN: true, noDefaultInfinity: true }),
    });
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: PATTERNS_PER_BROADCAST }), (ps) => {
        const bytes = encodePatterns(ps);
        expect(decodePatterns(bytes, 'agent/z')).toEqual(ps);
        // Any strict prefix is refused.
        expect(code(() => decodePatterns(bytes.subarray(0, bytes.length - 1), 'agent/z'))).toBe('E_DECODE');
      }),
      { numRuns: 300, seed: 8 },
    );
  });

  it('applyPattern refuses a pattern whose action the table does not have', () => {
    const a = new FeatureAgent('agent/a', f, new SeededRng(1));
    expect(a.applyPattern({ origin: 'agent/x', hi, lo, action: ACTION_COUNT, q: 1 })).toBe(false);
    expect(a.applyPattern({ origin: 'agent/x', hi, lo, action: -1, q: 1 })).toBe(false);
    expect(a.table.size).toBe(0);
    expect(a.applyPattern({ origin: 'agent/x', hi, lo, action: 1, q: 1 })).toBe(true);
    expect(a.table.getQ(hi, lo, 1)).toBe(1);
  });
});

describe('chooseAgent with any salt', () => {
  it('property: never null and never a non-agent while a live agent exists, whatever the salt', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        fc.oneof(fc.double(), fc.integer()),
        fc.nat(),
        (live, salt, ownAt) => {
          const agents = live.map((_, i) => i);
          const own = ownAt % agents.length;
          const c = chooseAgent(own, agents, (x) => live[x] === true, salt);
          if (!live.includes(true)) expect(c).toBeNull();
          else {
            expect(c).not.toBeNull();
            expect(agents).toContain(c!.agent);
            expect(live[c!.agent]).toBe(true);
          }
        },
      ),
      { numRuns: 2000, seed: 9 },
    );
  });
});
