import { describe, expect, it } from 'vitest';
import {
  type CampaignReportView,
  criteriaCount,
  failures,
  judgeColumn,
  parseCampaignReport,
  renderVerdict,
  runCampaign,
} from '../../src/sim/federation/index.js';
import { codeOf } from '../learning/error-code.js';

const row = (attack: string, rule: string, rho_mean: number, rho_min: number, non_finite_stored = 0) => ({
  attack,
  rule,
  rho_mean,
  rho_min,
  non_finite_stored,
});

/** A report's header: random MDP, 10/3, baseline mean 0.8 (thresholds 0.76 and 0.72), the given speed-up. */
const header = (speedup: number | null) => ({
  mdp: 'random',
  agents: 10,
  byzantine: 3,
  seeds: 10,
  seed: 1,
  default_rule: 'trimmed-mean',
  baseline: { rho_mean: 0.8, rho_min: 0.75 },
  single_agent: { episodes_to_0_9: speedup === null ? null : 800 },
  federated_10_honest: {
    episodes_to_0_9: speedup === null ? null : 800 / speedup,
    reached_0_9: speedup === null ? 0 : 10,
    speedup_vs_single: speedup,
  },
});

function column(robustRows: ReturnType<typeof row>[], plainRows: ReturnType<typeof row>[], speedup = 8) {
  const common = header(speedup);
  const robust: CampaignReportView = { ...common, results: robustRows };
  const plain: CampaignReportView = { ...common, results: plainRows };
  return judgeColumn(robust, plain);
}

const plainRows = [row('none', 'visit-weighted', 0.8, 0.7), row('visit-inflation', 'visit-weighted', 0.1, 0)];

const c2 = (r: unknown) => parseCampaignReport(JSON.parse(JSON.stringify(r)), 'plain');

