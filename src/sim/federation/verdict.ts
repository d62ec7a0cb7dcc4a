/**
 * Issue 5's criteria applied to campaign reports: per (MDP, N/F) column, one campaign of the default robust
 * rule under every attack and one of the plain visit-weighted merge under `none` and `visit-inflation`. Pure:
 * reports in, verdicts and a Markdown table out, so the table in docs/federation.md and a closing note is
 * printed by a command instead of assembled by hand (scripts/federation-table.ts).
 *
 * The criteria, with b the baseline's mean honest ρ (N − F honest agents, no attacker, the robust rule):
 * - every attack: mean honest ρ ≥ 0.95·b and worst honest ρ ≥ 0.90·b;
 * - no attack: the robust rule's mean ρ ≥ 0.98 × the plain merge's (judged on the mean; the worst is shown);
 * - the plain merge under visit inflation: mean ρ < 0.5 (so the Byzantine test can fail);
 * - forged-origin: every forged delta refused (the evaluation never merges one the codec accepted, so ρ
 *   cannot show it; the count of accepted ones is the criterion);
 * - no NaN or Inf stored in any run;
 * - 10 federated honest agents reach ρ 0.9 in at most a quarter of one agent's episodes (speed-up ≥ 4), on
 *   every seed (the episodes average the seeds that reached 0.9); one criterion per MDP.
 */
import { z } from 'zod';
import { ElexError } from '../../core/index.js';

/** Non-finite values stored by the honest-only runs; absent in reports older than session 13. */
const count = z.number().int().nonnegative().optional();

const row = z.object({
  attack: z.string(),
  rule: z.string(),
  rho_mean: z.number(),
  rho_min: z.number(),
  non_finite_stored: z.number().int().nonnegative(),
  /** Refusals by code; `ACCEPTED_FORGERY` counts forged deltas the codec let through. */
  refused: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Paired per-seed difference from the baseline (campaign.ts); absent in reports older than session 7. */
  vs_baseline: z
    .object({ mean_diff: z.number(), ci95: z.number(), worse_seeds: z.number().int().nonnegative() })
    .optional(),
});

/** The fields of an `elex simulate federation --json` report the verdict reads (others are ignored). */
export const campaignReportSchema = z.object({
  mdp: z.string(),
  agents: z.number().int().positive(),
  byzantine: z.number().int().nonnegative(),
  seeds: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  default_rule: z.string(),
  baseline: z.object({ rho_mean: z.number(), rho_min: z.number(), non_finite_stored: count }),
  single_agent: z.object({ episodes_to_0_9: z.number().nullable(), non_finite_stored: count }),
  federated_10_honest: z.object({
    non_finite_stored: count,
    episodes_to_0_9: z.number().nullable(),
    /** Seeds on which the 10 federated agents reached ρ 0.9 (the episodes average those seeds only). */
    reached_0_9: z.number().int().nonnegative(),
    speedup_vs_single: z.number().nullable(),
  }),
  results: z.array(row),
});
export type CampaignReportView = z.infer<typeof campaignReportSchema>;

/** Parses one report (a file's JSON); refuses anything that is not a single-MDP campaign report. */
export function parseCampaignReport(json: unknown, source: string): CampaignReportView {
  const r = campaignReportSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new ElexError(
      'E_REPORT',
      `${source}: not a campaign report (${first.path.join('.') || 'root'}: ${first.message})`,
    );
  }
  return r.data;
}

export const MEAN_FACTOR = 0.95;
export const WORST_FACTOR = 0.9;
export const RATIO_TARGET = 0.98;
export const PLAIN_CEILING = 0.5;
export const SPEEDUP_TARGET = 4;
const PLAIN_RULE = 'visit-weighted';
/** Reports round ρ to 4 decimals; a figure equal to its threshold up to float error (0.9 × 0.8) is at it. */
const EPS = 1e-9;
const atLeast = (x: number, threshold: number) => x >= threshold - EPS;
/** The attack whose criterion is a refusal as well as ρ (the issue: "must be refused by the signature check"). */
const FORGED = 'forged-origin';

