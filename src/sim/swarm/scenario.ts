import { InvariantChecker } from '../raft/checkers.js';
import { Simulator } from '../simulator.js';
import { SwarmAgents } from './agents.js';
import { SwarmClient } from './client.js';
import { ConflictSets } from './conflict-sets.js';
import { Coordinators } from './coordinators.js';
import { FaultLedger, injectFaults } from './fault-injection.js';
import { agentSlots, DirectFederation, learningTraffic } from './federation.js';
import { GossipFederation } from './gossip-federation.js';
import { GossipWiring } from './gossip-wiring.js';
import { Invariants } from './invariants.js';
import { LiteLiveness } from './liveness.js';
import { type SwarmOptions, swarmSettings } from './options.js';
import { swarmReport } from './report.js';
import { Sampler } from './sampler.js';
import { SwarmTopology } from './topology.js';
import { Workload } from './workload.js';

export type { QueryOutcome, SwarmOptions } from './options.js';

/**
 * The whole swarm in the simulator: 14 coordinators in one Raft group whose state machine is the coordinator
 * machine, 593 feature agents, heartbeats with phi-accrual detection, federated Q-learning among the agents of
 * a category, pattern broadcasts, and a client issuing queries (with feedback) and control-plane commands
 * under a seeded fault schedule. Returns the report of issue 6.
 */
export function runSwarm(o: SwarmOptions, onProgress?: (doneMs: number, totalMs: number) => void) {
  const settings = swarmSettings(o);
  const sim = new Simulator({ seed: o.seed, link: { profile: 'lan' }, perLinkAccounting: false });
  const topo = new SwarmTopology(o.catalog);
  const checker = new InvariantChecker(sim, o.seed, topo.C);
  const conflicts = new ConflictSets(sim);
  const invariants = new Invariants(sim, topo, conflicts);
  const ledger = new FaultLedger(topo.C + topo.F);
  const slots = agentSlots(topo.F);
  const traffic = learningTraffic();
  const federation = settings.useCore
    ? new GossipFederation(sim, topo, slots, traffic, settings.usePools)
    : null;
  const gossip = federation === null ? null : new GossipWiring(sim, topo, settings, federation, ledger);

  // Simulator node ids follow the order of addNode: the coordinators, the agents, then the client.
  const lite = new LiteLiveness(topo.C);
  const coordinators = new Coordinators(sim, topo, settings, {
    lite,
    gossip,
    checker,
    hooks: { onApply: (_r, e, _reqId, result) => invariants.onApply(e, result) },
  });
  const direct = new DirectFederation(sim, topo, slots, traffic);
  const agents = new SwarmAgents(sim, topo, settings, o.byzantine, { slots, direct, gossip });
  const clientRng = sim.rng('client');
  const client = new SwarmClient(sim, topo, clientRng, settings.deadlineMs, invariants, o.onQueryDone);
  const workload = new Workload(sim, topo, client, clientRng, coordinators.replicas, conflicts, o);

  // ---- start everything --------------------------------------------------------------------------
  // Events due at the same time run in the order they were scheduled: the order of these calls is part of
  // every seed's trace.
  workload.scheduleScriptedQueries();
  coordinators.start();
  if (gossip !== null) for (let n = 0; n < topo.C + topo.F; n++) gossip.boot(n);
  else for (let c = 0; c < topo.C; c++) coordinators.startHeartbeat(c);
  for (let i = 0; i < topo.F; i++) agents.start(i);
  workload.scheduleRegistrations();
  workload.start();
  injectFaults(sim, topo, o, ledger, settings.useCore);

  const sampler = new Sampler(
    sim,
    topo,
    {
      replicas: coordinators.replicas,
      liveness: coordinators.liveness,
      useCore: settings.useCore,
      ledger,
      client,
      commitLatency: coordinators.commitLatency,
      agents: slots.agents,
      invariants,
    },
    o.durationMs,
  );
  const durationMs = o.durationMs;
  sampler.begin();
  const wallStart = performance.now();
  const endMs = durationMs + settings.deadlineMs + 1000;
  for (let t = 0; t < endMs; ) {
    const next = Math.min(endMs, t + 1000);
    sim.runUntil(next);
    t = next;
    sampler.sampleSecond();
    onProgress?.(Math.min(t, durationMs), durationMs);
  }
  const wallMs = performance.now() - wallStart;
  invariants.checkReplicas(coordinators.replicas);
  sampler.end(endMs);
  const verdict = invariants.finish(checker);

  return swarmReport({
    o,
    settings,
    topo,
    sim,
    endMs,
    wallMs,
    invariants,
    conflictSets: { issued: conflicts.all.length, ...verdict },
    client,
    coordinators,
    agents,
    running: slots.agents,
    traffic,
    gossip,
    ledger,
    sampler,
  });
}

export type SwarmReport = ReturnType<typeof runSwarm>;
