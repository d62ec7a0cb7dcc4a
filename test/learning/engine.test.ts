import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import {
  Action,
  DEFAULT_LEARNING,
  decodeState,
  encodeState,
  epsilonAt,
  QLearner,
  QTable,
  qBounds,
  REWARD_MAX,
  REWARD_MIN,
  reward,
} from '../../src/learning/index.js';

describe('state encoding', () => {
  it('round-trips the ELEX fields in their bit positions', () => {
    const s = encodeState({ queryType: 'kpi', complexity: 'complex', confidence: 0.4, contextHash: 0x1234n });
    expect(s & 7n).toBe(2n);
    expect((s >> 3n) & 3n).toBe(2n);
    expect((s >> 5n) & 15n).toBe(6n);
    expect(s >> 9n).toBe(0x1234n);
    expect(decodeState(s)).toEqual({
      queryType: 'kpi',
      complexity: 'complex',
      confidence: 6 / 15,
      contextHash: 0x1234n,
    });
    expect(() =>
      encodeState({ queryType: 'kpi', complexity: 'simple', confidence: 1.5, contextHash: 0n }),
    ).toThrow(/confidence/);
  });
});

describe('reward', () => {
  it('clamps the rating, adds resolution, subtracts bounded penalties', () => {
    expect(reward({ rating: 5, resolved: true, latencyMs: 0, consultations: 0 })).toBe(1.5);
    expect(reward({ rating: -9, resolved: false, latencyMs: 1e9, consultations: 100 })).toBeCloseTo(-1.5);
    expect(reward({ rating: 0.2, resolved: false, latencyMs: 1000, consultations: 1 })).toBeCloseTo(0.05);
    fc.assert(
      fc.property(fc.double(), fc.boolean(), fc.double(), fc.double(), (r, ok, l, c) => {
        const x = reward({ rating: r, resolved: ok, latencyMs: l, consultations: c });
        expect(x).toBeGreaterThanOrEqual(REWARD_MIN);
        expect(x).toBeLessThanOrEqual(REWARD_MAX);
      }),
    );
  });
});

describe('reward penalties', () => {
  it('grow with latency and consultations up to their caps, also at +Infinity; NaN counts as none', () => {
    const base = { rating: 0.5, resolved: true };
    const at = (latencyMs: number, consultations: number) => reward({ ...base, latencyMs, consultations });
    // The capped penalties: an unbounded wait or peer count is the worst case, not a free one.
    expect(at(Number.POSITIVE_INFINITY, 0)).toBe(at(1e12, 0));
    expect(at(0, Number.POSITIVE_INFINITY)).toBe(at(0, 1e12));
    expect(at(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)).toBeCloseTo(1 - 0.3 - 0.2, 12);
    expect(at(Number.NaN, Number.NaN)).toBe(1);
    expect(at(Number.NEGATIVE_INFINITY, -3)).toBe(1);
    // Monotone: more latency or more consultations never raise the reward.
    fc.assert(
      fc.property(
        fc.double({ min: 0, noNaN: true }),
        fc.double({ min: 0, noNaN: true }),
        fc.double({ min: 0, noNaN: true }),
        (l, extra, c) => {
          expect(at(l + extra, c)).toBeLessThanOrEqual(at(l, c));
          expect(at(c, l + extra)).toBeLessThanOrEqual(at(c, l));
        },
      ),
    );
  });
});

