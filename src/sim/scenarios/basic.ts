import { ElexError } from '../../core/index.js';
import { type FaultKind, installSchedule, randomSchedule } from '../faults.js';
import { Simulator } from '../simulator.js';

export interface BasicOptions {
  seed: number;
  nodes: number;
  durationMs: number;
  faults: readonly FaultKind[];
  /** Mean interval between a node's sends. */
  sendIntervalMs: number;
}

/**
 * The scenario that exercises the simulator itself: every node periodically sends a numbered message to a
 * random peer and acknowledges what it receives, under a seeded fault schedule. Its report is the
 * simulator's accounting plus a trace hash; it is the default until the swarm exists.
 */
export function runBasic(o: BasicOptions, onProgress?: (doneMs: number, totalMs: number) => void) {
  if (o.nodes < 2) throw new ElexError('E_CONFIG', `need at least 2 nodes, got ${o.nodes}`);
  const sim = new Simulator({ seed: o.seed, link: { profile: 'lan' } });
  const received = new Float64Array(o.nodes);
  const acked = new Float64Array(o.nodes);
  const sent = new Float64Array(o.nodes);
  for (let i = 0; i < o.nodes; i++) {
    const self = i;
    const rng = sim.rng(`app/${i}`);
    const tick = () => {
      const to = (self + 1 + rng.int(o.nodes - 1)) % o.nodes;
      sent[self]++;
      sim.send(self, to, { kind: 'data', n: sent[self] }, 'data', 128);
      sim.setTimer(self, o.sendIntervalMs * (0.5 + rng.next()), tick);
    };
    sim.addNode(`node-${i}`, {
      deliver(from, payload) {
        const p = payload as { kind: string };
        if (p.kind === 'data') {
          received[self]++;
          sim.send(self, from, { kind: 'ack' }, 'ack', 32);
        } else acked[self]++;
      },
      restart() {
        sim.setTimer(self, o.sendIntervalMs * rng.next(), tick);
      },
    });
    sim.setTimer(self, o.sendIntervalMs * rng.next(), tick);
  }
  const schedule = randomSchedule(sim.rng('faults'), {
    nodes: o.nodes,
    durationMs: o.durationMs,
    kinds: o.faults,
    meanGapMs: 2000,
    meanDurationMs: 1500,
  });
  const counts: Record<string, number> = {};
  installSchedule(sim, schedule, {
    onStart(f) {
      counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    },
  });
  // One sample per simulated second: what the HTML report plots.
  const timeline = {
    t_s: [] as number[],
    delivered_per_s: [] as number[],
    nodes_up: [] as number[],
    partitions: [] as number[],
  };
  let lastDelivered = 0;
  const sample = () => {
    let up = 0;
    for (let i = 0; i < o.nodes; i++) if (sim.status(i) === 'up') up++;
    timeline.t_s.push(Math.round(sim.now / 1000));
    timeline.delivered_per_s.push(sim.accounting.delivered - lastDelivered);
    timeline.nodes_up.push(up);
    timeline.partitions.push(sim.activePartitions);
    lastDelivered = sim.accounting.delivered;
  };
  const wallStart = performance.now();
  for (let t = 0; t < o.durationMs; ) {
    t = Math.min(o.durationMs, t + 1000);
    sim.runUntil(t);
    sample();
    onProgress?.(t, o.durationMs);
  }
  const wallMs = performance.now() - wallStart;
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  const sortedCounts: Record<string, number> = {};
  for (const k of Object.keys(counts).sort()) sortedCounts[k] = counts[k];
  return {
    scenario: 'basic',
    seed: o.seed,
    nodes: o.nodes,
    duration_ms: o.durationMs,
    faults_injected: sortedCounts,
    app: { sent: sum(sent), received: sum(received), acked: sum(acked) },
    network: sim.accounting.summary(),
    events: sim.eventsProcessed,
    timeline,
    trace_hash: sim.traceHash(),
    perf: {
      wall_ms: Math.round(wallMs),
      events_per_s: Math.round(sim.eventsProcessed / Math.max(wallMs / 1000, 1e-9)),
      sim_speedup: Number((o.durationMs / Math.max(wallMs, 1e-9)).toFixed(1)),
    },
  };
}
