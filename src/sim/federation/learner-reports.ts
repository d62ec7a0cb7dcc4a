/** The learners' reports of one round: each learner's delta, refused whole if any value is unreachable. */
import { type RunState, refuse, reportWeight } from './run-state.js';

/**
 * Every learner's delta (its entries touched since the last round) into the report matrix. Returns how many
 * columns the honest agents' reports opened (they come first).
 */
export function collectLearners(run: RunState): number {
  const { agents, check, matrix, resend } = run;
  let honestEntries = 0;
  for (let i = 0; i < agents.length; i++) {
    const ag = agents[i];
    if (!ag.learns) continue;
    let ok = true;
    for (let t = 0; t < ag.nTouched; t++) {
      const e = ag.touched[t];
      if (!check.reachable(e, Math.fround(ag.q[e]), ag.fresh[e])) {
        ok = false;
        resend.push(i, e);
      }
    }
    if (!ok) {
      refuse(run, ag.byz ? 'E_UNREACHABLE' : 'HONEST_UNREACHABLE');
      continue;
    }
    for (let t = 0; t < ag.nTouched; t++) {
      const e = ag.touched[t];
      matrix.put(
        i,
        matrix.add(e),
        Math.fround(ag.q[e]),
        reportWeight(run, ag.visits[e], ag.fresh[e]),
        ag.fresh[e],
      );
    }
    if (!ag.byz) honestEntries = matrix.columns;
  }
  return honestEntries;
}
