import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeartbeatHistory, phi, timeToPhi } from '../../src/gossip/index.js';

const params = {
  sampleWindow: 200,
  minStdDevMs: 100,
  acceptablePauseMs: 3000,
  firstHeartbeatEstimateMs: 1000,
};

describe('phi-accrual (normal model)', () => {
  it('crosses threshold 8 about 4.52 s after the last 1 s heartbeat (sigma floor 100 ms, pause 3 s)', () => {
    const t = timeToPhi(8, 1000, 0, 3000, 100);
    expect(t).toBeGreaterThan(4500);
    expect(t).toBeLessThan(4540);
    expect(phi(t - 1, 1000, 0, 3000, 100)).toBeLessThan(8);
    expect(phi(t + 1, 1000, 0, 3000, 100)).toBeGreaterThan(8);
  });

  it('is -log10(1/2) at exactly mean + acceptable pause', () => {
    expect(phi(4000, 1000, 50, 3000, 100)).toBeCloseTo(Math.log10(2), 6);
  });

  it('is monotone in the gap and finite', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 60_000, noNaN: true }),
        fc.double({ min: 0, max: 60_000, noNaN: true }),
        fc.double({ min: 100, max: 5000, noNaN: true }),
        fc.double({ min: 0, max: 2000, noNaN: true }),
        (a, b, mean, sd) => {
          const [lo, hi] = a < b ? [a, b] : [b, a];
          const pl = phi(lo, mean, sd, 3000, 100);
          const ph = phi(hi, mean, sd, 3000, 100);
          expect(Number.isFinite(pl) && Number.isFinite(ph)).toBe(true);
          expect(ph).toBeGreaterThanOrEqual(pl - 1e-9);
        },
      ),
    );
  });

  it('learns the interval distribution and its cheap pre-check agrees with phi', () => {
    const h = new HeartbeatHistory(params, 0);
    expect(h.mean).toBeCloseTo(1000, 6);
    expect(h.stdDev).toBeCloseTo(250, 6);
    let t = 0;
    for (let i = 0; i < 500; i++) {
      t += i % 10 === 0 ? 2000 : 1000;
      h.arrive(t);
    }
    expect(h.mean).toBeGreaterThan(1050);
    expect(h.stdDev).toBeGreaterThan(250);
    for (let gap = 0; gap < 20_000; gap += 37) {
      expect(h.exceeds(t + gap, 8)).toBe(h.phi(t + gap) > 8);
    }
  });

  it('detects later on a lossy link than on a clean one', () => {
    const clean = new HeartbeatHistory(params, 0);
    const lossy = new HeartbeatHistory(params, 0);
    let a = 0;
    let b = 0;
    for (let i = 0; i < 200; i++) {
      a += 1000;
      b += i % 10 === 3 ? 2000 : 1000;
      clean.arrive(a);
      lossy.arrive(b);
    }
    const gap = timeToPhi(8, clean.mean, clean.stdDev, 3000, 100);
    expect(clean.phi(a + gap + 10)).toBeGreaterThan(8);
    expect(lossy.phi(b + gap + 10)).toBeLessThan(8);
  });
});
