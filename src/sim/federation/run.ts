/**
 * One federated training run on a benchmark MDP: N agents (F of them Byzantine) learn by tabular Q-learning in
 * lockstep and synchronise every `syncEvery` interactions through an elected honest aggregator that merges the
 * round's validated reports with the chosen rule and broadcasts the result, which members adopt.
 *
 * The reports are the columnar deltas of src/learning (q, claimed lifetime visits, fresh visits since the
 * previous sync); weights, validation and rules are the library's. Honest deltas are not serialised (they
 * would decode to themselves); forged-origin deltas go through the real Ed25519 codec.
 *
 * The parts: agent.ts (an agent's learning step; behaviour.ts, how it acts), round.ts (one round: the
 * learners' reports, the colluders' forged deltas, the aggregator's merge), rho.ts (ρ checkpoints), result.ts.
 */
import { ElexError, SeededRng } from '../../core/index.js';
import type { Agent, StepContext } from './agent.js';
import { stepAgent } from './agent.js';
import { Aggregator } from './aggregator.js';
import { Colluders } from './colluders.js';
import { TD_WINDOW } from './deps.js';
import { runResult } from './result.js';
import { RhoCheckpoints } from './rho.js';
import { syncRound } from './round.js';
import { DEFAULT_TD_SLACK, type RunConfig, type RunResult } from './run-config.js';
import { newRunState } from './run-state.js';

export { BEHAVIOURS, type Behaviour, preferredAction } from './behaviour.js';
export { rhoOf } from './rho.js';
export { DEFAULT_TD_SLACK, type RunConfig, type RunResult, type Solution } from './run-config.js';

export function runFederation(c: RunConfig): RunResult {
  // Each of these would never end the loop below: no honest agent (a NaN mean), no step per round, no budget.
  if (!Number.isInteger(c.agents) || c.agents < 1)
    throw new ElexError('E_CONFIG', `agents must be an integer ≥ 1, got ${c.agents}`);
  if (!Number.isInteger(c.byzantine) || c.byzantine < 0 || c.byzantine >= c.agents)
    throw new ElexError('E_CONFIG', `byzantine must be an integer in 0..agents − 1, got ${c.byzantine}`);
  if (!Number.isInteger(c.syncEvery) || c.syncEvery < 1)
    throw new ElexError('E_CONFIG', `syncEvery must be an integer ≥ 1, got ${c.syncEvery}`);
  if (!Number.isFinite(c.episodes))
    throw new ElexError('E_CONFIG', `episodes must be finite, got ${c.episodes}`);
  const tdSlack = c.tdSlack ?? DEFAULT_TD_SLACK;
  if (!Number.isInteger(tdSlack) || tdSlack < 0 || tdSlack > 10)
    throw new ElexError('E_CONFIG', `tdSlack must be an integer in 0..10, got ${c.tdSlack}`);
  const tdWindow = c.tdWindow ?? TD_WINDOW;
  if (!Number.isInteger(tdWindow) || tdWindow < 1 || tdWindow > 50)
    throw new ElexError('E_CONFIG', `tdWindow must be an integer in 1..50, got ${c.tdWindow}`);
  if (c.polyak !== undefined && !(c.polyak > 0 && c.polyak <= 1))
    throw new ElexError('E_CONFIG', `polyak must be in (0, 1], got ${c.polyak}`);
  if (c.serverStep !== undefined && !(c.serverStep > 0 && Number.isFinite(c.serverStep)))
    throw new ElexError('E_CONFIG', `serverStep must be finite and > 0, got ${c.serverStep}`);
  const root = new SeededRng(c.seed);
  const run = newRunState(c, root, tdWindow, tdSlack);
  const colluders = new Colluders(run, root);
  const aggregator = new Aggregator(run);
  const honest = run.agents.filter((a) => !a.byz);
  const learners = run.agents.filter((a) => a.learns);
  const step: StepContext = {
    mdp: c.mdp,
    learning: run.learning,
    diverse: c.behaviour === 'diverse',
    offPolicy: c.behaviour === 'off-policy',
    bias: c.offPolicyBias ?? 0.5,
    bounds: run.bounds,
    rewardFlip: c.attack === 'reward-flip',
  };
  const checkpoints = new RhoCheckpoints(c, honest);
  for (;;) {
    for (let t = 0; t < c.syncEvery; t++) for (const ag of learners) stepAgent(step, ag);
    if (c.agents > 1) syncRound(run, colluders, aggregator);
    checkpoints.average();
    const ep = meanEpisodes(honest);
    checkpoints.check(ep);
    if (ep >= c.episodes) break;
  }
  return runResult(run, honest, checkpoints, aggregator);
}

function meanEpisodes(honest: readonly Agent[]): number {
  let t = 0;
  for (const h of honest) t += h.episodes;
  return t / honest.length;
}
