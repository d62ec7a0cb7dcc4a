/**
 * Peer selection: the pools of live (alive or suspect) and dead members other than ourselves, kept in step
 * with every claim (`classify`), and uniform picks from them (gossip, rumor and user-message targets).
 *
 * Why pools kept incrementally (NameSet: O(1) add, remove and random pick): every gossip round, rumor batch and
 * user message draws from them, and a scan of the member table each time would cost O(members). Why a
 * separate dead pool: gossip rounds sometimes address a dead member, which is what lets a healed partition
 * find itself again. A member entering or leaving the live pool also changes who monitors whom (`ringEpoch`).
 */
import type { CoreState } from './core-state.js';
import { isTerminal, type Member, Status } from './member.js';

export function classify(s: CoreState, m: Member): void {
  if (m.name === s.name) return;
  const wasLive = s.live.has(m.name);
  if (isTerminal(m.status)) s.live.delete(m.name);
  else s.live.add(m.name);
  if (wasLive !== s.live.has(m.name)) s.ringEpoch++;
  if (m.status === Status.dead) s.dead.add(m.name);
  else s.dead.delete(m.name);
}

export function liveNames(s: CoreState): string[] {
  return s.live.items;
}

/** Up to `k` distinct live members chosen uniformly, excluding `except`. */
export function pickLive(
  s: CoreState,
  k: number,
  except: string | undefined,
  accept?: (member: string) => boolean,
): string[] {
  const all = liveNames(s);
  const live = accept === undefined ? all : all.filter(accept);
  const out: string[] = [];
  const n = live.length;
  if (n === 0) return out;
  if (n <= k + 1) {
    for (const x of live) if (x !== except) out.push(x);
    // One too many (`except` not among them): leave out a random one, not always the last in pool order.
    if (out.length > k) out.splice(s.rng.int(out.length), 1);
    return out;
  }
  for (let tries = 0; out.length < k && tries < 4 * k; tries++) {
    const x = live[s.rng.int(n)];
    if (x !== except && !out.includes(x)) out.push(x);
  }
  return out;
}
