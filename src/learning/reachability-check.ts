/**
 * The aggregator's TD-reachability check of a member's delta (docs/federation.md, "Reachability window"):
 * against its consensus as it stands and the values its entries were published with (`ReachabilityWindow`).
 */
import type { Delta } from './delta-codec.js';
import type { EntryKey } from './outgoing-delta.js';
import type { QTable } from './q-table.js';
import type { ReachabilityWindow } from './reachability-window.js';
import { REWARD_MAX, REWARD_MIN } from './reward.js';
import { tdReachable, tdTargetRange } from './validate.js';

/**
 * The check (`tdReachable`) against consensus `t` and `window` as they stand: for a delta, the keys of its
 * entries whose values with fresh visits are not reachable by those visits of Q-learning, with targets inside
 * the consensus's range, from a value the entry was published with in the window (none: the delta passes).
 */
export function reachabilityCheck(
  t: QTable,
  window: ReachabilityWindow,
  learning: { alpha: number; gamma: number },
): (d: Delta) => EntryKey[] {
  // A window not yet full: check against the table with one step of slack (`ReachabilityWindow.full`).
  const windowed = window.full;
  let vMin = 0;
  let vMax = 0;
  for (let e = 0; e < t.size; e++) {
    if (t.q[e] < vMin) vMin = t.q[e];
    if (t.q[e] > vMax) vMax = t.q[e];
  }
  const { alpha, gamma } = learning;
  const { tMin, tMax } = tdTargetRange(vMin, vMax, REWARD_MIN, REWARD_MAX, gamma, alpha);
  return (d) => {
    const back: EntryKey[] = [];
    for (let i = 0; i < d.count; i++) {
      const e = t.find(d.hi[i], d.lo[i], d.action[i]);
      const fresh = Math.min(d.fresh[i], d.interactions);
      // No fresh visits: no weight under a robust rule (a repeat of a report not yet acknowledged).
      if (fresh === 0) continue;
      const from = (g: number, steps: number) => tdReachable(g, d.q[i], steps, alpha, tMin, tMax, 1e-4);
      let ok: boolean;
      if (e < 0) ok = from(0, windowed ? fresh : fresh + 1);
      else if (!windowed) ok = from(t.q[e], fresh + 1);
      else ok = window.anyBase(e, t.q[e], (g) => from(g, fresh));
      if (!ok) back.push([d.hi[i], d.lo[i], d.action[i]]);
    }
    return back;
  };
}