describe('QLearner', () => {
  const s = encodeState({ queryType: 'parameter', complexity: 'simple', confidence: 1, contextHash: 7n });
  const s2 = encodeState({ queryType: 'parameter', complexity: 'simple', confidence: 0, contextHash: 7n });

  it('applies q ← q + α(r + γ max q(s′) − q)', () => {
    const l = new QLearner(new QTable(), new SeededRng(1));
    l.learn(s2, Action.Escalate, 1, null);
    expect(l.q(s2, Action.Escalate)).toBeCloseTo(0.1, 6);
    l.learn(s, Action.DirectAnswer, 0.5, s2);
    expect(l.q(s, Action.DirectAnswer)).toBeCloseTo(0.1 * (0.5 + 0.95 * 0.1), 6);
  });

  it('never picks an unavailable action, greedy or exploring', () => {
    const l = new QLearner(new QTable(), new SeededRng(2), { epsilonStart: 1, epsilonEnd: 1 });
    l.learn(s, Action.DirectAnswer, 1.5, null);
    const mask = (1 << Action.ConsultPeer) | (1 << Action.Escalate);
    for (let i = 0; i < 200; i++) {
      expect([Action.ConsultPeer, Action.Escalate]).toContain(l.selectAction(s, mask));
    }
    expect(l.bestAction(s)).toBe(Action.DirectAnswer);
    expect([Action.ConsultPeer, Action.Escalate]).toContain(l.bestAction(s, mask));
    expect(() => l.bestAction(s, 0)).toThrow(/no action/);
  });

  it('explores with injected randomness (not a constant draw) and ε decays from 0.1 to 0.01', () => {
    expect(epsilonAt(DEFAULT_LEARNING, 0)).toBeCloseTo(0.1);
    expect(epsilonAt(DEFAULT_LEARNING, 1e7)).toBeCloseTo(0.01);
    const l = new QLearner(new QTable(), new SeededRng(3), { epsilonStart: 1, epsilonEnd: 1 });
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) seen.add(l.selectAction(s));
    expect(seen.size).toBe(5);
  });

  it('keeps Q within the bounds implied by the reward range and γ, and refuses rewards outside it', () => {
    const l = new QLearner(new QTable(), new SeededRng(4));
    const b = qBounds(REWARD_MIN, REWARD_MAX, 0.95);
    for (let i = 0; i < 5000; i++) l.learn(s, 0, 1.5, s);
    expect(l.q(s, 0)).toBeLessThanOrEqual(b.max + 1e-4);
    expect(() => l.learn(s, 0, 2, null)).toThrow(/outside/);
    expect(() => l.learn(s, 0, Number.NaN, null)).toThrow();
    expect(() => l.learn(s, 9, 0, null)).toThrow(/action/);
    expect(l.takeOwnVisits().get(l.table.find(0, Number(s & 0xffffffffn), 0))).toBe(5000);
  });
});

describe('QLearner.adopt', () => {
  it('moves unreported own learning onto the adopted value: the same samples learned from it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.double({ min: -5, max: 5, noNaN: true }),
        (rewards, q0, base) => {
          const s = encodeState({ queryType: 'kpi', complexity: 'simple', confidence: 0.5, contextHash: 7n });
          const learnFrom = (start: number) => {
            const l = new QLearner(new QTable(), new SeededRng(1));
            const e = l.table.slot(0, Number(s & 0xffffffffn), 2);
            l.table.write(e, start, 0);
            return { l, e };
          };
          const a = learnFrom(q0);
          for (const r of rewards) a.l.learn(s, 2, r, null);
          const adopted = a.l.adopt(a.e, base, 3);
          const b = learnFrom(Math.fround(base));
          for (const r of rewards) b.l.learn(s, 2, r, null);
          expect(adopted).toBeCloseTo(b.l.table.q[b.e], 4);
          expect(a.l.table.visits[a.e]).toBe(3);
          // A second aggregate before the next sync: the learning moves again, from the new base.
          const again = a.l.adopt(a.e, 0.25, 3);
          const c = learnFrom(0.25);
          for (const r of rewards) c.l.learn(s, 2, r, null);
          expect(again).toBeCloseTo(c.l.table.q[c.e], 4);
        },
      ),
    );
  });

  it('without own learning since the last take, writes the adopted value (clamped to the Q bounds)', () => {
    const l = new QLearner(new QTable(), new SeededRng(1));
    const s = encodeState({ queryType: 'kpi', complexity: 'simple', confidence: 0.5, contextHash: 8n });
    l.learn(s, 1, 1, null);
    l.takeOwnVisits();
    const e = l.table.find(0, Number(s & 0xffffffffn), 1);
    expect(l.adopt(e, 0.3, 9)).toBeCloseTo(0.3, 6);
    expect(l.adopt(e, 1e9, 9)).toBe(l.bounds.max);
  });
});
