/** The configuration of one federated run (`runFederation`) and what it returns. */
import type { AttackName } from './attacks.js';
import type { Behaviour } from './behaviour.js';
import type { RuleName, TrustOptions } from './deps.js';
import type { Mdp } from './mdp.js';

export interface Solution {
  qStar: Float64Array;
  vStar: number;
  vRandom: number;
}

export interface RunConfig {
  mdp: Mdp;
  solution: Solution;
  agents: number;
  byzantine: number;
  attack: AttackName;
  rule: RuleName;
  seed: number;
  /** Episodes per agent. */
  episodes: number;
  syncEvery: number;
  /** ρ checkpoint period, in episodes per agent. */
  checkEvery: number;
  weightCap: number;
  beta: number;
  /**
   * How agents act. `epsilon-greedy`: the engine's ε-greedy on their own Q (ε 0.1 → 0.01). `diverse`: the
   * same, with exploration biased towards an agent-specific action. `off-policy`: each agent follows a fixed
   * behaviour policy of its own, independent of its Q (the setting of Woo et al. 2023): in state s it takes
   * its preferred action p_i(s) with probability `offPolicyBias`, otherwise a uniformly random available
   * one; ρ is measured on the greedy policy of its Q as always.
   */
  behaviour: Behaviour;
  /** Probability of the agent-specific action under `off-policy` (default 0.5). */
  offPolicyBias?: number;
  /** Refuse reports not reachable from the consensus by TD steps (`tdReachable`). */
  tdCheck: boolean;
  /** Weigh reporters by their trust across rounds (`ReporterTrust`); robust rules only. */
  trust: boolean;
  /** James–Stein shrinkage of each round's decisions towards the consensus (robust rules; off by default). */
  shrink?: boolean;
  /**
   * A server step on the robust rules' decisions (off by default; not for `plain`): each entry moves
   * η = min(1, α_n / α) of the way from its consensus to the decided value, α_n = H / (H + (1 − γ)·n), with
   * n the kept visits the aggregator counted for the entry before the round (the rescaled linear rate of
   * asynchronous Q-learning; H = 1 is Wainwright's 1 / (1 + (1 − γ)·n)). H > 0.
   */
  serverStep?: number;
  /** Reporter-trust options other than the defaults (the α and scale floor come from the MDP). */
  trustOptions?: Partial<TrustOptions>;
  /**
   * Aggregates whose published values a report may be learned from (default `TD_WINDOW`, as
   * `FederatedQTable`): a report passes the reachability check if it is reachable from its entry's value in
   * any of the last `tdWindow` aggregates. 1: the current consensus only. As in the product, until
   * `tdWindow − 1` aggregates are published the check uses the current consensus and one step of slack.
   */
  tdWindow?: number;
  /**
   * Steps the reachability check allows beyond a report's fresh visits (default 0, as `FederatedQTable`).
   * `--td-window 1 --td-slack 1` is the product's check before the window (one step of slack for members
   * that learned from an older aggregate), except that reports with no fresh visits are not checked. Visit
   * inflation pushes to the edge the check accepts, from the most favourable value in the window (at slack 0
   * it coincides with the quiet variant).
   */
  tdSlack?: number;
  /**
   * Measure ρ on the greedy policy of a Polyak–Ruppert average of each honest member's table,
   * q̄ ← q̄ + polyak·(q − q̄) after every round (0 < polyak ≤ 1; off by default). Learning and acting are
   * unchanged: it measures how much of the honest agents' spread is constant-α noise in their tables.
   */
  polyak?: number;
}

/** The product's reachability slack (`FederatedQTable`): none beyond the fresh visits, within its window. */
export const DEFAULT_TD_SLACK = 0;

export interface RunResult {
  rho: number[];
  /** The honest agents' mean ρ at each tail checkpoint (their mean per agent is `rho`). */
  rhoTail: number[];
  qErrorInf: number;
  greedyAgreement: number;
  episodesTo09: number | null;
  refused: Record<string, number>;
  nonFinite: number;
  /** Final smoothed trust ratio per agent (null: never scored or trust off); diagnostics, not in the JSON. */
  trustRatios: (number | null)[];
}
