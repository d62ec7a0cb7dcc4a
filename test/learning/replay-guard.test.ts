import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FederatedQTable } from '../../src/learning/index.js';
import { REPLAY_WINDOW, ReplayGuard } from '../../src/learning/replay-guard.js';
import { codeOf } from './error-code.js';

describe('ReplayGuard', () => {
  it('takes seqs out of order within the window, once each', () => {
    const g = new ReplayGuard();
    for (const seq of [5, 3, 4, 1, 2]) expect(g.refusal('a', 1, seq)).toBeNull();
    for (const seq of [1, 2, 3, 4, 5]) expect(g.refusal('a', 1, seq)).toMatch(/already received/);
    // Another origin has its own window.
    expect(g.refusal('b', 1, 1)).toBeNull();
  });

  it('refuses a seq older than the window however many deltas came after it', () => {
    const g = new ReplayGuard();
    for (let seq = 1; seq <= 10_000; seq++) expect(g.refusal('a', 7, seq)).toBeNull();
    expect(g.refusal('a', 7, 1)).toMatch(/older than the window/);
    expect(g.refusal('a', 7, 10_000 - REPLAY_WINDOW)).toMatch(/older than the window/);
    expect(g.refusal('a', 7, 10_000 - REPLAY_WINDOW + 1)).toMatch(/already received/);
  });

  it("starts over at an origin's new life and refuses its earlier lives", () => {
    const g = new ReplayGuard();
    for (let seq = 1; seq <= 300; seq++) expect(g.refusal('a', 1, seq)).toBeNull();
    // Restarted: its seqs begin again at 1 in life 2.
    expect(g.refusal('a', 2, 1)).toBeNull();
    expect(g.refusal('a', 2, 1)).toMatch(/already received/);
    expect(g.refusal('a', 1, 300)).toMatch(/life 1, before its current life 2/);
    expect(g.refusal('a', 1, 301)).toMatch(/before its current life/);
  });

  it("a member's life number must be a non-negative safe integer", () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53])
      expect(codeOf(() => new FederatedQTable({ epoch: bad }))).toBe('E_CONFIG');
    expect(new FederatedQTable({ epoch: 7, seed: 1 }).epoch).toBe(7);
  });

  it('refuses a delta without a seq', () => {
    expect(new ReplayGuard().refusal('a', 0, 0)).toMatch(/no seq/);
  });

  it('never takes one (origin, life, seq) twice, and takes every new one of the current life within the window', () => {
    const event = fc.record({
      origin: fc.constantFrom('a', 'b'),
      epoch: fc.integer({ min: 0, max: 3 }),
      seq: fc.integer({ min: 1, max: 200 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 400 }), (events) => {
        const g = new ReplayGuard();
        const taken = new Set<string>();
        const life = new Map<string, { epoch: number; top: number }>();
        for (const { origin, epoch, seq } of events) {
          const ok = g.refusal(origin, epoch, seq) === null;
          const id = `${origin}/${epoch}/${seq}`;
          if (taken.has(id)) expect(ok).toBe(false);
          const l = life.get(origin);
          const current = l === undefined || epoch > l.epoch ? { epoch, top: 0 } : l;
          const fresh = epoch === current.epoch && seq + REPLAY_WINDOW > current.top && !taken.has(id);
          expect(ok).toBe(fresh);
          if (ok) {
            taken.add(id);
            life.set(origin, { epoch, top: Math.max(current.top, seq) });
          }
        }
      }),
    );
  });
});
