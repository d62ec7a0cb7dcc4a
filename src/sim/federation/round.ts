/** One synchronous round of the evaluated aggregator: collect, validate and merge the reports, then close. */
import type { Aggregator } from './aggregator.js';
import { collectByzantine } from './byzantine-delta.js';
import type { Colluders } from './colluders.js';
import { collectLearners } from './learner-reports.js';
import type { RunState } from './run-state.js';

export function syncRound(run: RunState, colluders: Colluders, aggregator: Aggregator): void {
  const { c, matrix } = run;
  run.round++;
  matrix.columns = 0;
  run.check.open();
  colluders.openRound(run);
  const honestK = collectLearners(run);
  if (colluders.reporting && honestK > 0) {
    const { targets, poisoned } = colluders.chooseTargets(run, honestK);
    colluders.observeTargets(run, targets);
    for (let i = c.agents - c.byzantine; i < c.agents; i++)
      collectByzantine(run, colluders, i, targets, poisoned);
  }
  if (matrix.columns > 0) aggregator.decide(run);
  closeRound(run, colluders);
}

/** Resends, fresh visits cleared, and what later rounds check against (the window) or replay (history). */
function closeRound(run: RunState, colluders: Colluders): void {
  const { agents, global, resend } = run;
  // A refused member gets the consensus of its unreachable entries back (FederatedQTable's resend).
  for (let j = 0; j < resend.length; j += 2) agents[resend[j]].q[resend[j + 1]] = global[resend[j + 1]];
  resend.length = 0;
  for (const ag of agents) {
    for (let t = 0; t < ag.nTouched; t++) ag.fresh[ag.touched[t]] = 0;
    ag.nTouched = 0;
  }
  run.check.close();
  colluders.closeRound(run);
}
