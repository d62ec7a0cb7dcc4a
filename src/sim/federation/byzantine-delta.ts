/** A Byzantine member's delta of one round, forged by its attack and put through the aggregator's checks. */
import { U32_MAX } from './agent.js';
import { poisonedValue } from './attacks.js';
import type { Colluders } from './colluders.js';
import {
  checkDelta,
  type Delta,
  decodeDelta,
  emptyDelta,
  encodeDeltaUnchecked,
  isElexErrorCode,
} from './deps.js';
import { type RunState, refuse, reportWeight } from './run-state.js';

/** Byzantine member i's delta on the targets, through the checks every member's delta goes through. */
export function collectByzantine(
  run: RunState,
  col: Colluders,
  i: number,
  targets: readonly number[],
  poisoned: number,
): void {
  const { c, matrix } = run;
  const attack = col.attack;
  const A = run.mdp.actions;
  const d = forgedDelta(run, col, i, targets, poisoned);
  if (attack === 'forged-origin') {
    // Claims to come from honest agent 0, signed with the attacker's own key.
    d.origin = col.ids[0].id;
    try {
      decodeDelta(encodeDeltaUnchecked(d, col.ids[i]), col.keyring, { actions: Math.max(5, A) });
      refuse(run, 'ACCEPTED_FORGERY');
    } catch (err) {
      refuse(run, isElexErrorCode(err) ?? 'E_UNKNOWN');
    }
    return;
  }
  if (attack === 'stale-replay') {
    // The attacker also replays an honest agent's signed delta of 20 rounds ago as it is: the aggregator took
    // that (life, seq) from that origin already, so the library's ReplayGuard refuses it (E_REPLAY, once per
    // attacker and round). The stale values it reports as itself go on below.
    refuse(run, 'E_REPLAY');
  }
  const verdict = checkDelta(d, { bounds: run.bounds, maxInteractions: c.syncEvery });
  if (!verdict.ok) {
    refuse(run, verdict.code);
    return;
  }
  for (let t = 0; t < d.count; t++) {
    if (!run.check.reachable(d.lo[t] * A + d.action[t], d.q[t], d.fresh[t])) {
      refuse(run, 'E_UNREACHABLE');
      return;
    }
  }
  for (let t = 0; t < d.count; t++) {
    const k = matrix.mark[d.lo[t] * A + d.action[t]];
    matrix.put(i, k, d.q[t], reportWeight(run, d.visits[t], d.fresh[t]), d.fresh[t]);
  }
}

/** The delta member i forges: its attack's value for every target, with the visits it claims. */
function forgedDelta(
  run: RunState,
  col: Colluders,
  i: number,
  targets: readonly number[],
  poisoned: number,
): Delta {
  const A = run.mdp.actions;
  const view = col.view;
  const d = emptyDelta('peer', 'byz', targets.length);
  d.interactions = run.c.syncEvery;
  view.reporter = i;
  for (let t = 0; t < targets.length; t++) {
    const e = targets[t];
    view.entry = e;
    view.state = Math.floor(e / A);
    view.action = e % A;
    view.mu = col.seenMu[t];
    view.sd = col.seenSd[t];
    view.best = col.seenBest[t];
    view.worst = col.seenWorst[t];
    view.fresh = t < poisoned ? 1 : 0;
    d.hi[t] = 0;
    d.lo[t] = view.state;
    d.action[t] = view.action;
    d.q[t] = poisonedValue(col.attack, view);
    d.visits[t] = col.inflating ? U32_MAX : Math.max(1, Math.round(run.globalN[e]));
    d.fresh[t] = view.fresh;
  }
  return d;
}
