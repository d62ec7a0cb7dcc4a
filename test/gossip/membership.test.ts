import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Claim, Status, type StatusCode, supersedes, suspicionTimeout } from '../../src/gossip/index.js';

const status = fc.constantFrom<StatusCode>(Status.alive, Status.suspect, Status.dead, Status.left);
const claim = fc.record({ gen: fc.nat(5), inc: fc.nat(5), status });

describe('claim precedence', () => {
  it('never lets alive or suspect at the same generation and <= incarnation override dead or left', () => {
    fc.assert(
      fc.property(
        claim,
        fc.nat(5),
        fc.constantFrom<StatusCode>(Status.alive, Status.suspect),
        (dead, d, s) => {
          const local: Claim = { ...dead, status: dead.status >= Status.dead ? dead.status : Status.dead };
          const stale: Claim = { gen: local.gen, inc: Math.max(0, local.inc - d), status: s };
          expect(supersedes(stale, local)).toBe(false);
        },
      ),
    );
  });

  it('lets a refutation (higher incarnation) or a restart (higher generation) win', () => {
    const dead: Claim = { gen: 2, inc: 7, status: Status.dead };
    expect(supersedes({ gen: 2, inc: 8, status: Status.alive }, dead)).toBe(true);
    expect(supersedes({ gen: 3, inc: 0, status: Status.alive }, dead)).toBe(true);
    expect(supersedes({ gen: 1, inc: 99, status: Status.alive }, dead)).toBe(false);
  });

  it('is a strict order: antisymmetric and irreflexive', () => {
    fc.assert(
      fc.property(claim, claim, (a, b) => {
        expect(supersedes(a, a)).toBe(false);
        expect(supersedes(a, b) && supersedes(b, a)).toBe(false);
      }),
    );
  });

  it('advances the stored incarnation on higher failure evidence (al8n/memberlist P3)', () => {
    // dead@1 then dead@10 must win, so that a later alive@2 cannot resurrect.
    const dead1: Claim = { gen: 1, inc: 1, status: Status.dead };
    const dead10: Claim = { gen: 1, inc: 10, status: Status.dead };
    expect(supersedes(dead10, dead1)).toBe(true);
    expect(supersedes({ gen: 1, inc: 2, status: Status.alive }, dead10)).toBe(false);
  });
});

describe('Lifeguard suspicion timeout', () => {
  it('starts at max with one suspector, reaches min at K confirmations, never increases', () => {
    expect(suspicionTimeout(1, 3, 2000, 10_000)).toBe(10_000);
    expect(suspicionTimeout(4, 3, 2000, 10_000)).toBe(2000);
    let prev = Number.POSITIVE_INFINITY;
    for (let c = 1; c < 20; c++) {
      const t = suspicionTimeout(c, 3, 2000, 10_000);
      expect(t).toBeLessThanOrEqual(prev);
      expect(t).toBeGreaterThanOrEqual(2000);
      prev = t;
    }
  });
});
