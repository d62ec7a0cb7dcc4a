/**
 * An agent of the evaluation: its table, its visits (lifetime, and fresh since the last round, with the entries
 * it touched) and its place in the current episode; and its learning step, the engine's tabular Q-learning.
 */
import type { Rng } from '../../core/index.js';
import { type Acting, type Actor, chooseAction, startState } from './behaviour.js';
import { type QBounds, tdStep } from './deps.js';
import { sampleOutcome } from './mdp.js';
import type { RunConfig } from './run-config.js';

export const U32_MAX = 0xffffffff;

export interface Agent extends Actor {
  visits: Float64Array;
  fresh: Uint16Array;
  touched: Int32Array;
  nTouched: number;
  /** Current state (−1: between episodes) and step within the episode. */
  s: number;
  h: number;
  episodes: number;
  byz: boolean;
  learns: boolean;
}

// Byzantine agents are the last F; honest ones learn, Byzantine ones learn only in 'none' and 'reward-flip'.
export function createAgents(c: RunConfig, root: Rng): Agent[] {
  const SA = c.mdp.states * c.mdp.actions;
  const agents: Agent[] = [];
  for (let i = 0; i < c.agents; i++) {
    const byz = i >= c.agents - c.byzantine;
    agents.push({
      q: new Float64Array(SA),
      visits: new Float64Array(SA),
      fresh: new Uint16Array(SA),
      touched: new Int32Array(c.syncEvery),
      nTouched: 0,
      s: -1,
      h: 0,
      episodes: 0,
      steps: 0,
      rng: root.fork(`agent-${i}`),
      id: i,
      pref: i % c.mdp.actions,
      byz,
      learns: !byz || c.attack === 'none' || c.attack === 'reward-flip',
    });
  }
  return agents;
}

/** What a learning step reads besides the agent: how agents act, the Q bounds, and the reward-flip attack. */
export interface StepContext extends Acting {
  readonly bounds: QBounds;
  /** Byzantine learners learn on r′ = r_min + r_max − r. */
  readonly rewardFlip: boolean;
}

/** One interaction: act, sample the outcome, one TD step on the entry, count the visit. */
export function stepAgent(ctx: StepContext, ag: Agent): void {
  const { mdp, learning, bounds } = ctx;
  const A = mdp.actions;
  if (ag.s < 0) {
    ag.s = startState(ctx, ag);
    ag.h = 0;
  }
  const s = ag.s;
  const a = chooseAction(ctx, ag, s);
  const k = sampleOutcome(mdp, s, a, ag.rng);
  const s2 = mdp.next[k];
  let r = mdp.reward[k];
  if (ag.byz && ctx.rewardFlip) r = mdp.rMin + mdp.rMax - r;
  let mx = 0;
  if (!mdp.terminal[k]) {
    mx = -Infinity;
    for (let b = 0; b < A; b++) if (mdp.mask[s2] & (1 << b)) mx = Math.max(mx, ag.q[s2 * A + b]);
  }
  const e = s * A + a;
  const v = tdStep(ag.q[e], r, mx, learning.alpha, learning.gamma);
  ag.q[e] = Math.max(bounds.min, Math.min(bounds.max, Math.fround(v)));
  ag.visits[e] = Math.min(U32_MAX, ag.visits[e] + 1);
  if (ag.fresh[e]++ === 0) ag.touched[ag.nTouched++] = e;
  ag.steps++;
  ag.h++;
  if (mdp.terminal[k] || ag.h >= mdp.horizon) {
    ag.s = -1;
    ag.episodes++;
  } else ag.s = s2;
}
