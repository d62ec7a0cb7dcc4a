import { ElexError } from '../../core/index.js';
import { type CommonOptions, formCluster, LivenessChecker, traffic, trafficByKind } from './common.js';

export interface ChurnOptions extends CommonOptions {
  durationMs: number;
  /** One churn action (leave, crash or rejoin) every this many ms. */
  everyMs?: number;
  loss?: number;
}

/** The default step (`everyMs`): one action per step, and a run is whole steps. */
export const CHURN_STEP_MS = 2000;

/**
 * Joins and leaves under load: every `everyMs` one of a graceful leave, a crash, or the rejoin (new
 * generation) of a member that is out; about 5 % of the members are out at any time. Tombstones live 60 s
 * here so garbage collection and the forgotten-identity guard run during the test. `converge_after_churn_ms`
 * runs from the last action (not the end of the run) until every running member agrees again (checked every
 * 100 ms after each action until it holds, then up to 60 s past the end of the run).
 */
export function runChurn(o: ChurnOptions) {
  if (o.members < 5)
    throw new ElexError('E_CONFIG', `this scenario needs at least 5 members, got ${o.members}`);
  const config = { tombstoneTtlMs: 60_000, ...o.config };
  const { cluster, formedMs } = formCluster({ ...o, config });
  const sim = cluster.sim;
  sim.setDefaultLink({ loss: o.loss ?? 0 });
  sim.runFor(10_000);
  const checker = new LivenessChecker(cluster);
  cluster.onEvent = (obs, e) => checker.onEvent(obs, e);
  const n = cluster.size;
  const a0 = sim.accounting.summary();
  const start = sim.now;
  const rng = sim.rng('churn');
  const every = o.everyMs ?? CHURN_STEP_MS;
  const out: number[] = [];
  const crashed = new Set<number>();
  let leaves = 0;
  let crashes = 0;
  let rejoins = 0;
  let lastActionAt: number | null = null;
  // The first time every running member agrees after the latest action (null: not yet).
  let convergedAt: number | null = null;
  for (let t = 0; t < o.durationMs; t += every) {
    const windowEnd = sim.now + every;
    const wantOut = Math.round(0.05 * n);
    let acted = false;
    if (out.length > 0 && (out.length >= wantOut || rng.next() < 0.3)) {
      const v = out.splice(rng.int(out.length), 1)[0];
      if (crashed.delete(v)) cluster.restart(v);
      else cluster.boot(v);
      rejoins++;
      acted = true;
    } else {
      const v = 3 + rng.int(n - 3);
      if (cluster.isRunning(v)) {
        if (rng.next() < 0.5) {
          cluster.leave(v);
          leaves++;
        } else {
          cluster.crash(v);
          crashed.add(v);
          crashes++;
        }
        out.push(v);
        acted = true;
      }
    }
    if (acted) {
      lastActionAt = sim.now;
      convergedAt = null;
    }
    if (lastActionAt !== null && convergedAt === null) {
      // Same events as one runFor(every), checked every 100 ms until the cluster agrees again.
      convergedAt = cluster.runUntil(() => cluster.converged(), every, 100);
      sim.runUntil(windowEnd);
    } else sim.runFor(every);
    o.onProgress?.(Math.min(o.durationMs, t + every), o.durationMs);
  }
  const elapsed = sim.now - start;
  const cost = traffic(cluster, a0, n, elapsed);
  const byKind = trafficByKind(cluster, a0.by_type, n, elapsed);
  const memberHours = (n * elapsed) / 3_600_000;
  const t = convergedAt ?? cluster.runUntil(() => cluster.converged(), 60_000, 100);
  const from = lastActionAt ?? start + elapsed;
  return {
    scenario: 'churn',
    members: n,
    seed: o.seed,
    duration_ms: elapsed,
    leaves,
    crashes,
    rejoins,
    false_deaths: checker.falseDeaths,
    false_deaths_per_member_hour: Number((checker.falseDeaths / memberHours).toFixed(4)),
    resurrections: checker.resurrections,
    regressions: checker.regressions,
    ...cost,
    by_kind: byKind,
    converge_after_churn_ms: t === null ? null : Number((t - from).toFixed(1)),
    counters: cluster.metrics.toJSON(),
    formed_ms: formedMs,
    trace_hash: sim.traceHash(),
  };
}
