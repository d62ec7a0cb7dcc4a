import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import {
  type Delta,
  emptyDelta,
  mergeDeltasIntoTable,
  QTable,
  qBounds,
  REWARD_MAX,
  REWARD_MIN,
  ReporterTrust,
  type ReportSet,
  ruleByName,
  type TrustOptions,
} from '../../src/learning/index.js';

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

/** The first version's scoring: mean |t̂ − g| against the consensus, newcomers trusted. */
const MEAN = { reference: 'consensus', statistic: 'mean', newcomer: 'trusted' } as const;

const ids = (R: number) => ['consensus', ...Array.from({ length: R - 1 }, (_, i) => `a${i}`)];

describe('ReporterTrust', () => {
  it('removes reporters whose implied targets pull away from the consensus, keeps honest ones', () => {
    const trust = new ReporterTrust({ alpha: 0.1, ...MEAN });
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
    const trust = new ReporterTrust({ alpha: 0.1, ...MEAN });
    const rng = new SeededRng(5);
    const names = ids(11);
    for (let t = 0; t < 200; t++) {
      const { set, steps } = round(rng, 10, 0, null);
      trust.observe(set, steps, names);
    }
    for (let r = 1; r <= 10; r++) expect(trust.trustOf(names[r])).toBe(1);
    const thin = new ReporterTrust({ alpha: 0.1, minReporters: 3, ...MEAN });
    const { set, steps } = round(new SeededRng(1), 1, 1, 5);
    thin.observe(set, steps, ids(3));
    expect(thin.ratioOf('a0')).toBeUndefined();
    expect(thin.ratioOf('a1')).toBeUndefined();
  });
});

describe('ReporterTrust newcomers', () => {
  const scoring = { reference: 'consensus', statistic: 'mean' } as const;
  const firstRound = (newcomer: TrustOptions['newcomer'], seed: number, attackers: number) => {
    const trust = new ReporterTrust({ alpha: 0.1, ...scoring, newcomer });
    const honest = 10 - attackers;
    const { set, steps } = round(new SeededRng(seed), honest, attackers, attackers > 0 ? -2 : null);
    trust.observe(set, steps, ids(11));
    return Array.from({ length: 10 }, (_, r) => trust.trustOf(`a${r}`));
  };

  it('averaged (default): a reporter that pulls from its first round has no weight after it; trusted keeps it', () => {
    expect(firstRound('averaged', 3, 3).slice(7)).toEqual([0, 0, 0]);
    expect(firstRound('trusted', 3, 3).slice(7)).toEqual([1, 1, 1]);
    expect(new ReporterTrust({ alpha: 0.1 }).options.newcomer).toBe('averaged');
  });

  it('averaged: one unlucky honest first round is diluted by the prior (scored distrusts such reporters)', () => {
    let averagedLost = 0;
    let scoredLost = 0;
    for (let seed = 1; seed <= 50; seed++) {
      averagedLost += firstRound('averaged', seed, 0).filter((t) => t < 1).length;
      scoredLost += firstRound('scored', seed, 0).filter((t) => t < 1).length;
    }
    expect(averagedLost).toBe(0);
    expect(scoredLost).toBeGreaterThan(10);
  });

  it('averaged: once the prior weighs less than the smoothing it is a plain EWMA (the start is not repeated)', () => {
    // Fed the same rounds, an averaged and a trusted newcomer differ only in how they started; once both
    // are plain EWMAs (weight 0.1 per round) their difference shrinks by exactly 0.9 per round.
    // One rate both ways, so the two EWMAs take the same branch every round.
    const averaged = new ReporterTrust({ alpha: 0.1, ...scoring, forgiveness: 0.1 });
    const trusted = new ReporterTrust({ alpha: 0.1, ...scoring, newcomer: 'trusted', forgiveness: 0.1 });
    const rng = new SeededRng(4);
    const diffs: number[] = [];
    for (let t = 0; t < 30; t++) {
      const { set, steps } = round(rng, 10, 0, null);
      averaged.observe(set, steps, ids(11));
      trusted.observe(set, steps, ids(11));
      diffs.push(averaged.ratioOf('a0')! - trusted.ratioOf('a0')!);
    }
    expect(Math.abs(diffs[6])).toBeGreaterThan(1e-3);
    for (let t = 7; t < 30; t++) expect(diffs[t]).toBeCloseTo(0.9 * diffs[t - 1], 12);
  });
});

