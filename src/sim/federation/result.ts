/** What one run returns: the honest agents' ρ, distance to Q* and greedy agreement, refusals and trust. */
import type { Agent } from './agent.js';
import type { Aggregator } from './aggregator.js';
import { argBest } from './mdp.js';
import type { RhoCheckpoints } from './rho.js';
import type { RunResult } from './run-config.js';
import type { RunState } from './run-state.js';

export function runResult(
  run: RunState,
  honest: readonly Agent[],
  checkpoints: RhoCheckpoints,
  aggregator: Aggregator,
): RunResult {
  const { c, mdp } = run;
  const { qStar } = c.solution;
  const S = mdp.states;
  const A = mdp.actions;
  const rho: number[] = [];
  let nonFinite = run.nonFinite;
  let qErr = 0;
  let agree = 0;
  let agreeN = 0;
  for (let i = 0; i < honest.length; i++) {
    const h = honest[i];
    rho.push(checkpoints.final(i));
    for (let e = 0; e < S * A; e++) {
      if (!Number.isFinite(h.q[e])) nonFinite++;
      const s = Math.floor(e / A);
      if (mdp.mask[s] & (1 << (e % A))) qErr = Math.max(qErr, Math.abs(h.q[e] - qStar[e]));
    }
    for (let s = 0; s < S; s++) {
      const g = argBest(mdp, h.q, s, false);
      const o = argBest(mdp, qStar, s, false);
      agreeN++;
      if (Math.abs(qStar[s * A + g] - qStar[s * A + o]) <= 1e-9) agree++;
    }
  }
  return {
    rho,
    rhoTail: checkpoints.tail,
    qErrorInf: qErr,
    greedyAgreement: agree / agreeN,
    episodesTo09: checkpoints.episodesTo09,
    refused: run.refused,
    nonFinite,
    trustRatios: run.agents.map((_, i) => aggregator.trustRatio(i)),
  };
}
