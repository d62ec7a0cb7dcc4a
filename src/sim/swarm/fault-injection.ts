import { crashForGood, installSchedule, randomSchedule } from '../faults.js';
import type { Simulator } from '../simulator.js';
import type { SwarmOptions } from './options.js';
import { bump } from './tally.js';
import type { SwarmTopology } from './topology.js';

/** What the injected faults did, for judging the failure detectors against them. */
export class FaultLedger {
  /** Faults injected, by target and kind. */
  readonly counts = new Map<string, number>();
  /** Crashed agents (node → when they crashed), until they restart. */
  readonly crashedAt = new Map<number, number>();
  /** Crashed agents the gossip core has already suspected. */
  readonly detectedCrash = new Set<number>();
  readonly detectionMs: number[] = [];
  /** Until when a suspicion of (or by) a node is explained by a fault on it. */
  readonly excusedUntil: Float64Array;
  /** Until when any suspicion is explained by a fault on the network. */
  lossyUntil = 0;
  crashesRecoveredUndetected = 0;

  constructor(nodes: number) {
    this.excusedUntil = new Float64Array(nodes + 1);
  }
}

/**
 * Installs a random fault schedule on the coordinators (every kind in `o.faults`) and one on the agents (crash,
 * pause and partitions only), ending 8 s before the run does, and the scripted category crashes.
 */
export function injectFaults(
  sim: Simulator,
  topo: SwarmTopology,
  o: SwarmOptions,
  ledger: FaultLedger,
  useCore: boolean,
): void {
  const { C, F } = topo;
  const { excusedUntil } = ledger;
  const coordKinds = o.faults;
  const agentKinds = o.faults.filter((k) => k === 'crash' || k === 'pause' || k.startsWith('partition'));
  const horizon = Math.max(0, o.durationMs - 8000);
  const gap = o.faultGapMs ?? 4000;
  const coordSchedule = randomSchedule(sim.rng('faults/coordinators'), {
    nodes: C,
    durationMs: horizon,
    kinds: coordKinds,
    meanGapMs: gap,
    meanDurationMs: 2000,
    maxVictims: 6,
  });
  const agentSchedule = randomSchedule(sim.rng('faults/agents'), {
    nodes: F,
    durationMs: horizon,
    kinds: agentKinds,
    meanGapMs: gap,
    meanDurationMs: 4000,
    maxVictims: 40,
  });
  installSchedule(sim, coordSchedule, {
    onStart: (f) => {
      bump(ledger.counts, `coordinator ${f.kind}`);
      // A paused, crashed or skewed monitor misjudges its members for a while; a lossy network delays beats.
      const until = sim.now + f.durationMs + 5000;
      if (
        f.kind === 'pause' ||
        f.kind === 'crash' ||
        f.kind === 'clock-skew' ||
        f.kind.startsWith('partition')
      )
        for (const n of f.nodes) excusedUntil[n] = until;
      if (f.kind === 'loss' || f.kind === 'spike' || f.kind === 'reorder' || f.kind.startsWith('partition'))
        ledger.lossyUntil = Math.max(ledger.lossyUntil, until);
    },
  });
  installSchedule(sim, agentSchedule, {
    nodeId: (i) => C + i,
    onStart: (f) => {
      bump(ledger.counts, `agent ${f.kind}`);
      if (f.kind === 'crash')
        for (const n of f.nodes) {
          ledger.crashedAt.set(C + n, sim.now);
          ledger.detectedCrash.delete(C + n);
        }
      // Paused, crashed or cut-off agents are rightly suspected (a partial partition too: monitors on the
      // far side suspect, and the rumor reaches a coordinator that still hears the agent).
      if (f.kind === 'pause' || f.kind === 'crash' || f.kind.startsWith('partition'))
        for (const n of f.nodes) excusedUntil[C + n] = sim.now + f.durationMs + 5000;
      // A partition splits the agents in two: suspicions on either side are the fault's.
      if (f.kind.startsWith('partition'))
        ledger.lossyUntil = Math.max(ledger.lossyUntil, sim.now + f.durationMs + 5000);
    },
    onEnd: (f) => {
      if (f.kind === 'crash')
        for (const n of f.nodes) {
          ledger.crashedAt.delete(C + n);
          // The core suspects ~4.5 s after the last heartbeat (phi 8 with a 3 s acceptable pause): a crash
          // shorter than that ends in a restart (a new generation) before anyone could tell.
          if (useCore && !ledger.detectedCrash.has(C + n)) ledger.crashesRecoveredUndetected++;
        }
    },
  });

  for (const k of o.crashCategories ?? []) {
    const ci = topo.catIndex.get(k.category);
    if (ci === undefined) continue;
    sim.after(k.atMs, () => {
      bump(ledger.counts, 'agent crash (scripted)');
      for (const n of topo.categoryAgents[ci]) {
        crashForGood(sim, n);
        ledger.crashedAt.set(n, sim.now);
        ledger.detectedCrash.delete(n);
      }
    });
  }
}