describe('ReporterTrust forgiveness', () => {
  it('trust is lost at the smoothing rate and regained at the slower forgiveness rate', () => {
    const scoring = { alpha: 0.1, reference: 'consensus', statistic: 'mean' } as const;
    const slow = new ReporterTrust(scoring);
    const even = new ReporterTrust({ ...scoring, forgiveness: 0.1 });
    expect(slow.options.forgiveness).toBe(0.03);
    const rng = new SeededRng(8);
    const names = ids(11);
    const feed = (attackers: number, poison: number | null) => {
      const { set, steps } = round(rng, 10 - attackers, attackers, poison);
      slow.observe(set, steps, names);
      even.observe(set, steps, names);
    };
    for (let t = 0; t < 20; t++) feed(0, null);
    for (let t = 0; t < 10; t++) feed(3, -2);
    // Rising, both move at the smoothing rate: a7..a9 are distrusted alike.
    for (const r of [7, 8, 9]) {
      expect(slow.trustOf(`a${r}`)).toBe(0);
      expect(even.trustOf(`a${r}`)).toBe(0);
    }
    // Back to honest reports: with one rate they are trusted again within 30 rounds, not with forgiveness.
    for (let t = 0; t < 30; t++) feed(0, null);
    for (const r of [7, 8, 9]) {
      expect(even.trustOf(`a${r}`)).toBe(1);
      expect(slow.trustOf(`a${r}`)).toBeLessThan(1);
      expect(slow.ratioOf(`a${r}`)!).toBeGreaterThan(even.ratioOf(`a${r}`)!);
    }
  });
});

describe('mergeDeltasIntoTable with ReporterTrust', () => {
  /** 40 rounds: 6 honest reporters, 2 colluding attackers; on entry 9 the attackers outnumber the honest one. */
  function scenario(trust: ReporterTrust | undefined): { table: QTable; entry9: number[] } {
    const table = new QTable();
    const bounds = qBounds(REWARD_MIN, REWARD_MAX, 0.95);
    const opts = {
      rule: ruleByName('trimmed-mean'),
      params: { beta: 0.3, f: 2, clipRadius: 0.1, bounds },
      weighting: { kind: 'fresh' as const, cap: 2, anchor: 2 },
      tolerance: 0.05,
      trust,
    };
    const rng = new SeededRng(9);
    const report = (origin: string, keys: number[], value: (g: number) => number): Delta => {
      const d = emptyDelta('peer', origin, keys.length);
      keys.forEach((k, i) => {
        const e = table.find(0, k, 0);
        const g = e < 0 ? 0 : table.q[e];
        d.lo[i] = k;
        d.q[i] = value(g);
        d.fresh[i] = 1;
        d.visits[i] = 1;
      });
      d.interactions = keys.length;
      return d;
    };
    const honest = (g: number) => g + 0.1 * (0.5 + (rng.next() - 0.5) - g);
    const poison = (g: number) => 0.81 * g + 0.19 * -3;
    const entry9: number[] = [];
    for (let round = 0; round < 40; round++) {
      const deltas = [0, 1, 2, 3, 4].map((h) => report(`h${h}`, [0, 1, 2, 3], honest));
      deltas.push(report('x0', [0, 1, 2, 3, 9], poison), report('x1', [0, 1, 2, 3, 9], poison));
      deltas.push(report('h5', [0, 1, 2, 3, 9], honest));
      mergeDeltasIntoTable(table, deltas, opts);
      entry9.push(table.getQ(0, 9, 0));
    }
    return { table, entry9 };
  }

  it('distrusts colluding reporters; the entry they outnumbered recovers under honest learning', () => {
    const trust = new ReporterTrust({ alpha: 0.1, ...MEAN });
    const { table, entry9 } = scenario(trust);
    expect(trust.trustOf('x0')).toBe(0);
    expect(trust.trustOf('x1')).toBe(0);
    for (let h = 0; h < 6; h++) expect(trust.trustOf(`h${h}`), `h${h}`).toBe(1);
    for (const k of [0, 1, 2, 3]) expect(table.getQ(0, k, 0), `entry ${k}`).toBeGreaterThan(0.2);
    // Entry 9 was poisoned in the first round (trust takes a round to learn); it now only climbs back.
    for (let i = 2; i < entry9.length; i++) expect(entry9[i]).toBeGreaterThanOrEqual(entry9[i - 1]);
    expect(entry9[entry9.length - 1]).toBeGreaterThan(entry9[1] + 0.15);
    // Without trust the attackers keep every entry down (they hold 2 of the reports and never relent).
    const plain = scenario(undefined);
    expect(plain.table.getQ(0, 9, 0)).toBeLessThan(entry9[entry9.length - 1] - 0.5);
  });

  it('flags a reward flipper hidden by the consensus lag (peers median test), not honest learners', () => {
    // The consensus lags 1.0 below the true values on every entry (common to all honest reports); honest
    // targets are heavy-tailed (10 % far jumps); two flippers' targets sit 0.8 below the truth.
    const run = (opts: Partial<TrustOptions>) => {
      const trust = new ReporterTrust({ alpha: 0.1, minScale: 0.2, ...opts });
      const rng = new SeededRng(11);
      const R = 1 + 8 + 2;
      const names = ids(R);
      for (let t = 0; t < 60; t++) {
        const K = 20;
        const q = new Float64Array(K * R);
        const w = new Float64Array(K * R);
        const steps = new Float64Array(K * R);
        for (let e = 0; e < K; e++) {
          const truth = (e % 5) - 2;
          const g = truth - 1;
          q[e * R] = g;
          for (let r = 1; r < R; r++) {
            if (rng.next() < 0.4) continue;
            const noise = rng.next() < 0.1 ? (rng.next() - 0.5) * 8 : (rng.next() - 0.5) * 0.4;
            const target = truth + noise - (r > 8 ? 0.8 : 0);
            q[e * R + r] = 0.9 * g + 0.1 * target;
            w[e * R + r] = 1;
            steps[e * R + r] = 1;
          }
        }
        trust.observe({ entries: K, reporters: R, q, w, self: 0 }, steps, names);
      }
      return names.slice(1).map((n) => trust.trustOf(n));
    };
    const now = run({});
    for (let r = 0; r < 8; r++) expect(now[r], `honest ${r}`).toBeGreaterThan(0.5);
    for (let r = 8; r < 10; r++) expect(now[r], `flipper ${r}`).toBe(0);
    // The mean against the consensus alone keeps them.
    const old = run(MEAN);
    for (let r = 8; r < 10; r++) expect(old[r], `flipper ${r}`).toBeGreaterThan(0.5);
  });
});

