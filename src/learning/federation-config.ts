/**
 * A member's federation configuration (`FederationConfig`): its defaults, and the checks that refuse it
 * (`E_CONFIG`) before the member runs.
 */
import { type Clock, ElexError, MAX_TIMER_MS } from '../core/index.js';
import type { VoteState } from './aggregator-election.js';
import { MAX_DELTA_ACTIONS, MAX_DELTA_BYTES, MAX_DELTA_ENTRIES } from './delta-codec.js';
import type { LearningConfig } from './engine.js';
import type { Identity, MapKeyring } from './identity.js';
import { DEFAULT_RULE, type RuleName, ruleByName } from './merge/index.js';
import type { FederationNetwork } from './network.js';
import type { DeltaLimits } from './outgoing-delta.js';

export interface FederationConfig {
  sync_interval_ms?: number;
  min_peers_for_consensus?: number;
  byzantine_threshold?: number;
  gossip_fanout?: number;
  /** This member's id (default 'agent-0'). */
  id?: string;
  /** The other members of this member's category. */
  peers?: readonly string[];
  network?: FederationNetwork;
  /** Public keys of the members; this member's key is added to it. */
  keyring?: MapKeyring;
  /** Seed for this member's key and random draws (deterministic in simulation). */
  seed?: number;
  identity?: Identity;
  clock?: Clock;
  rule?: RuleName;
  learning?: Partial<LearningConfig>;
  sync_after_interactions?: number;
  /** Most interactions a peer may claim in one delta (plausibility). */
  max_interactions_per_delta?: number;
  /** Cap on one peer's weight for one entry, in fresh visits (default 2, the evaluated configuration). */
  weight_cap?: number;
  /** Reports differing by more than this (Q units) count as a conflict. */
  conflict_tolerance?: number;
  /**
   * This member's life number: larger after every restart (keep a counter durably and add one at each start,
   * as `FederationMember` does). Receivers refuse a delta from an earlier life as a replay, so a member that
   * restarts with an equal or smaller number has its deltas refused until its seqs pass its last life's.
   * Default 0: enough for a member that is never restarted into a running category.
   */
  epoch?: number;
  /** (term, vote) saved by an earlier life of this member (see `on_vote_state`). */
  vote_state?: VoteState;
  /**
   * Called whenever this member's (term, vote) changes, before any message that depends on it is sent. Save it
   * durably and pass it back as `vote_state` after a restart: a member that forgets its vote could vote twice
   * in one term, and two quorums would no longer need an honest member in common.
   */
  on_vote_state?: (s: VoteState) => void;
  /**
   * Most entries in one delta this member sends (default and most: `MAX_DELTA_ENTRIES`). More changes go out
   * in parts, one per sync and recipient (docs/federation.md, "Protocol notes"). Lower values are for tests.
   */
  max_delta_entries?: number;
  /** Most bytes of one delta this member sends (default and most: `MAX_DELTA_BYTES`; at least 1024). */
  max_delta_bytes?: number;
  /**
   * As aggregator, entries of its whole table added to every aggregate, in turn (anti-entropy: a member that
   * restarted, joined, or lost an aggregate gets entries that no longer change). Default 8; 0 turns it off.
   */
  anti_entropy_entries?: number;
}

/** The protocol settings a member runs with (`FederatedQTable.config`): its configuration's or the defaults. */
export type FederationSettings = Required<
  Pick<
    FederationConfig,
    | 'min_peers_for_consensus'
    | 'byzantine_threshold'
    | 'gossip_fanout'
    | 'sync_after_interactions'
    | 'max_interactions_per_delta'
    | 'weight_cap'
    | 'conflict_tolerance'
    | 'anti_entropy_entries'
  >
> & { rule: RuleName };

/** Fewest bytes `max_delta_bytes` may allow: the largest frame and room for entries. */
const MIN_DELTA_BYTES = 1024;

/** Limits of the deltas this member sends (`max_delta_entries`, `max_delta_bytes`). */
export function deltaLimitsOf(config: FederationConfig): DeltaLimits {
  const maxEntries = config.max_delta_entries ?? MAX_DELTA_ENTRIES;
  if (!(Number.isInteger(maxEntries) && maxEntries >= 1 && maxEntries <= MAX_DELTA_ENTRIES))
    throw new ElexError('E_CONFIG', `max_delta_entries must be an integer in 1..${MAX_DELTA_ENTRIES}`);
  const maxBytes = config.max_delta_bytes ?? MAX_DELTA_BYTES;
  if (!(Number.isInteger(maxBytes) && maxBytes >= MIN_DELTA_BYTES && maxBytes <= MAX_DELTA_BYTES))
    throw new ElexError(
      'E_CONFIG',
      `max_delta_bytes must be an integer in ${MIN_DELTA_BYTES}..${MAX_DELTA_BYTES}`,
    );
  return { entries: maxEntries, bytes: maxBytes };
}

/** `epoch` (default 0): a non-negative safe integer. */
export function epochOf(config: FederationConfig): number {
  const epoch = config.epoch ?? 0;
  if (!(Number.isSafeInteger(epoch) && epoch >= 0))
    throw new ElexError('E_CONFIG', `epoch must be a non-negative safe integer, got ${epoch}`);
  return epoch;
}

