import type { Rng } from '../core/index.js';
import type { FederatedQTable } from '../learning/index.js';

/** One (state, action) a member learns, with its terminal reward: Q* = reward. */
export interface TaskEntry {
  state: bigint;
  action: number;
  reward: number;
}

/**
 * A member's interactions before each sync: `perSync` entries of `task` drawn from `rng`, each learned with
 * its reward, or with the reward negated when `flip` (a member with a broken reward model).
 */
export function learnTask(
  task: readonly TaskEntry[],
  rng: Rng,
  perSync: number,
  flip: boolean,
): (fqt: FederatedQTable) => void {
  return (fqt) => {
    for (let i = 0; i < perSync; i++) {
      const e = task[rng.int(task.length)];
      fqt.learner.learn(e.state, e.action, flip ? -e.reward : e.reward, null);
    }
  };
}

/** Largest |Q − Q*| of a member's table over the task. */
export function maxAbsError(fqt: FederatedQTable, task: readonly TaskEntry[]): number {
  let worst = 0;
  for (const e of task) worst = Math.max(worst, Math.abs(fqt.learner.q(e.state, e.action) - e.reward));
  return worst;
}
