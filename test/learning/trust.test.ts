import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { ReporterTrust, type ReportSet } from '../../src/learning/index.js';

/** One round: row 0 the consensus, rows 1..honest honest learners, then attackers pushing to `poison`. */
function round(
  rng: SeededRng,
  honest: number,
  attackers: number,
  poison: number | null,
): { set: ReportSet; steps: Float64Array } {
  const K = 20;
  const R = 1 + honest + attackers;
  const q = new Float64Array(K * R);
  const w = new Float64Array(K * R);
  const steps = new Float64Array(K * R);
  for (let e = 0; e < K; e++) {
    const g = e / K;
    q[e * R] = g;
    for (let r = 1; r < R; r++) {
      if (rng.next() < 0.5) continue;
      const k = 1 + rng.int(3);
      const keep = 0.9 ** k;
      // Honest: sampled targets around g; attackers: the poisoned target.
      const target = r <= honest || poison === null ? g + (rng.next() - 0.5) * 2 : poison;
      q[e * R + r] = keep * g + (1 - keep) * target;
      w[e * R + r] = Math.min(2, k);
      steps[e * R + r] = k;
    }
  }
  return { set: { entries: K, reporters: R, q, w, self: 0 }, steps };
}

const ids = (R: number) => ['consensus', ...Array.from({ length: R - 1 }, (_, i) => `a${i}`)];

describe('ReporterTrust', () => {
  it('removes reporters whose implied targets pull away from the consensus, keeps honest ones', () => {
    const trust = new ReporterTrust({ alpha: 0.1 });
    const rng = new SeededRng(3);
    const names = ids(11);
    for (let t = 0; t < 40; t++) {
      const { set, steps } = round(rng, 7, 3, -2);
      trust.observe(set, steps, names);
    }
    for (let r = 1; r <= 7; r++) expect(trust.trustOf(names[r]), names[r]).toBe(1);
    for (let r = 8; r <= 10; r++) expect(trust.trustOf(names[r]), names[r]).toBe(0);
    const { set } = round(rng, 7, 3, -2);
    const before = set.w.slice();
    trust.weigh(set, names);
    for (let i = 0; i < set.w.length; i++) {
      const r = i % set.reporters;
      expect(set.w[i]).toBe(r >= 8 ? 0 : before[i]);
    }
  });

  it('keeps every honest reporter at full trust without attackers, and scores nobody in thin rounds', () => {
    const trust = new ReporterTrust({ alpha: 0.1 });
    const rng = new SeededRng(5);
    const names = ids(11);
    for (let t = 0; t < 200; t++) {
      const { set, steps } = round(rng, 10, 0, null);
      trust.observe(set, steps, names);
    }
    for (let r = 1; r <= 10; r++) expect(trust.trustOf(names[r])).toBe(1);
    const thin = new ReporterTrust({ alpha: 0.1, minReporters: 3 });
    const { set, steps } = round(new SeededRng(1), 1, 1, 5);
    thin.observe(set, steps, ids(3));
    expect(thin.ratioOf('a0')).toBeUndefined();
    expect(thin.ratioOf('a1')).toBeUndefined();
  });
});