export interface CellVerdict {
  attack: string;
  /** False for `none`: all N agents honest, shown for comparison; the criteria are for attacks. */
  judged: boolean;
  mean: number;
  worst: number;
  meanOk: boolean;
  worstOk: boolean;
  /** Forged deltas the codec accepted (forged-origin only; must be 0), null for other attacks. */
  accepted: number | null;
  /** Attack − baseline honest ρ per seed: mean, 95 % half-width, seeds worse (tells damage from spread). */
  paired: { meanDiff: number; ci95: number; worseSeeds: number } | null;
}

export interface ColumnVerdict {
  mdp: string;
  agents: number;
  byzantine: number;
  seeds: number;
  seed: number;
  baseline: { mean: number; worst: number };
  thresholds: { mean: number; worst: number };
  cells: CellVerdict[];
  plainNone: { mean: number; worst: number };
  robustNone: { mean: number; worst: number };
  /** Robust ÷ plain without attack, mean and worst. */
  ratio: { mean: number; worst: number; ok: boolean };
  plainInflation: { mean: number; ok: boolean };
  nonFinite: number;
  /** `reached`: seeds on which the 10 federated agents reached ρ 0.9 (all of them, for the criterion). */
  speedup: {
    single: number | null;
    federated: number | null;
    reached: number;
    ratio: number | null;
    ok: boolean;
  };
}

function findRow(r: CampaignReportView, attack: string, rule: string, source: string) {
  const found = r.results.find((x) => x.attack === attack && x.rule === rule);
  if (!found) {
    throw new ElexError('E_REPORT', `${source} has no row for attack ${attack} under rule ${rule}`);
  }
  return found;
}

/** The verdict for one column from its robust campaign (every attack) and its plain one. */
export function judgeColumn(robust: CampaignReportView, plain: CampaignReportView): ColumnVerdict {
  const same =
    robust.mdp === plain.mdp &&
    robust.agents === plain.agents &&
    robust.byzantine === plain.byzantine &&
    robust.seeds === plain.seeds &&
    robust.seed === plain.seed;
  if (!same) {
    throw new ElexError(
      'E_REPORT',
      `robust and plain campaigns differ: ${robust.mdp} ${robust.agents}/${robust.byzantine} ${robust.seeds} seeds from ${robust.seed} vs ${plain.mdp} ${plain.agents}/${plain.byzantine} ${plain.seeds} seeds from ${plain.seed}`,
    );
  }
  const rule = robust.default_rule;
  const b = robust.baseline.rho_mean;
  const thresholds = { mean: MEAN_FACTOR * b, worst: WORST_FACTOR * b };
  const cells = robust.results
    .filter((x) => x.rule === rule)
    .map((x) => ({
      attack: x.attack,
      judged: x.attack !== 'none',
      mean: x.rho_mean,
      worst: x.rho_min,
      meanOk: x.attack === 'none' || atLeast(x.rho_mean, thresholds.mean),
      worstOk: x.attack === 'none' || atLeast(x.rho_min, thresholds.worst),
      accepted: x.attack === FORGED ? (x.refused?.ACCEPTED_FORGERY ?? 0) : null,
      paired: x.vs_baseline
        ? {
            meanDiff: x.vs_baseline.mean_diff,
            ci95: x.vs_baseline.ci95,
            worseSeeds: x.vs_baseline.worse_seeds,
          }
        : null,
    }));
  const robustNoneRow = findRow(robust, 'none', rule, 'the robust campaign');
  const plainNoneRow = findRow(plain, 'none', PLAIN_RULE, 'the plain campaign');
  const inflation = findRow(plain, 'visit-inflation', PLAIN_RULE, 'the plain campaign');
  const ratioMean = robustNoneRow.rho_mean / plainNoneRow.rho_mean;
  const speed = robust.federated_10_honest.speedup_vs_single;
  // The federation's episodes to ρ 0.9 average the seeds that reached it: on a seed where it never did, it
  // did not reach 0.9 at all, whatever the fast seeds' mean says.
  const reached = robust.federated_10_honest.reached_0_9;
  return {
    mdp: robust.mdp,
    agents: robust.agents,
    byzantine: robust.byzantine,
    seeds: robust.seeds,
    seed: robust.seed,
    baseline: { mean: b, worst: robust.baseline.rho_min },
    thresholds,
    cells,
    plainNone: { mean: plainNoneRow.rho_mean, worst: plainNoneRow.rho_min },
    robustNone: { mean: robustNoneRow.rho_mean, worst: robustNoneRow.rho_min },
    ratio: {
      mean: ratioMean,
      worst: robustNoneRow.rho_min / plainNoneRow.rho_min,
      ok: atLeast(ratioMean, RATIO_TARGET),
    },
    plainInflation: { mean: inflation.rho_mean, ok: inflation.rho_mean < PLAIN_CEILING },
    nonFinite:
      [...robust.results, ...plain.results].reduce((s, x) => s + x.non_finite_stored, 0) +
      [robust.baseline, robust.single_agent, robust.federated_10_honest].reduce(
        (s, x) => s + (x.non_finite_stored ?? 0),
        0,
      ),
    speedup: {
      single: robust.single_agent.episodes_to_0_9,
      federated: robust.federated_10_honest.episodes_to_0_9,
      reached,
      ratio: speed,
      ok: speed !== null && reached === robust.seeds && atLeast(speed, SPEEDUP_TARGET),
    },
  };
}

