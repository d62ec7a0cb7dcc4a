/**
 * The Byzantine evaluation campaign behind `elex simulate federation`: for one MDP, N agents and F attackers,
 * every (attack, rule) pair over K seeds, plus the no-attack baseline with the default rule, the single-agent
 * reference and 10 honest federated agents (for the speed-up). A pure function of its options.
 */
import { deriveSeed } from '../../core/index.js';
import type { AttackName } from './attacks.js';
import { DEFAULT_RULE, type RuleName, TD_WINDOW } from './deps.js';
import { policyValue, startValue, uniformPolicy, valueIteration } from './mdp.js';
import { type MdpName, mdpByName } from './mdps.js';
import { type PairedDiff, pairedDiff } from './paired.js';
import {
  type Behaviour,
  DEFAULT_TD_SLACK,
  type RunConfig,
  type RunResult,
  runFederation,
  type Solution,
} from './run.js';

export interface CampaignOptions {
  mdp: MdpName;
  agents: number;
  byzantine: number;
  attacks: readonly AttackName[];
  rules: readonly RuleName[];
  seeds: number;
  seed: number;
  /** Episodes per agent in federated runs (default per MDP). */
  episodes?: number;
  /** Weigh reporters by their trust across rounds (default true; false = per-round rules alone). */
  trust?: boolean;
  /** How agents act (default per MDP: `BEHAVIOUR`). */
  behaviour?: Behaviour;
  /** Shrink each round's decisions towards the consensus (`shrinkTowardConsensus`; default false). */
  shrink?: boolean;
  /** The rescaled-linear server step's H (`RunConfig.serverStep`; default off). */
  serverStep?: number;
  /** Steps the evaluation's TD-reachability check allows beyond the fresh visits (default 0, as the product). */
  tdSlack?: number;
  /** Aggregates a report may be learned from, for the reachability check (default TD_WINDOW, as the product). */
  tdWindow?: number;
  /** Measure ρ on a Polyak average of each honest member's table at this rate per round (default off). */
  polyak?: number;
}

/** Behaviour per MDP: the random MDP is the off-policy setting (agents follow different fixed policies). */
export const BEHAVIOUR: Record<MdpName, Behaviour> = {
  'frozen-lake': 'epsilon-greedy',
  random: 'off-policy',
  'elex-query': 'epsilon-greedy',
};

const BUDGET: Record<MdpName, { federated: number; single: number; check: number }> = {
  'frozen-lake': { federated: 3000, single: 20000, check: 50 },
  random: { federated: 1500, single: 8000, check: 50 },
  'elex-query': { federated: 1000, single: 3000, check: 25 },
};

/** The campaign's i-th seed from root seed `root` (scripts and tests that reproduce a campaign's runs use it). */
export function campaignSeed(root: number, i: number): number {
  return deriveSeed(root, `seed-${i}`) >>> 0;
}

/**
 * One federated run as the campaign configures it (sync every 10 interactions, fresh-visit weights capped at
 * 2, trimmed fraction 0.3, TD-reachability check and reporter trust on; the MDP's behaviour and budget;
 * no attacker), with `extra` overriding any of it. Tests start from it so they run what the CLI runs.
 */
export function campaignRunConfig(mdpName: MdpName, extra: Partial<RunConfig> = {}): RunConfig {
  const budget = BUDGET[mdpName];
  return {
    mdp: extra.mdp ?? mdpByName(mdpName),
    solution: extra.solution ?? solve(mdpName),
    agents: 10,
    byzantine: 0,
    attack: 'none',
    rule: DEFAULT_RULE,
    seed: 1,
    episodes: budget.federated,
    syncEvery: 10,
    checkEvery: budget.check,
    weightCap: 2,
    beta: 0.3,
    behaviour: BEHAVIOUR[mdpName],
    tdCheck: true,
    trust: true,
    ...extra,
  };
}

export interface ResultRow {
  attack: AttackName;
  rule: RuleName;
  rho_mean: number;
  rho_min: number;
  q_error_inf: number;
  greedy_agreement: number;
  episodes_to_0_9: number | null;
  reached_0_9: number;
  non_finite_stored: number;
  refused: Record<string, number>;
  /** Paired per-seed difference of honest mean ρ against the baseline (same seeds and streams). */
  vs_baseline: PairedDiff;
}

/** Honest mean ρ per seed. */
const seedMeans = (runs: RunResult[]) => runs.map((r) => r.rho.reduce((a, b) => a + b, 0) / r.rho.length);

const r4 = (x: number) => Number(x.toFixed(4));

export function solve(mdpName: MdpName): Solution {
  const mdp = mdpByName(mdpName);
  const { q, v } = valueIteration(mdp);
  return {
    qStar: q,
    vStar: startValue(mdp, v),
    vRandom: startValue(mdp, policyValue(mdp, uniformPolicy(mdp))),
  };
}

