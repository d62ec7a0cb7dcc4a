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

  /** A crash (fault or scripted) takes `node` down at `now`; `wasDown`: it was down already. */
  crashStarts(node: number, now: number, wasDown: boolean): void {
    // A node already down stays in the crash it is in (overlapping crash faults, or a scripted crash of a
    // crashed agent): until session 25 the second one restarted its clock, so a detection was timed from it,
    // and forgot a detection already made, so the same crash could be detected twice.
    if (wasDown) return;
    this.crashedAt.set(node, now);
    this.detectedCrash.delete(node);
  }

  /** A crash fault on `node` ended; `restarted`: the node is up again (no other crash holds it down). */
  crashEnds(node: number, restarted: boolean, countUndetected: boolean): void {
    // Until session 25 the first of two overlapping faults to end closed the crash while the node stayed down.
    if (!restarted) return;
    this.crashedAt.delete(node);
    // The core suspects ~4.5 s after the last heartbeat (phi 8 with a 3 s acceptable pause): a crash
    // shorter than that ends in a restart (a new generation) before anyone could tell.
    if (countUndetected && !this.detectedCrash.has(node)) this.crashesRecoveredUndetected++;
  }
}

/**
 * Installs a random fault schedule on the coordinators (every kind in `o.faults`) and one on the agents (crash,
 * pause and partitions only), starting until 8 s before the run ends (in a run under 16 s, in its first half),
 * and the scripted category crashes.
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
  // Faults start until 8 s before the end of the queries, so most are over before the run ends. A run shorter
  // than 16 s draws them in its first half instead, with a mean gap at most that half, so each schedule with a
  // kind to draw starts at least one fault: until session 25 the horizon was max(0, duration − 8 s) and a run
  // of 8 s or less injected nothing while its report listed the kinds. From 16 s on both rules agree, so
  // those runs are unchanged.
  const short = o.durationMs < 16_000;
  const horizon = short ? o.durationMs / 2 : o.durationMs - 8000;
  const gap = short ? Math.min(o.faultGapMs ?? 4000, horizon) : (o.faultGapMs ?? 4000);
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
      // Called before the fault is applied: the status is the node's before this crash.
      if (f.kind === 'crash')
        for (const n of f.nodes) ledger.crashStarts(C + n, sim.now, sim.status(C + n) === 'crashed');
      // Paused, crashed or cut-off agents are rightly suspected (a partial partition too: monitors on the
      // far side suspect, and the rumor reaches a coordinator that still hears the agent).
      if (f.kind === 'pause' || f.kind === 'crash' || f.kind.startsWith('partition'))
        for (const n of f.nodes) excusedUntil[C + n] = sim.now + f.durationMs + 5000;
      // A partition splits the agents in two: suspicions on either side are the fault's.
      if (f.kind.startsWith('partition'))
        ledger.lossyUntil = Math.max(ledger.lossyUntil, sim.now + f.durationMs + 5000);
    },
    onEnd: (f) => {
      // Called after the fault is undone: a node another crash still holds (or crashed for good) is down.
      if (f.kind === 'crash')
        for (const n of f.nodes) ledger.crashEnds(C + n, sim.status(C + n) !== 'crashed', useCore);
    },
  });

  for (const k of o.crashCategories ?? []) {
    const ci = topo.catIndex.get(k.category);
    if (ci === undefined) continue;
    sim.after(k.atMs, () => {
      bump(ledger.counts, 'agent crash (scripted)');
      for (const n of topo.categoryAgents[ci]) {
        const wasDown = sim.status(n) === 'crashed';
        crashForGood(sim, n);
        ledger.crashStarts(n, sim.now, wasDown);
      }
    });
  }
}
