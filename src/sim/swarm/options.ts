import type { QueryType } from '../../learning/index.js';
import type { Catalog } from '../../swarm/index.js';
import type { SwarmQuery } from '../../swarm/routing/index.js';
import type { FaultKind } from '../faults.js';

export interface SwarmOptions {
  seed: number;
  durationMs: number;
  /** Client queries per simulated second. */
  queryRate: number;
  faults: readonly FaultKind[];
  /** Fraction of agents that are malicious (poisoned deltas). */
  byzantine: number;
  catalog: Catalog;
  gossipIntervalMs?: number;
  heartbeatMs?: number;
  tickMs?: number;
  /**
   * Federation round per agent (jittered ±25 %); an agent also syncs after 10 interactions. Default
   * 60 s, ADR-115's `sync_interval_ms`.
   */
  syncIntervalMs?: number;
  /** A query not answered by then is failed with DEADLINE. */
  queryDeadlineMs?: number;
  /** Mean gap between faults. */
  faultGapMs?: number;
  /**
   * How the three gossip message kinds travel (docs/swarm.md):
   * 'pools' (default): the gossip core (src/gossip) in 15 pools, one per category (its coordinator, a hub,
   * and its agents: health, signed Q-table deltas as user messages to 3 category peers, patterns) and one of
   * the 14 coordinators (their health; patterns relayed between categories).
   * 'core': the gossip core in one pool of all 607 members, deltas replicated on the state channel (slow).
   * 'lite' (alias 'adapter'): direct heartbeats to the category coordinator feeding a phi detector
   * (src/sim/swarm/liveness.ts), deltas and patterns as direct messages.
   */
  gossip?: 'pools' | 'core' | 'lite' | 'adapter';
  /** Scripted crashes on top of the random schedule: every agent of `category` at `atMs` (tests, demos). */
  crashCategories?: ReadonlyArray<{ category: string; atMs: number }>;
  /** Scripted queries on top of the random workload (tests, demos). */
  extraQueries?: ReadonlyArray<{ atMs: number; type: QueryType; text: string; features?: string[] }>;
  /** Called when a query ends (answered or failed); not part of the report. */
  onQueryDone?: (outcome: QueryOutcome) => void;
}

export interface QueryOutcome {
  query: SwarmQuery;
  kind: 'intra' | 'cross';
  ok: boolean;
  reason?: string;
  latencyMs: number;
  /** Simulated time the query was issued. */
  atMs: number;
  /** The names of the agents that answered. */
  agents: string[];
  raftIndex: number;
}

/** The options' timings with their defaults filled in, and the gossip mode decoded. */
export interface SwarmSettings {
  gossipMs: number;
  heartbeatMs: number;
  tickMs: number;
  syncMs: number;
  deadlineMs: number;
  /** `pools`: a gossip pool per category and one of coordinators. */
  usePools: boolean;
  /** The gossip core carries health, deltas and patterns (`pools` or `core`); otherwise the lite adapter. */
  useCore: boolean;
}

export function swarmSettings(o: SwarmOptions): SwarmSettings {
  const mode = o.gossip ?? 'pools';
  const usePools = mode === 'pools';
  return {
    gossipMs: o.gossipIntervalMs ?? 1000,
    heartbeatMs: o.heartbeatMs ?? 50,
    tickMs: o.tickMs ?? 10,
    syncMs: o.syncIntervalMs ?? 60_000,
    deadlineMs: o.queryDeadlineMs ?? 3000,
    usePools,
    useCore: mode === 'core' || usePools,
  };
}