/** One line per criterion that failed, naming the column and the figures. */
export function failures(columns: readonly ColumnVerdict[]): string[] {
  const out: string[] = [];
  for (const [i, c] of columns.entries()) {
    const name = columnName(c);
    for (const x of c.cells) {
      const p = pairedText(x, c.seeds);
      if (!x.meanOk) out.push(`${name} ${x.attack}: mean ${f3(x.mean)} < ${f3(c.thresholds.mean)}${p}`);
      if (!x.worstOk) out.push(`${name} ${x.attack}: worst ${f3(x.worst)} < ${f3(c.thresholds.worst)}${p}`);
      if (x.accepted)
        out.push(
          `${name} ${x.attack}: ${x.accepted} forged deltas accepted (the signature check must refuse every one)`,
        );
    }
    if (!c.ratio.ok)
      out.push(`${name} robust vs plain without attack: ${ratioText(c.ratio.mean)} < ${RATIO_TARGET}×`);
    if (!c.plainInflation.ok)
      out.push(`${name} plain under visit inflation: mean ${f3(c.plainInflation.mean)} ≥ ${PLAIN_CEILING}`);
    if (c.nonFinite > 0) out.push(`${name}: ${c.nonFinite} non-finite values stored`);
    if (!c.speedup.ok && judgesSpeedup(columns, i)) {
      const why =
        c.speedup.ratio === null
          ? 'ρ 0.9 not reached'
          : c.speedup.reached < c.seeds
            ? `10 federated agents reached ρ 0.9 on ${c.speedup.reached} of ${c.seeds} seeds`
            : `${ratioText(c.speedup.ratio)} < ${SPEEDUP_TARGET}×`;
      out.push(`${name} speed-up: ${why}`);
    }
  }
  return out;
}

/**
 * Whether column i judges the speed-up: the first column of its MDP (and seeds). Both sizes of an MDP run the
 * same 10 federated agents against the same single agent, so the criterion is one per MDP, not per column.
 */
function judgesSpeedup(columns: readonly ColumnVerdict[], i: number): boolean {
  const c = columns[i];
  return !columns.slice(0, i).some((p) => p.mdp === c.mdp && p.seeds === c.seeds && p.seed === c.seed);
}

/**
 * Criteria checked over all columns: each attack's mean and worst, forged-origin's refusals, three per column,
 * the speed-up per MDP.
 */
export function criteriaCount(columns: readonly ColumnVerdict[]): number {
  return columns.reduce((s, c, i) => {
    const judged = c.cells.filter((x) => x.judged);
    const refusals = judged.filter((x) => x.accepted !== null).length;
    return s + 2 * judged.length + refusals + 3 + (judgesSpeedup(columns, i) ? 1 : 0);
  }, 0);
}

