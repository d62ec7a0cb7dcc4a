import { type CommonOptions, formCluster, LivenessChecker, traffic, trafficByKind } from './common.js';

export interface SteadyOptions extends CommonOptions {
  loss: number;
  durationMs: number;
  /** Pause one random member this long, one pause at a time, every `pauseEveryMs` (0: no pauses). */
  pauseMs?: number;
  pauseEveryMs?: number;
}

/**
 * Idle cluster under loss (steady) or with one member at a time frozen (pauses): false deaths per
 * member-hour and the full cost on the wire (every datagram, UDP/IP headers included).
 */
export function runSteady(o: SteadyOptions) {
  const { cluster, formedMs } = formCluster(o);
  const sim = cluster.sim;
  sim.setDefaultLink({ loss: o.loss });
  sim.runFor(30_000); // let phi histories learn the lossy link before measuring
  const checker = new LivenessChecker(cluster);
  cluster.onEvent = (obs, e) => checker.onEvent(obs, e);
  const n = cluster.size;
  const a0 = sim.accounting.summary();
  const byKind0 = a0.by_type;
  const start = sim.now;
  const rng = sim.rng('pauses');
  let pauses = 0;
  const pauseMs = o.pauseMs ?? 0;
  const every = o.pauseEveryMs ?? 10_000;
  const step = 10_000;
  for (let done = 0; done < o.durationMs; ) {
    const chunk = Math.min(step, o.durationMs - done);
    if (pauseMs > 0) {
      for (let t = 0; t < chunk; t += every) {
        const v = rng.int(n);
        sim.pause(v, pauseMs);
        pauses++;
        sim.runFor(Math.min(every, chunk - t));
      }
    } else sim.runFor(chunk);
    done += chunk;
    o.onProgress?.(done, o.durationMs);
  }
  const elapsed = sim.now - start;
  const memberHours = (n * elapsed) / 3_600_000;
  return {
    scenario: pauseMs > 0 ? 'pauses' : 'steady',
    members: n,
    seed: o.seed,
    loss: o.loss,
    duration_ms: elapsed,
    ...(pauseMs > 0 ? { pause_ms: pauseMs, pauses } : {}),
    false_deaths: checker.falseDeaths,
    false_deaths_per_member_hour: Number((checker.falseDeaths / memberHours).toFixed(4)),
    false_suspicions: checker.suspicions,
    false_suspicions_per_member_hour: Number((checker.suspicions / memberHours).toFixed(4)),
    resurrections: checker.resurrections,
    regressions: checker.regressions,
    ...traffic(cluster, a0, n, elapsed),
    by_kind: trafficByKind(cluster, byKind0, n, elapsed),
    wire_overhead_bytes_per_datagram: 28,
    counters: cluster.metrics.toJSON(),
    formed_ms: formedMs,
    trace_hash: sim.traceHash(),
  };
}
