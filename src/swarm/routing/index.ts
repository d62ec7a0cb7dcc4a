/**
 * Query routing, pure: which features a query is about, which agent answers for each, and how answers from
 * several agents are aggregated by confidence. No clocks, no I/O: liveness comes in as a predicate.
 */
import type { Complexity, QueryType } from '../../learning/index.js';
import type { Catalog } from '../catalog.js';

/** A query as it reaches a coordinator (issue 6: `{id, type, text, features?, context?}`). */
export interface SwarmQuery {
  id: number;
  type: QueryType;
  text: string;
  features?: readonly string[];
  context?: { complexity?: Complexity };
}

export interface Targets {
  /** Known target features, sorted, deduplicated. */
  features: string[];
  /** Their categories, sorted, deduplicated. */
  categories: string[];
  /** References given in `features` that name no feature, sorted, deduplicated. */
  unknown: string[];
}

/**
 * Target features: `query.features` when given (unknown ids reported), otherwise every feature id, FAJ code,
 * acronym and name the text mentions.
 */
export function extractTargets(catalog: Catalog, query: SwarmQuery): Targets {
  const found = new Set<string>();
  const unknown = new Set<string>();
  if (query.features !== undefined && query.features.length > 0) {
    for (const f of query.features) {
      // As `GET /features/<ref>` reads a reference (id, FAJ code, acronym, name); an acronym several
      // features share means all of them, as it does in a text.
      const hits = catalog.get(f) !== undefined ? [f] : catalog.lookup(f).map((x) => x.id);
      if (hits.length === 0) unknown.add(f);
      for (const id of hits) found.add(id);
    }
  } else {
    for (const r of catalog.findReferences(query.text)) found.add(r.feature);
  }
  const features = [...found].sort();
  const cats = new Set<string>();
  for (const f of features) cats.add(catalog.get(f)!.category);
  return { features, categories: [...cats].sort(), unknown: [...unknown].sort() };
}

export type RouteKind = 'intra' | 'cross';

export function routeKind(t: Targets): RouteKind {
  return t.categories.length > 1 ? 'cross' : 'intra';
}

export interface AgentChoice<A> {
  agent: A;
  /** The agent is the feature's own agent (otherwise a live peer of its category answers for it). */
  own: boolean;
}

/**
 * The agent that answers for `feature`: its own agent when live, otherwise a live agent of the same category
 * (starting at a position derived from `salt`, so load spreads deterministically). Never a dead agent while a
 * live one exists; null when no agent of the category is live. `exclude` skips agents already tried.
 */
export function chooseAgent<A>(
  own: A | undefined,
  categoryAgents: readonly A[],
  alive: (a: A) => boolean,
  salt: number,
  exclude?: ReadonlySet<A>,
): AgentChoice<A> | null {
  if (own !== undefined && alive(own) && !exclude?.has(own)) return { agent: own, own: true };
  const n = categoryAgents.length;
  if (n === 0) return null;
  // A fractional or non-finite salt would index no agent at all.
  const k = Number.isFinite(salt) ? Math.trunc(salt) : 0;
  const start = ((k % n) + n) % n;
  for (let i = 0; i < n; i++) {
    const a = categoryAgents[(start + i) % n];
    if (a !== own && alive(a) && !exclude?.has(a)) return { agent: a, own: false };
  }
  return null;
}

/** One agent's answer about one feature. */
export interface FeatureAnswer {
  feature: string;
  agent: string;
  action: string;
  confidence: number;
  /** The Raft applied index of the control-plane state the answer was computed from. */
  raftIndex: number;
}

export interface Aggregate<T extends FeatureAnswer> {
  /** The most confident answer per feature, by feature id. */
  answers: T[];
  /** Mean of the chosen answers' confidences (0 when none). */
  confidence: number;
  /** The lowest index among the chosen answers: the whole answer reflects at least this state. */
  raftIndex: number;
}

/** Aggregation by confidence: per feature the most confident answer wins (ties: lower agent id). */
export function aggregateByConfidence<T extends FeatureAnswer>(answers: readonly T[]): Aggregate<T> {
  const best = new Map<string, T>();
  for (const a of answers) {
    const b = best.get(a.feature);
    if (
      b === undefined ||
      a.confidence > b.confidence ||
      (a.confidence === b.confidence && a.agent < b.agent)
    )
      best.set(a.feature, a);
  }
  const chosen = [...best.values()].sort((x, y) =>
    x.feature < y.feature ? -1 : x.feature > y.feature ? 1 : 0,
  );
  let sum = 0;
  let idx = chosen.length > 0 ? Number.POSITIVE_INFINITY : 0;
  for (const a of chosen) {
    sum += a.confidence;
    if (a.raftIndex < idx) idx = a.raftIndex;
  }
  return { answers: chosen, confidence: chosen.length > 0 ? sum / chosen.length : 0, raftIndex: idx };
}
