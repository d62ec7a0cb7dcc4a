/**
 * What a member's merge (`mergeDeltasIntoTable`) takes in besides its table: its peers' deltas as one report
 * row per member, and the rule's options from the member's settings (`FederatedQTable`'s peer-to-peer merges
 * and aggregator rounds alike).
 */
import { type Delta, emptyDelta, selectEntries } from './delta-codec.js';
import type { QLearner } from './engine.js';
import type { FederationSettings } from './federation-config.js';
import { ruleByName } from './merge/index.js';
import { QTable } from './q-table.js';
import type { TableMergeOptions } from './table-merge.js';

const U32_MAX = 0xffffffff;

/**
 * One report row per member: its several deltas of one round (it synced more often than the aggregator, or
 * floods) become one, each entry at the value of its newest delta holding it (highest round, then arrival)
 * with the fresh visits of all of them, so the weight cap holds per member and entry. As separate rows, one
 * Byzantine member's four backlogged deltas weighed four capped reports on an entry, out-voted the honest
 * members under the trimmed mean and were most of the reporters whose median reporter trust scores against.
 */
export function oneRowPerOrigin(deltas: readonly Delta[]): Delta[] {
  const groups = new Map<string, Delta[]>();
  for (const d of deltas) {
    const g = groups.get(d.origin);
    if (g) g.push(d);
    else groups.set(d.origin, [d]);
  }
  if (groups.size === deltas.length) return [...deltas];
  const out: Delta[] = [];
  for (const group of groups.values()) {
    if (group.length === 1) {
      out.push(group[0]);
      continue;
    }
    // Oldest first (stable sort: arrival order among equal rounds), so newer values overwrite older ones.
    const g = [...group].sort((x, y) => x.round - y.round);
    let total = 0;
    for (const d of g) total += d.count;
    const c = emptyDelta(g[0].kind, g[0].origin, total);
    // Rows of `c` are the entries of `keys`, in first-seen order.
    const keys = new QTable(total);
    let n = 0;
    let interactions = 0;
    for (const d of g) {
      for (let i = 0; i < d.count; i++) {
        const j = keys.slot(d.hi[i], d.lo[i], d.action[i]);
        if (j === n) {
          c.hi[j] = d.hi[i];
          c.lo[j] = d.lo[i];
          c.action[j] = d.action[i];
          n++;
        }
        // A report without fresh visits was not TD-checked (it weighs nothing): it must not replace a value
        // that came with fresh visits, or the row would carry an unchecked value with another delta's weight
        // (a review in session 23 set an entry to 3.0 that way, where one step from 0 reaches ~0.3).
        if (d.fresh[i] > 0 || c.fresh[j] === 0) {
          c.q[j] = d.q[i];
          c.visits[j] = d.visits[i];
        }
        c.fresh[j] = Math.min(U32_MAX, c.fresh[j] + d.fresh[i]);
      }
      interactions += d.interactions;
    }
    const last = g[g.length - 1];
    out.push({
      ...c,
      to: last.to,
      term: last.term,
      round: last.round,
      interactions,
      count: n,
      hi: c.hi.subarray(0, n),
      lo: c.lo.subarray(0, n),
      action: c.action.subarray(0, n),
      q: c.q.subarray(0, n),
      visits: c.visits.subarray(0, n),
      fresh: c.fresh.subarray(0, n),
    });
  }
  return out;
}

/**
 * The rule, its parameters, the weighting and the conflict tolerance of a member's merge of `rows` peer rows,
 * from its settings and its learner's step size and Q bounds; `anchor` weighs the member's own table.
 * Peer-to-peer, the member's own table is anchored at `weight_cap` (it holds everything the member has
 * learned and adopted; one peer's report must not replace it). As aggregator, its table is the consensus
 * and weighs only its own fresh visits since the previous sync, capped like any member's: the evaluated
 * aggregator (`elex simulate federation`) exactly.
 */
export function memberMergeOptions(
  settings: FederationSettings,
  learner: Pick<QLearner, 'config' | 'bounds'>,
  rows: number,
  anchor: number | ReadonlyMap<number, number>,
): Pick<TableMergeOptions, 'rule' | 'params' | 'weighting' | 'tolerance'> {
  const bounds = learner.bounds;
  return {
    rule: ruleByName(settings.rule),
    params: {
      beta: settings.byzantine_threshold,
      f: Math.floor(settings.byzantine_threshold * (rows + 1)),
      clipRadius: learner.config.alpha * (bounds.max - bounds.min) * 0.05,
      bounds,
    },
    weighting:
      settings.rule === 'visit-weighted'
        ? { kind: 'claimed' }
        : { kind: 'fresh', cap: settings.weight_cap, anchor },
    tolerance: settings.conflict_tolerance,
  };
}

/**
 * `rows` without the entries that carry no weight under a robust rule (0 fresh visits) and that `table` does not
 * hold. Such an entry changes nothing, yet the merge would insert it and the next aggregate would carry it to
 * every member: one member's weightless delta of 2^20 made-up keys grew every honest table by as much, round after
 * round (session 23 review). Entries the table holds stay: a member's unacknowledged repeat is restated.
 */
export function withoutWeightlessNewEntries(rows: readonly Delta[], table: QTable): Delta[] {
  return rows.map((d) => {
    const keep: number[] = [];
    for (let i = 0; i < d.count; i++)
      if (d.fresh[i] > 0 || table.find(d.hi[i], d.lo[i], d.action[i]) >= 0) keep.push(i);
    return keep.length === d.count ? d : selectEntries(d, keep);
  });
}
