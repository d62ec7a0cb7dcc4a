import { summarize } from '../../core/index.js';
import type { AgentStats, FeatureAgent } from '../../swarm/agent/index.js';
import type { CoordinatorReplica } from '../../swarm/index.js';
import type { Simulator } from '../simulator.js';
import type { SwarmAgents } from './agents.js';
import type { SwarmClient } from './client.js';
import type { Coordinators } from './coordinators.js';
import type { FaultLedger } from './fault-injection.js';
import type { LearningTraffic } from './federation.js';
import type { GossipWiring } from './gossip-wiring.js';
import type { Invariants } from './invariants.js';
import type { SwarmOptions, SwarmSettings } from './options.js';
import type { Sampler } from './sampler.js';
import { bump, sortedRecord } from './tally.js';
import type { SwarmTopology } from './topology.js';

/** Everything a finished run reports on. */
export interface ReportParts {
  o: SwarmOptions;
  settings: SwarmSettings;
  topo: SwarmTopology;
  sim: Simulator;
  /** Simulated time the run ended at (its duration, the query deadline and a second). */
  endMs: number;
  wallMs: number;
  invariants: Invariants;
  conflictSets: { issued: number; exactlyOne: number; none: number };
  client: SwarmClient;
  coordinators: Coordinators;
  agents: SwarmAgents;
  /** The agents running at the end. */
  running: readonly (FeatureAgent | null)[];
  traffic: LearningTraffic;
  /** The gossip core, when it carried health, deltas and patterns. */
  gossip: GossipWiring | null;
  ledger: FaultLedger;
  sampler: Sampler;
}

const l = (xs: number[]) => {
  const s = summarize(xs, 1);
  return { p50: s.p50, p99: s.p99 };
};

/** The report of issue 6. */
export function swarmReport(p: ReportParts) {
  const { o, settings, topo, sim, client, sampler, traffic } = p;
  const { C, F } = topo;
  const { usePools, useCore } = settings;
  const tl = sampler.timeline;
  const quality = sampler.quality;
  const commitLatency = p.coordinators.commitLatency;
  const hung = client.hung;
  const learned = learningTotals(p.running, p.agents.crashedStats);
  const replicas = replicaTotals(p.coordinators.replicas);
  const raftMsgs = [...sim.accounting.byType].filter(([k]) => k.startsWith('Msg') || /^[A-Z]/.test(k));
  const failedTotal = client.totalFailed();

  return {
    scenario: 'swarm',
    seed: o.seed,
    duration_ms: o.durationMs,
    options: {
      query_rate: o.queryRate,
      faults: [...o.faults],
      byzantine: o.byzantine,
      coordinators: C,
      agents: F,
      gossip_interval_ms: settings.gossipMs,
      heartbeat_ms: settings.heartbeatMs,
      tick_ms: settings.tickMs,
      sync_interval_ms: settings.syncMs,
      gossip: usePools ? 'pools' : useCore ? 'core' : 'lite',
      query_deadline_ms: settings.deadlineMs,
    },
    invariant_violations: p.invariants.violations,
    // The list keeps the first 50; the total counts them all (session 25: `--runs` summed the kept ones).
    invariant_violations_total: p.invariants.violationsTotal,
    queries: {
      issued: client.issued,
      answered: client.answered,
      failed_by_reason: sortedRecord(client.failedBy),
      hung,
      latency_ms: { intra: l(client.latIntra), cross: l(client.latCross) },
      cross_category: client.latCross.length,
      answers_with_raft_index: client.answersWithIndex,
      accounted: client.answered + failedTotal + hung === client.issued,
    },
    activations: {
      accepted: client.accepted,
      rejected_by_reason: sortedRecord(client.rejectedBy),
      failed_by_reason: sortedRecord(client.cmdFailedBy),
      conflict_sets: {
        issued: p.conflictSets.issued,
        exactly_one_won: p.conflictSets.exactlyOne,
        none_committed: p.conflictSets.none,
      },
    },
    control_plane: {
      commands_committed: p.invariants.commandsCommitted,
      agents_registered: client.registered,
      by_op: sortedRecord(client.byOp),
      other_refusals: sortedRecord(client.refusedByCode),
    },
    learning: {
      byzantine_agents: p.agents.malicious.reduce((s, x) => s + x, 0),
      feedbacks: learned.feedbacks,
      policy_quality: quality,
      initial_quality: quality[0][1],
      final_quality: quality[quality.length - 1][1],
      delta_messages: traffic.deltaMessages,
      deltas_merged: learned.deltasMerged,
      deltas_refused_by_reason: sortedRecord(learned.refusedDeltas),
      patterns_broadcast: traffic.patternsBroadcast,
      patterns_applied: learned.patternsApplied,
      patterns_ignored_already_learned: traffic.patternsIgnored,
      pattern_messages: traffic.patternMessages,
    },
    raft: {
      voters: C,
      quorum: (C >> 1) + 1,
      final_term: replicas.finalTerm,
      leader_changes: sampler.leaderChanges,
      commit_index: tl.commit_index[tl.commit_index.length - 1] ?? 0,
      commit_latency_ms: summarize(commitLatency, 1),
      snapshots: replicas.snapshots,
      duplicate_entries_skipped: replicas.duplicates,
      messages: raftMsgs.reduce((s, [, c]) => s + c.messages, 0),
    },
    gossip: gossipReport(p),
    network: sim.accounting.summary(),
    faults_injected: sortedRecord(p.ledger.counts),
    timeline: { ...tl, policy_quality: quality, commit_latency_ms: summarize(commitLatency, 1) },
    trace_hash: sim.traceHash(),
    events: sim.eventsProcessed,
    perf: {
      wall_ms: Math.round(p.wallMs),
      sim_speedup: Number((p.endMs / Math.max(p.wallMs, 1e-9)).toFixed(1)),
    },
  };
}

