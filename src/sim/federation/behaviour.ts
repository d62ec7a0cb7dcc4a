/**
 * How the evaluation's agents act: where an episode starts and which action an agent takes in a state. The
 * behaviour policy only; the update it feeds is the agent's learning step (`stepAgent`, agent.ts).
 */
import type { Rng } from '../../core/index.js';
import { epsilonAt, type LearningConfig } from './deps.js';
import { type Mdp, sampleInitial } from './mdp.js';

export const BEHAVIOURS = ['epsilon-greedy', 'diverse', 'off-policy'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** Agent i's preferred action in state s under the off-policy behaviour (differs between agents). */
export function preferredAction(i: number, s: number, actions: number): number {
  return (i * 7 + s * 3) % actions;
}

/** The run's behaviour, resolved once (`RunConfig.behaviour`, `RunConfig.offPolicyBias`). */
export interface Acting {
  readonly mdp: Mdp;
  readonly learning: LearningConfig;
  readonly diverse: boolean;
  readonly offPolicy: boolean;
  /** Probability of the agent-specific action under `off-policy`. */
  readonly bias: number;
}

/** What the behaviour reads of an agent. */
export interface Actor {
  q: Float64Array;
  /** Interactions so far (ε decays with them). */
  steps: number;
  id: number;
  /** The action `diverse` exploration favours. */
  pref: number;
  rng: Rng;
}

/** An episode's first state; `diverse` agents start apart (where the MDP can start). */
export function startState(acting: Acting, ag: Actor): number {
  const { mdp, diverse } = acting;
  const rng = ag.rng;
  let s = diverse ? (sampleInitial(mdp, rng) + ag.pref * 7) % mdp.states : sampleInitial(mdp, rng);
  if (diverse && mdp.initial[s] === 0) s = sampleInitial(mdp, rng);
  return s;
}

/** The action the agent takes in s: explore with probability ε (1 off-policy), else greedy on its Q. */
export function chooseAction(acting: Acting, ag: Actor, s: number): number {
  const { mdp, diverse, offPolicy } = acting;
  const A = mdp.actions;
  const rng = ag.rng;
  const mask = mdp.mask[s];
  const eps = offPolicy ? 1 : epsilonAt(acting.learning, ag.steps);
  let a = -1;
  if (rng.next() < eps) {
    const p = offPolicy ? preferredAction(ag.id, s, A) : ag.pref;
    if ((diverse || offPolicy) && rng.next() < (offPolicy ? acting.bias : 0.5) && mask & (1 << p)) a = p;
    else {
      do a = rng.int(A);
      while ((mask & (1 << a)) === 0);
    }
  } else {
    // Greedy, ties broken uniformly (reservoir sampling over the tied actions).
    let best = -Infinity;
    let ties = 0;
    for (let b = 0; b < A; b++) {
      if ((mask & (1 << b)) === 0) continue;
      const x = ag.q[s * A + b];
      if (x > best) {
        best = x;
        a = b;
        ties = 1;
      } else if (x === best) {
        ties++;
        if (rng.int(ties) === 0) a = b;
      }
    }
  }
  return a;
}