/** `sync_interval_ms` (default one minute). */
export function syncIntervalOf(config: FederationConfig): number {
  const ms = config.sync_interval_ms ?? 60_000;
  // At most a timer's reach: node cuts a longer setTimeout to 1 ms, so 2^32 ms synced every millisecond.
  if (!(ms > 0 && ms <= MAX_TIMER_MS))
    throw new ElexError('E_CONFIG', `sync_interval_ms must be in (0, ${MAX_TIMER_MS}], got ${ms}`);
  return ms;
}

/** E_CONFIG unless `v` is an integer ≥ `min`. */
function intAtLeast(name: string, v: number, min: number): number {
  if (!(Number.isSafeInteger(v) && v >= min))
    throw new ElexError('E_CONFIG', `${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** E_CONFIG unless `v` is finite and above `min` (or at it, when `inclusive`). */
function finiteAbove(name: string, v: number, min: number, inclusive: boolean): number {
  if (!(Number.isFinite(v) && (inclusive ? v >= min : v > min)))
    throw new ElexError(
      'E_CONFIG',
      `${name} must be a finite number ${inclusive ? '≥' : '>'} ${min}, got ${v}`,
    );
  return v;
}

/** Every key a configuration may have: a misspelt one (`syncIntervalMs`) was ignored and its default used. */
// A Record over the interface's keys: the compiler says when one is added to the interface but not here.
const KNOWN: Record<keyof FederationConfig, true> = {
  sync_interval_ms: true,
  min_peers_for_consensus: true,
  byzantine_threshold: true,
  gossip_fanout: true,
  id: true,
  peers: true,
  network: true,
  keyring: true,
  seed: true,
  identity: true,
  clock: true,
  rule: true,
  learning: true,
  sync_after_interactions: true,
  max_interactions_per_delta: true,
  weight_cap: true,
  conflict_tolerance: true,
  epoch: true,
  vote_state: true,
  on_vote_state: true,
  max_delta_entries: true,
  max_delta_bytes: true,
  anti_entropy_entries: true,
};
const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(KNOWN));

/** E_CONFIG for a key `FederationConfig` does not have. */
export function checkKnownKeys(config: FederationConfig): void {
  for (const k of Object.keys(config))
    if (!KNOWN_KEYS.has(k)) throw new ElexError('E_CONFIG', `unknown federation setting '${k}'`);
}

/** The protocol settings, defaults filled in (an unknown `rule` is refused). */
export function settingsOf(config: FederationConfig, members = Number.POSITIVE_INFINITY): FederationSettings {
  const threshold = config.byzantine_threshold ?? 0.33;
  if (!(threshold >= 0 && threshold < 0.5))
    throw new ElexError('E_CONFIG', 'byzantine_threshold must be in [0, 0.5)');
  const settings = {
    // A category smaller than the default still aggregates (two members never reached three reports).
    min_peers_for_consensus: config.min_peers_for_consensus ?? Math.min(3, members),
    byzantine_threshold: threshold,
    gossip_fanout: config.gossip_fanout ?? 3,
    sync_after_interactions: config.sync_after_interactions ?? 10,
    max_interactions_per_delta: config.max_interactions_per_delta ?? 10_000,
    weight_cap: config.weight_cap ?? 2,
    conflict_tolerance: config.conflict_tolerance ?? 0.05,
    anti_entropy_entries: config.anti_entropy_entries ?? 8,
    rule: config.rule ?? DEFAULT_RULE,
  };
  ruleByName(settings.rule);
  // Each was taken as given: NaN fanout sent nothing, NaN min_peers never ran a round, NaN
  // max_interactions_per_delta turned the plausibility check off (x > NaN is false), NaN weight_cap merged nothing.
  intAtLeast('min_peers_for_consensus', settings.min_peers_for_consensus, 1);
  if (settings.min_peers_for_consensus > members)
    throw new ElexError(
      'E_CONFIG',
      `min_peers_for_consensus ${settings.min_peers_for_consensus} exceeds the category's ${members} members: no round could run`,
    );
  intAtLeast('gossip_fanout', settings.gossip_fanout, 1);
  intAtLeast('sync_after_interactions', settings.sync_after_interactions, 1);
  intAtLeast('max_interactions_per_delta', settings.max_interactions_per_delta, 1);
  finiteAbove('weight_cap', settings.weight_cap, 0, false);
  finiteAbove('conflict_tolerance', settings.conflict_tolerance, 0, true);
  const sweep = settings.anti_entropy_entries;
  if (!(Number.isInteger(sweep) && sweep >= 0 && sweep <= 4096))
    throw new ElexError('E_CONFIG', 'anti_entropy_entries must be an integer in 0..4096');
  return settings;
}

/**
 * A delta names a state's actions in an 8-bit mask: a member learning action 8 or above could not encode its
 * next delta, and every sync threw E_ENCODE.
 */
export function checkFederatedActions(config: FederationConfig): void {
  const actions = config.learning?.actions;
  if (actions !== undefined && !(actions >= 1 && actions <= MAX_DELTA_ACTIONS))
    throw new ElexError('E_CONFIG', `learning.actions must be 1..${MAX_DELTA_ACTIONS} to federate`);
}