/** The report's `gossip` block: how health, deltas and patterns travelled, and what failure detection saw. */
function gossipReport(p: ReportParts) {
  const { settings, sim, traffic, ledger, sampler } = p;
  const { C, F } = p.topo;
  const { usePools, useCore } = settings;
  const acc = sim.accounting;
  const typeCount = (k: string) => acc.byType.get(k)?.messages ?? 0;
  const gossipKinds = [...acc.byType]
    .filter(([k]) => k.startsWith('gossip/'))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  /** The core's cost per member and second of simulated time, by message kind (UDP/IP headers included). */
  const coreTraffic = () => {
    const per = (C + F) * (p.endMs / 1000);
    const by_kind: Record<string, { messages_per_member_per_s: number; bytes_per_member_per_s: number }> = {};
    let m = 0;
    let b = 0;
    for (const [k, c] of gossipKinds) {
      m += c.messages;
      b += c.bytes;
      by_kind[k] = {
        messages_per_member_per_s: Number((c.messages / per).toFixed(2)),
        bytes_per_member_per_s: Number((c.bytes / per).toFixed(1)),
      };
    }
    return {
      messages_per_member_per_s: Number((m / per).toFixed(2)),
      bytes_per_member_per_s: Number((b / per).toFixed(1)),
      by_kind,
    };
  };
  const g = p.gossip;
  return {
    implementation: usePools
      ? 'gossip core (src/gossip) in pools: one per category (its coordinator as hub and its agents: health; signed Q-table deltas as user messages to 3 category peers; patterns) and one of the 14 coordinators (their health; patterns relayed between categories)'
      : useCore
        ? 'gossip core (src/gossip) in one pool of all members: ring monitors, phi-accrual, Lifeguard suspicion, Scuttlebutt; deltas on the state channel, patterns on the pattern channel'
        : 'lite: heartbeat + phi-accrual adapter (src/sim/swarm/liveness.ts), deltas and patterns as direct messages',
    gossip_core_messages: gossipKinds.reduce((s, [, c]) => s + c.messages, 0),
    members: C + F,
    heartbeats: useCore ? typeCount('gossip/heartbeat') : p.agents.heartbeats + p.coordinators.heartbeats,
    heartbeat_messages: useCore ? typeCount('gossip/heartbeat') : typeCount('hb'),
    ...(useCore ? coreTraffic() : {}),
    failure_detection: {
      agent_crashes_detected: ledger.detectionMs.length,
      detection_ms: summarize(ledger.detectionMs, 0),
      suspicions_explained_by_faults: sampler.excusedSuspicions,
      false_suspicions: sampler.falseSuspicions,
      ...(g !== null
        ? {
            crashes_recovered_before_detection: ledger.crashesRecoveredUndetected,
            false_deaths: g.falseDeaths,
            deaths_during_faults: g.excusedDeaths,
          }
        : {}),
    },
    delta_messages: useCore ? traffic.deltaMessages : typeCount('delta'),
    pattern_messages: useCore ? traffic.patternMessages : typeCount('pattern'),
    ...(g !== null
      ? {
          deltas_received: g.federation.deltasReceived,
          patterns_received: g.federation.patternsReceived,
          ...(usePools
            ? {
                patterns_relayed: g.patternsRelayed,
                patterns_received_from_other_categories: g.federation.patternsRelayedIn,
              }
            : {}),
          refused_by_reason: sortedRecord(g.federation.refused),
          counters: g.metrics.toJSON(),
        }
      : {}),
  };
}

/**
 * The run's learning totals: the agents running at the end and every agent that crashed before it (a sum over
 * the running ones alone dropped what a crashed agent had counted).
 */
function learningTotals(running: readonly (FeatureAgent | null)[], crashed: readonly AgentStats[]) {
  let deltasMerged = 0;
  let patternsApplied = 0;
  let feedbacks = 0;
  const refusedDeltas = new Map<string, number>();
  const add = (s: AgentStats) => {
    deltasMerged += s.deltasMerged;
    patternsApplied += s.patternsApplied;
    feedbacks += s.feedbacks;
    for (const [k, v] of s.refused) bump(refusedDeltas, k, v);
  };
  for (const a of running) if (a !== null) add(a.stats);
  for (const s of crashed) add(s);
  return { deltasMerged, patternsApplied, feedbacks, refusedDeltas };
}

function replicaTotals(replicas: readonly CoordinatorReplica[]) {
  let finalTerm = 0;
  let snapshots = 0;
  let duplicates = 0;
  for (const r of replicas) {
    duplicates += r.duplicatesSkipped;
    finalTerm = Math.max(finalTerm, r.raft?.term ?? 0);
    snapshots += r.snapshotsTaken;
  }
  return { finalTerm, snapshots, duplicates };
}
