import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';

describe('SeededRng streams', () => {
  it('named forks are stable (they drive every simulation)', () => {
    const f = new SeededRng(42).fork('node/1');
    expect([f.u32(), f.u32()]).toEqual([3839796090, 3643788257]);
    expect(new SeededRng(7).fork('network').fork('x').next()).toBe(0.6023562068585306);
  });

  it('next() stays in [0, 1) and streams replay, for any seed', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const a = new SeededRng(seed);
        const b = new SeededRng(seed);
        for (let i = 0; i < 20; i++) {
          const x = a.next();
          expect(x >= 0 && x < 1).toBe(true);
          expect(b.next()).toBe(x);
        }
      }),
    );
  });
});

describe('SeededRng.int', () => {
  it('is uniform for large n (n = 3·2^30: multiples of 3 came out half the time)', () => {
    const r = new SeededRng(5).fork('int');
    const n = 3 * 2 ** 30;
    const counts = [0, 0, 0];
    const N = 30_000;
    for (let i = 0; i < N; i++) counts[r.int(n) % 3]++;
    for (const c of counts) expect(Math.abs(c - N / 3)).toBeLessThan(4 * Math.sqrt((N * 2) / 9));
  });

  it('reaches every residue for n above 2^32 (int(2^40) returned only multiples of 256)', () => {
    const r = new SeededRng(6).fork('int');
    const lowBytes = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = r.int(2 ** 40);
      expect(Number.isInteger(x) && x >= 0 && x < 2 ** 40).toBe(true);
      lowBytes.add(x % 256);
    }
    expect(lowBytes.size).toBeGreaterThan(200);
  });

  it('stays in [0, n) for any n up to 2^53', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 2 ** 53 - 1 }), (seed, n) => {
        const r = new SeededRng(seed).fork('p');
        for (let i = 0; i < 20; i++) {
          const x = r.int(n);
          expect(Number.isInteger(x) && x >= 0 && x < n).toBe(true);
        }
      }),
    );
  });

  it('matches an exact BigInt model for n <= 2^32: floor(u·n / 2^32), redrawn when u·n mod 2^32 < 2^32 mod n', () => {
    // The old mapping floor(next() · n), made exactly uniform: small-n draws are unchanged unless a
    // (probability < n / 2^32) rejection occurs.
    const model = (r: SeededRng, n: number): number => {
      const N = BigInt(n);
      const t = 2n ** 32n % N;
      for (;;) {
        const m = BigInt(r.u32()) * N;
        if ((m & 0xffffffffn) >= t) return Number(m >> 32n);
      }
    };
    fc.assert(
      fc.property(
        fc.integer(),
        fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 2 ** 32 })),
        (seed, n) => {
          const a = new SeededRng(seed).fork('q');
          const b = new SeededRng(seed).fork('q') as SeededRng;
          for (let i = 0; i < 50; i++) expect(a.int(n)).toBe(model(b, n));
        },
      ),
    );
  });
});
