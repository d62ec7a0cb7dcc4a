import { shuffle } from '../../core/index.js';
import { type CommonOptions, formCluster, LivenessChecker } from './common.js';

export interface PartitionOptions extends CommonOptions {
  /** Fraction of members on the smaller side (0.5 = 50/50, 0.1 = 10/90). */
  split: number;
  partitionMs: number;
}

/**
 * A symmetric partition for `partitionMs`: each side declares the other dead (that is correct). After the
 * heal every member must refute its death with a higher incarnation, and the whole cluster must agree again
 * (same live set, same digest hash everywhere). Resurrections are checked over the whole run.
 */
export function runPartition(o: PartitionOptions) {
  const { cluster, formedMs } = formCluster(o);
  const sim = cluster.sim;
  sim.runFor(10_000);
  const checker = new LivenessChecker(cluster);
  cluster.onEvent = (obs, e) => checker.onEvent(obs, e);
  const n = cluster.size;
  const ids = shuffle(
    sim.rng('partition'),
    Array.from({ length: n }, (_, i) => i),
  );
  const k = Math.max(1, Math.round(o.split * n));
  const sides = [ids.slice(0, k).sort((a, b) => a - b), ids.slice(k).sort((a, b) => a - b)];
  const pid = sim.partition({ kind: 'symmetric', sides });
  for (let t = 0; t < o.partitionMs; t += 10_000) {
    sim.runFor(Math.min(10_000, o.partitionMs - t));
    o.onProgress?.(Math.min(o.partitionMs, t + 10_000), o.partitionMs);
  }
  const deathsDuring = checker.deaths;
  const healedAt = sim.now;
  sim.heal(pid);
  const t = cluster.runUntil(() => cluster.converged(), 120_000, 50);
  sim.runFor(10_000);
  const stable = cluster.converged();
  return {
    scenario: 'partition',
    members: n,
    seed: o.seed,
    split: `${sides[0].length}/${sides[1].length}`,
    partition_ms: o.partitionMs,
    deaths_declared_during_partition: deathsDuring,
    reconverge_ms: t === null ? null : Number((t - healedAt).toFixed(1)),
    converged_10s_later: stable,
    resurrections: checker.resurrections,
    regressions: checker.regressions,
    counters: cluster.metrics.toJSON(),
    formed_ms: formedMs,
    trace_hash: sim.traceHash(),
  };
}