const f3 = (x: number) => (x < 0 && x > -0.0005 ? '-0.000' : x.toFixed(3)).replace('-', '−');
const ratioText = (x: number) => `${x.toFixed(3)}×`;
/** A miss's paired difference: damage when the interval lies below 0, the seed-to-seed spread otherwise. */
const pairedText = (x: CellVerdict, seeds: number) =>
  x.paired === null
    ? ''
    : ` (paired with the baseline ${f3(x.paired.meanDiff)} ± ${x.paired.ci95.toFixed(3)}, ${x.paired.worseSeeds} of ${seeds} seeds worse)`;
const columnName = (c: ColumnVerdict) => `${c.mdp} ${c.agents}/${c.byzantine}`;
const mark = (ok: boolean) => (ok ? '' : ' ✗');

/** The table: one column per campaign pair, a row per attack; a failed figure carries ✗. */
export function renderTable(columns: readonly ColumnVerdict[]): string {
  const attacks: string[] = [];
  for (const c of columns) for (const x of c.cells) if (!attacks.includes(x.attack)) attacks.push(x.attack);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const per = (f: (c: ColumnVerdict) => string) => columns.map(f);
  const lines = [
    line(['', ...per(columnName)]),
    line(['---', ...per(() => '---')]),
    line(['baseline (N − F honest)', ...per((c) => `${f3(c.baseline.mean)} / ${f3(c.baseline.worst)}`)]),
    line([
      'thresholds (0.95 / 0.90 × baseline mean)',
      ...per((c) => `${f3(c.thresholds.mean)} / ${f3(c.thresholds.worst)}`),
    ]),
  ];
  for (const a of attacks) {
    lines.push(
      line([
        a === 'none' ? 'none (all N honest; not judged)' : a,
        ...per((c) => {
          const x = c.cells.find((y) => y.attack === a);
          if (!x) return '—';
          const accepted = x.accepted ? ` · ${x.accepted} accepted ✗` : '';
          return `${f3(x.mean)}${mark(x.meanOk)} / ${f3(x.worst)}${mark(x.worstOk)}${accepted}`;
        }),
      ]),
    );
  }
  lines.push(
    line(['plain, none', ...per((c) => `${f3(c.plainNone.mean)} / ${f3(c.plainNone.worst)}`)]),
    line([
      'robust ÷ plain, none (≥ 0.98× on the mean)',
      ...per((c) => `${ratioText(c.ratio.mean)}${mark(c.ratio.ok)} / ${ratioText(c.ratio.worst)}`),
    ]),
    line([
      'plain, visit-inflation, mean (< 0.5)',
      ...per((c) => `${f3(c.plainInflation.mean)}${mark(c.plainInflation.ok)}`),
    ]),
    line(['non-finite values stored', ...per((c) => `${c.nonFinite}${mark(c.nonFinite === 0)}`)]),
    line([
      'episodes to ρ 0.9: one agent → 10 (≥ 4×; one criterion per MDP, both sizes run the same agents)',
      ...per((c) =>
        c.speedup.ratio === null
          ? `${c.speedup.single ?? '—'} → ${c.speedup.federated ?? '—'} ✗`
          : `${c.speedup.single} → ${c.speedup.federated} (${c.speedup.ratio.toFixed(1)}×)${mark(c.speedup.ok)}`,
      ),
    ]),
  );
  return lines.join('\n');
}

/** The table, then how many criteria hold and each that does not. */
export function renderVerdict(columns: readonly ColumnVerdict[]): string {
  const failed = failures(columns);
  const total = criteriaCount(columns);
  const seeds = [
    ...new Set(columns.map((c) => `${c.seeds} seed${c.seeds === 1 ? '' : 's'} from root seed ${c.seed}`)),
  ].join('; ');
  const out = [
    `Honest ρ mean / worst (${seeds}); ✗ marks a figure that misses its criterion.`,
    '',
    renderTable(columns),
    '',
    `${total - failed.length} of ${total} criteria met.`,
  ];
  if (failed.length > 0) out.push('Not met:', ...failed.map((x) => `- ${x}`));
  return `${out.join('\n')}\n`;
}