describe('ReporterTrust and rows that report nothing', () => {
  it('a row with no reports (a refused or silent member) changes nobody’s score', () => {
    // Three honest reporters and two pullers, four needed for a peers median: once the pullers are
    // distrusted fewer than `minReporters` trusted members report, and every reporter is heard again.
    // Silent rows, never scored and so fully trusted, must not count towards that quorum (they did: a
    // refused attacker changed honest scores on the random MDP).
    const plain = new ReporterTrust({ alpha: 0.1, minReporters: 4 });
    const padded = new ReporterTrust({ alpha: 0.1, minReporters: 4 });
    const rng = new SeededRng(12);
    const names = ids(6);
    const paddedNames = [...names, 'silent-0', 'silent-1'];
    for (let t = 0; t < 40; t++) {
      const { set, steps } = round(rng, 3, 2, -2);
      plain.observe(set, steps, names);
      const R = set.reporters + 2;
      const q = new Float64Array(set.entries * R);
      const w = new Float64Array(set.entries * R);
      const k = new Float64Array(set.entries * R);
      for (let e = 0; e < set.entries; e++) {
        for (let r = 0; r < set.reporters; r++) {
          q[e * R + r] = set.q[e * set.reporters + r];
          w[e * R + r] = set.w[e * set.reporters + r];
          k[e * R + r] = steps[e * set.reporters + r];
        }
      }
      padded.observe({ entries: set.entries, reporters: R, q, w, self: 0 }, k, paddedNames);
    }
    expect(Math.min(...names.slice(1).map((id) => plain.trustOf(id)))).toBeLessThan(0.5);
    for (const id of names.slice(1)) expect(padded.ratioOf(id), id).toBe(plain.ratioOf(id));
  });
});
