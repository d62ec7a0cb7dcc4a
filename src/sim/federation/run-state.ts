/**
 * What the parts of one run share: the agents, the aggregator's consensus, the round's report matrix and
 * reachability check, and the run's counters.
 */
import type { Rng } from '../../core/index.js';
import { type Agent, createAgents } from './agent.js';
import { DEFAULT_LEARNING, type LearningConfig, type QBounds, qBounds } from './deps.js';
import type { Mdp } from './mdp.js';
import { ReachabilityCheck } from './reachability-check.js';
import { ReportMatrix } from './report-matrix.js';
import type { RunConfig } from './run-config.js';

export interface RunState {
  readonly c: RunConfig;
  readonly mdp: Mdp;
  readonly learning: LearningConfig;
  readonly bounds: QBounds;
  /** The plain ADR-115 merge (`visit-weighted`): claimed lifetime visits weigh, and nothing is TD-checked. */
  readonly plain: boolean;
  /** Byzantine agents are the last `c.byzantine`. */
  readonly agents: readonly Agent[];
  /** The aggregator's consensus, and the visits behind each of its values. */
  readonly global: Float64Array;
  readonly globalN: Float64Array;
  readonly matrix: ReportMatrix;
  readonly check: ReachabilityCheck;
  /** (agent, entry) pairs whose consensus goes back to a member whose delta was refused as unreachable. */
  readonly resend: number[];
  /** Refused deltas by code. */
  readonly refused: Record<string, number>;
  /** Non-finite values a rule decided (the result adds those left in honest tables). */
  nonFinite: number;
  round: number;
}

export function newRunState(c: RunConfig, root: Rng, tdWindow: number, tdSlack: number): RunState {
  const { mdp } = c;
  const SA = mdp.states * mdp.actions;
  const learning = { ...DEFAULT_LEARNING, actions: mdp.actions, gamma: mdp.gamma };
  const plain = c.rule === 'visit-weighted';
  const global = new Float64Array(SA);
  const check = new ReachabilityCheck(
    {
      enabled: c.tdCheck && !plain,
      window: tdWindow,
      slack: tdSlack,
      syncEvery: c.syncEvery,
      alpha: learning.alpha,
      mdp,
    },
    global,
  );
  return {
    c,
    mdp,
    learning,
    bounds: qBounds(mdp.rMin, mdp.rMax, mdp.gamma),
    plain,
    agents: createAgents(c, root),
    global,
    globalN: new Float64Array(SA),
    matrix: new ReportMatrix(SA, c.agents),
    check,
    resend: [],
    refused: {},
    nonFinite: 0,
    round: 0,
  };
}

export function refuse(run: RunState, code: string): void {
  run.refused[code] = (run.refused[code] ?? 0) + 1;
}

/** A report's weight: its claimed lifetime visits under the plain merge, its capped fresh visits otherwise. */
export function reportWeight(run: RunState, visits: number, fresh: number): number {
  return run.plain ? visits : Math.min(run.c.weightCap, fresh);
}
