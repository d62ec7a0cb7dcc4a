/**
 * Peer-to-peer relay of sample weight (no aggregator). A member that merged a peer's report passes its weight
 * on with its own next deltas, so knowledge adopted from one peer reaches the next hop with the samples behind
 * it instead of with no weight. Pure: the member keeps the relay map, this decides what one delta carries.
 */

/** Per entry, the weight kept from each origin since the member last sent deltas. */
export type RelayWeights = ReadonlyMap<number, ReadonlyMap<string, number>>;

/**
 * The fresh-visit counts of a delta to `to`: the member's own `fresh` visits plus the weight relayed from
 * origins other than `to` (a receiver must not get its own samples back as someone else's), each entry
 * topped up to at most `cap` (what a receiver counts), and all of it within `budget` extra interactions
 * (scaled down, rounding down, when over). `extra` is the interactions the relayed visits add.
 */
export function relayedCounts(
  relay: RelayWeights,
  fresh: ReadonlyMap<number, number>,
  to: string,
  cap: number,
  budget: number,
): { counts: Map<number, number>; extra: number } {
  const counts = new Map(fresh);
  let total = 0;
  const parts: Array<[number, number]> = [];
  for (const [e, byOrigin] of relay) {
    let w = 0;
    for (const [o, x] of byOrigin) if (o !== to) w += x;
    const add = Math.min(Math.round(w), Math.max(0, cap - (fresh.get(e) ?? 0)));
    if (add > 0) {
      parts.push([e, add]);
      total += add;
    }
  }
  const scale = total > Math.max(0, budget) ? Math.max(0, budget) / total : 1;
  let extra = 0;
  for (const [e, add] of parts) {
    const x = Math.floor(add * scale);
    if (x > 0) {
      counts.set(e, (counts.get(e) ?? 0) + x);
      extra += x;
    }
  }
  return { counts, extra };
}
