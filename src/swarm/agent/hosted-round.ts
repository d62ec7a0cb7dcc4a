/**
 * One federation round among agents that share a host (a coordinator process hosts whole categories): the
 * swarm simulation's round without a network. Pure: randomness is injected, nothing is timed here.
 */
import type { Rng } from '../../core/index.js';
import type { FeatureAgent, Pattern } from './index.js';

/** ADR-115: an agent syncs every sync interval or after this many interactions, whichever comes first. */
export const SYNC_AFTER_INTERACTIONS = 10;

export interface HostedRound {
  /** Deltas handed to a category peer (each counted once per receiver). */
  deltas: number;
  /** Deltas merged into their receivers' tables at the start of this round. */
  merged: number;
  /** Patterns the round's agents learned, for the rest of the swarm (this host's agents already have them). */
  patterns: Pattern[];
}

/**
 * Each agent of `category` merges the deltas it received since its last round, then sends what it learned
 * since (its delta) to `fanout` other agents of the category drawn at random, as the simulator's agents do;
 * `maxInteractions` is the plausibility bound the receivers check. New patterns are applied to every other
 * agent given in `everyone` (the host's agents, all categories) and returned.
 */
export function hostedRound(
  category: readonly FeatureAgent[],
  everyone: readonly FeatureAgent[],
  rng: Rng,
  o: { fanout: number; maxInteractions: number },
): HostedRound {
  const out: HostedRound = { deltas: 0, merged: 0, patterns: [] };
  for (const a of category) out.merged += a.mergePending();
  for (const a of category) {
    out.deltas += sendDelta(a, category, rng, o);
    out.patterns.push(...a.newPatterns());
  }
  applyPatterns(everyone, out.patterns);
  return out;
}

/**
 * `a` sends what it learned since its last delta to `fanout` other agents of its category, drawn at random;
 * returns how many took it. Also an agent's early sync (after 10 interactions) between rounds.
 */
export function sendDelta(
  a: FeatureAgent,
  category: readonly FeatureAgent[],
  rng: Rng,
  o: { fanout: number; maxInteractions: number },
): number {
  const d = a.takeDelta();
  if (d === null || category.length < 2) return 0;
  let taken = 0;
  // Distinct receivers, never the sender: a partial Fisher–Yates draw over the others.
  const others = category.filter((b) => b !== a);
  for (let k = 0; k < Math.min(o.fanout, others.length); k++) {
    const j = k + rng.int(others.length - k);
    [others[k], others[j]] = [others[j], others[k]];
    if (others[k].receiveDelta(d, o.maxInteractions)) taken++;
  }
  return taken;
}

/** Patterns applied to every agent but their origin; returns how many tables they changed. */
export function applyPatterns(agents: readonly FeatureAgent[], patterns: readonly Pattern[]): number {
  let changed = 0;
  for (const p of patterns) for (const a of agents) if (a.id !== p.origin && a.applyPattern(p)) changed++;
  return changed;
}