describe('the Byzantine table verdict', () => {
  it('passes a column at its thresholds and fails it just below them', () => {
    const at = column(
      [row('none', 'trimmed-mean', 0.8, 0.8), row('alie', 'trimmed-mean', 0.76, 0.72)],
      plainRows,
    );
    expect(at.thresholds.mean).toBeCloseTo(0.76, 12);
    expect(at.thresholds.worst).toBeCloseTo(0.72, 12);
    expect(failures([at])).toEqual([]);
    const below = column(
      [row('none', 'trimmed-mean', 0.8, 0.8), row('alie', 'trimmed-mean', 0.7599, 0.7199)],
      plainRows,
    );
    expect(failures([below])).toEqual([
      'random 10/3 alie: mean 0.760 < 0.760',
      'random 10/3 alie: worst 0.720 < 0.720',
    ]);
    expect(renderVerdict([below])).toContain('| alie | 0.760 ✗ / 0.720 ✗ |');
    expect(renderVerdict([below])).toContain(
      `${criteriaCount([below]) - 2} of ${criteriaCount([below])} criteria met.`,
    );
  });

  it('fails the ratio, the plain merge holding up, stored non-finite values and a small speed-up', () => {
    const c = column(
      [row('none', 'trimmed-mean', 0.78, 0.75, 1)],
      [row('none', 'visit-weighted', 0.8, 0.7), row('visit-inflation', 'visit-weighted', 0.5, 0.4)],
      3.9,
    );
    expect(c.ratio.mean).toBeCloseTo(0.975, 12);
    expect(failures([c])).toEqual([
      'random 10/3 robust vs plain without attack: 0.975× < 0.98×',
      'random 10/3 plain under visit inflation: mean 0.500 ≥ 0.5',
      'random 10/3: 1 non-finite values stored',
      'random 10/3 speed-up: 3.900× < 4×',
    ]);
  });

  it('counts non-finite values stored in the baseline, single-agent and 10-agent runs too', () => {
    // "No NaN or Inf is ever stored": before, only the result rows' runs were counted.
    const common = header(8);
    const robust: CampaignReportView = {
      ...common,
      baseline: { ...common.baseline, non_finite_stored: 1 },
      single_agent: { ...common.single_agent, non_finite_stored: 2 },
      federated_10_honest: { ...common.federated_10_honest, non_finite_stored: 4 },
      results: [row('none', 'trimmed-mean', 0.8, 0.8)],
    };
    const c = judgeColumn(robust, { ...common, results: plainRows });
    expect(failures([c])).toEqual(['random 10/3: 7 non-finite values stored']);
  });

  it('fails the speed-up when the federated agents reach ρ 0.9 on only some of the seeds', () => {
    // The episodes to ρ 0.9 average the seeds that reached it: 3 fast seeds of 10 gave a speed-up of 8
    // although on 7 seeds the federation never reached 0.9. Before, the verdict passed it.
    const common = header(8);
    const fed = { ...common.federated_10_honest, reached_0_9: 3 };
    const robust: CampaignReportView = {
      ...common,
      federated_10_honest: fed,
      results: [row('none', 'trimmed-mean', 0.8, 0.8)],
    };
    const plain: CampaignReportView = { ...common, results: plainRows };
    const c = judgeColumn(robust, plain);
    expect(c.speedup.ok).toBe(false);
    expect(failures([c])).toEqual([
      'random 10/3 speed-up: 10 federated agents reached ρ 0.9 on 3 of 10 seeds',
    ]);
    const all = judgeColumn({ ...robust, federated_10_honest: common.federated_10_honest }, plain);
    expect(all.speedup.ok).toBe(true);
  });

  it('counts the speed-up once per MDP: both sizes run the same 10 federated agents', () => {
    // Before, a 10/3 and a 20/6 column of one MDP counted the same speed-up twice (and failed it twice).
    const small = column([row('none', 'trimmed-mean', 0.8, 0.8)], plainRows, 3.9);
    const h = { ...header(3.9), agents: 20, byzantine: 6 };
    const large = judgeColumn(
      { ...h, results: [row('none', 'trimmed-mean', 0.8, 0.8)] },
      { ...h, results: plainRows },
    );
    expect(criteriaCount([small])).toBe(4);
    expect(criteriaCount([small, large])).toBe(7);
    expect(failures([small, large]).filter((x) => x.includes('speed-up'))).toEqual([
      'random 10/3 speed-up: 3.900× < 4×',
    ]);
    // Another MDP's column has a speed-up of its own.
    const other = judgeColumn(
      { ...h, mdp: 'frozen-lake', results: [row('none', 'trimmed-mean', 0.8, 0.8)] },
      { ...h, mdp: 'frozen-lake', results: plainRows },
    );
    expect(criteriaCount([small, large, other])).toBe(11);
  });

  it('names the paired difference of a miss, so damage can be told from the seed spread', () => {
    const alie = {
      ...row('alie', 'trimmed-mean', 0.77, 0.7),
      vs_baseline: { mean_diff: -0.03, ci95: 0.02, worse_seeds: 8 },
    };
    const c = column([row('none', 'trimmed-mean', 0.8, 0.8), alie], plainRows);
    expect(c.cells[1].paired).toEqual({ meanDiff: -0.03, ci95: 0.02, worseSeeds: 8 });
    expect(failures([c])).toEqual([
      'random 10/3 alie: worst 0.700 < 0.720 (paired with the baseline −0.030 ± 0.020, 8 of 10 seeds worse)',
    ]);
  });

  it('judges attacks only: the robust none row (all N agents honest) is shown, not judged', () => {
    const c = column([row('none', 'trimmed-mean', 0.5, 0.4)], plainRows);
    expect(c.cells[0].judged).toBe(false);
    expect(failures([c])).toEqual(['random 10/3 robust vs plain without attack: 0.625× < 0.98×']);
    expect(criteriaCount([c])).toBe(4);
    expect(renderVerdict([c])).toContain('| none (all N honest; not judged) | 0.500 / 0.400 |');
  });

  it('fails forged-origin when any forged delta was accepted, whatever ρ says', () => {
    // The evaluation never merges a forgery the codec accepted (it only counts ACCEPTED_FORGERY), so ρ could
    // not show one: before, a signature check that let every forgery through still passed this cell.
    const forged = (refused: Record<string, number>) => ({
      ...row('forged-origin', 'trimmed-mean', 0.8, 0.8),
      refused,
    });
    const ok = column([row('none', 'trimmed-mean', 0.8, 0.8), forged({ E_SIGNATURE: 30 })], plainRows);
    expect(failures([ok])).toEqual([]);
    const bad = column(
      [row('none', 'trimmed-mean', 0.8, 0.8), forged({ ACCEPTED_FORGERY: 2, E_SIGNATURE: 28 })],
      plainRows,
    );
    expect(failures([bad])).toEqual([
      'random 10/3 forged-origin: 2 forged deltas accepted (the signature check must refuse every one)',
    ]);
    // One criterion more than the ρ pair: the refusal itself.
    expect(criteriaCount([bad])).toBe(criteriaCount([ok]));
    expect(criteriaCount([ok])).toBe(2 + 1 + 3 + 1);
    expect(renderVerdict([bad])).toContain('| forged-origin | 0.800 / 0.800 · 2 accepted ✗ |');
  });

  it('ignores rows of other rules in the robust campaign', () => {
    const c = column([row('none', 'trimmed-mean', 0.8, 0.8), row('alie', 'krum', 0.1, 0.1)], plainRows);
    expect(c.cells.map((x) => x.attack)).toEqual(['none']);
  });

  it('refuses campaigns that do not pair and reports that are not campaign reports', () => {
    const good = parseCampaignReport({ ...header(null), results: plainRows }, 'plain.json');
    expect(codeOf(() => judgeColumn({ ...good, seeds: 5 }, good))).toBe('E_REPORT');
    expect(codeOf(() => judgeColumn(good, good))).toBe('E_REPORT'); // no robust 'none' row
    expect(codeOf(() => parseCampaignReport({ default_rule: 'trimmed-mean', reports: [] }, 'x.json'))).toBe(
      'E_REPORT',
    );
    expect(() => parseCampaignReport({ ...good, seeds: '10' }, 'x.json')).toThrow(/x\.json: .*seeds/);
  });

  it('reads what `elex simulate federation` writes', () => {
    const opts = { mdp: 'elex-query' as const, agents: 4, byzantine: 1, seeds: 1, seed: 3 };
    const robust = runCampaign({ ...opts, attacks: ['none', 'sign-flip'], rules: ['trimmed-mean'] });
    const plain = runCampaign({ ...opts, attacks: ['none', 'visit-inflation'], rules: ['visit-weighted'] });
    const c = judgeColumn(
      parseCampaignReport(JSON.parse(JSON.stringify(robust)), 'robust'),
      parseCampaignReport(JSON.parse(JSON.stringify(plain)), 'plain'),
    );
    expect(c.cells.map((x) => x.attack)).toEqual(['none', 'sign-flip']);
    expect(c.baseline.mean).toBe(robust.baseline.rho_mean);
    expect(c.plainInflation.mean).toBe(plain.results[1].rho_mean);
    expect(robust.baseline.non_finite_stored).toBe(0);
    expect(robust.single_agent.non_finite_stored).toBe(0);
    expect(robust.federated_10_honest.non_finite_stored).toBe(0);
    const forged = runCampaign({ ...opts, attacks: ['forged-origin'], rules: ['trimmed-mean'] });
    const withNone = { ...forged, results: [...robust.results.slice(0, 1), ...forged.results] };
    const f = judgeColumn(parseCampaignReport(JSON.parse(JSON.stringify(withNone)), 'forged'), c2(plain));
    expect(forged.results[0].refused.E_SIGNATURE).toBeGreaterThan(0);
    expect(f.cells[1]).toMatchObject({ attack: 'forged-origin', accepted: 0 });
    expect(failures([f]).filter((x) => x.includes('forged'))).toEqual([]);
  });
});