function summarise(attack: AttackName, rule: RuleName, runs: RunResult[], baseline: number[]): ResultRow {
  let rhoSum = 0;
  let rhoMin = Infinity;
  let qErr = 0;
  let agree = 0;
  let nonFinite = 0;
  const reached: number[] = [];
  const refused: Record<string, number> = {};
  for (const r of runs) {
    rhoSum += r.rho.reduce((a, b) => a + b, 0) / r.rho.length;
    rhoMin = Math.min(rhoMin, ...r.rho);
    qErr += r.qErrorInf;
    agree += r.greedyAgreement;
    nonFinite += r.nonFinite;
    if (r.episodesTo09 !== null) reached.push(r.episodesTo09);
    for (const [k, v] of Object.entries(r.refused)) refused[k] = (refused[k] ?? 0) + v;
  }
  const n = runs.length;
  const sortedRefused: Record<string, number> = {};
  for (const k of Object.keys(refused).sort()) sortedRefused[k] = refused[k];
  return {
    attack,
    rule,
    rho_mean: r4(rhoSum / n),
    rho_min: r4(rhoMin),
    q_error_inf: r4(qErr / n),
    greedy_agreement: r4(agree / n),
    // Mean over the seeds that reached 0.9; null when none did.
    episodes_to_0_9: reached.length ? Math.round(reached.reduce((a, b) => a + b, 0) / reached.length) : null,
    reached_0_9: reached.length,
    non_finite_stored: nonFinite,
    refused: sortedRefused,
    vs_baseline: pairedDiff(seedMeans(runs), baseline),
  };
}

export function runCampaign(o: CampaignOptions, onProgress?: (done: number, total: number) => void) {
  const mdp = mdpByName(o.mdp);
  const solution = solve(o.mdp);
  const budget = BUDGET[o.mdp];
  const episodes = o.episodes ?? budget.federated;
  const seeds = Array.from({ length: o.seeds }, (_, i) => campaignSeed(o.seed, i));
  const total = (o.attacks.length * o.rules.length + 3) * seeds.length;
  let done = 0;
  const base = campaignRunConfig(o.mdp, {
    mdp,
    solution,
    trust: o.trust ?? true,
    behaviour: o.behaviour ?? BEHAVIOUR[o.mdp],
    shrink: o.shrink ?? false,
    serverStep: o.serverStep,
    polyak: o.polyak,
    tdSlack: o.tdSlack ?? DEFAULT_TD_SLACK,
    tdWindow: o.tdWindow ?? TD_WINDOW,
  });
  const runAll = (
    agents: number,
    byzantine: number,
    attack: AttackName,
    rule: RuleName,
    eps: number,
    check: number,
  ) =>
    seeds.map((seed) => {
      const r = runFederation({
        ...base,
        agents,
        byzantine,
        attack,
        rule,
        seed,
        episodes: eps,
        checkEvery: check,
      });
      onProgress?.(++done, total);
      return r;
    });
  // The baseline federates the same honest agents (the first N − F, same seeds and streams) with no
  // attacker present: what the honest agents reach together, against which an attack's damage is measured.
  // The 'none' row (all N learning honestly) stays among the results for comparison.
  const baselineRuns = runAll(o.agents - o.byzantine, 0, 'none', DEFAULT_RULE, episodes, budget.check);
  const baselineMeans = seedMeans(baselineRuns);
  const baseline = summarise('none', DEFAULT_RULE, baselineRuns, baselineMeans);
  const cache = new Map<string, ResultRow>();
  if (o.byzantine === 0) cache.set(`none/${DEFAULT_RULE}`, baseline);
  const row = (attack: AttackName, rule: RuleName): ResultRow => {
    const key = `${attack}/${rule}`;
    let r = cache.get(key);
    if (!r) {
      const runs = runAll(o.agents, o.byzantine, attack, rule, episodes, budget.check);
      r = summarise(attack, rule, runs, baselineMeans);
      cache.set(key, r);
    } else {
      done += seeds.length;
      onProgress?.(done, total);
    }
    return r;
  };
  const single = summarise(
    'none',
    DEFAULT_RULE,
    runAll(1, 0, 'none', DEFAULT_RULE, budget.single, budget.check),
    baselineMeans,
  );
  const fed10 = summarise(
    'none',
    DEFAULT_RULE,
    runAll(10, 0, 'none', DEFAULT_RULE, episodes, budget.check),
    baselineMeans,
  );
  const results: ResultRow[] = [];
  for (const attack of o.attacks) for (const rule of o.rules) results.push(row(attack, rule));
  const speedup =
    single.episodes_to_0_9 !== null && fed10.episodes_to_0_9 !== null
      ? r4(single.episodes_to_0_9 / fed10.episodes_to_0_9)
      : null;
  return {
    mdp: o.mdp,
    agents: o.agents,
    byzantine: o.byzantine,
    seeds: o.seeds,
    seed: o.seed,
    episodes_per_agent: episodes,
    sync_every_interactions: 10,
    behaviour: base.behaviour,
    shrink: base.shrink,
    polyak: base.polyak ?? null,
    // Only when set, so that the default report is unchanged.
    ...(base.serverStep !== undefined ? { server_step: base.serverStep } : {}),
    td_slack: base.tdSlack,
    td_window: base.tdWindow,
    v_star: r4(solution.vStar),
    v_random: r4(solution.vRandom),
    default_rule: DEFAULT_RULE,
    baseline: {
      rule: DEFAULT_RULE,
      agents: o.agents - o.byzantine,
      rho_mean: baseline.rho_mean,
      rho_min: baseline.rho_min,
      non_finite_stored: baseline.non_finite_stored,
      note: 'no-attack federated run of the same honest agents only (no would-be attackers learning)',
    },
    single_agent: {
      episodes_budget: budget.single,
      rho_mean: single.rho_mean,
      episodes_to_0_9: single.episodes_to_0_9,
      reached_0_9: single.reached_0_9,
      non_finite_stored: single.non_finite_stored,
    },
    federated_10_honest: {
      rho_mean: fed10.rho_mean,
      episodes_to_0_9: fed10.episodes_to_0_9,
      reached_0_9: fed10.reached_0_9,
      speedup_vs_single: speedup,
      non_finite_stored: fed10.non_finite_stored,
    },
    results,
  };
}
