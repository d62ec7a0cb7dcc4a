import { ElexError } from '../../core/index.js';
import { type CommonOptions, formCluster, summaryOfTrials } from './common.js';

export interface CrashOptions extends CommonOptions {
  trials: number;
}

/**
 * A random member (not a seed) crashes; we time the first suspicion anywhere and the moment every other
 * running member holds it dead, both from the crash. It then restarts as a new generation and rejoins before
 * the next trial. A trial not dead everywhere within 60 s (`undetected_trials`) counts as not reached in the
 * summaries (`null` where a percentile falls on it); its first suspicion, if there was one, is still measured.
 */
export function runCrash(o: CrashOptions) {
  if (o.members < 5)
    throw new ElexError('E_CONFIG', `this scenario needs at least 5 members, got ${o.members}`);
  const { cluster, formedMs } = formCluster(o);
  const sim = cluster.sim;
  sim.runFor(5000);
  const n = cluster.size;
  const rng = sim.rng('crash');
  const firstSuspect: number[] = [];
  const allDead: number[] = [];
  let undetected = 0;
  let victim = '';
  let victimGen = 0;
  let t0 = 0;
  let suspectAt = -1;
  let allDeadAt = -1;
  let target = 0;
  const deadSeen = new Set<number>();
  cluster.onEvent = (obs, e) => {
    if (e.kind !== 'member' || e.name !== victim || e.gen !== victimGen) return;
    if (e.status === 'suspect' && suspectAt < 0) suspectAt = sim.now - t0;
    if (e.status === 'dead') {
      if (suspectAt < 0) suspectAt = sim.now - t0;
      deadSeen.add(obs);
      if (deadSeen.size === target && allDeadAt < 0) allDeadAt = sim.now - t0;
    }
  };
  const seeds = 3;
  for (let t = 0; t < o.trials; t++) {
    const v = seeds + rng.int(n - seeds);
    victim = cluster.names[v];
    victimGen = cluster.nodes[v]!.generation;
    suspectAt = -1;
    allDeadAt = -1;
    deadSeen.clear();
    t0 = sim.now;
    cluster.crash(v);
    target = n;
    const running = () => {
      let r = 0;
      for (let i = 0; i < n; i++) if (cluster.isRunning(i)) r++;
      return r;
    };
    target = running();
    const done = cluster.runUntil(() => allDeadAt >= 0, 60_000, 100);
    if (suspectAt >= 0) firstSuspect.push(suspectAt);
    if (done === null) undetected++;
    else allDead.push(allDeadAt);
    cluster.restart(v);
    cluster.runUntil(() => cluster.converged(), 60_000, 250);
    o.onProgress?.(t + 1, o.trials);
    sim.runFor(1000 + rng.next() * 1000);
  }
  return {
    scenario: 'crash',
    members: n,
    seed: o.seed,
    trials: o.trials,
    undetected_trials: undetected,
    detection_ms: {
      first_suspect: summaryOfTrials(firstSuspect, o.trials - firstSuspect.length),
      all_dead: summaryOfTrials(allDead, undetected),
    },
    counters: cluster.metrics.toJSON(),
    formed_ms: formedMs,
    trace_hash: sim.traceHash(),
  };
}
