/**
 * Rumors: eager, infection-style dissemination of membership news (joins, suspicions, deaths, refutations,
 * leaves; never keys). Every claim that changes our view is queued (`setClaim`, `addVote`) and forwarded once
 * to `fanout` random live members, plus, for a suspicion, the suspect and its monitors (`rumorExtra`). News we
 * make ourselves goes out at once; news learned from others waits up to `rumorDelayMs`, batched with whatever
 * else arrives meanwhile.
 *
 * Why next to anti-entropy: a suspicion must reach the suspect (to refute) and its co-monitors (to confirm)
 * within a fraction of the suspicion timeout, faster than digest rounds spread it. Why batching learned news:
 * when hundreds of members join at once, forwarding per received datagram multiplies the traffic many times
 * over (docs/gossip.md: 550,413 rumor datagrams to form the cluster, 30,290 batched).
 */
import { type ClaimEntry, claimSize, LIMITS, MsgType } from './codec.js';
import type { CoreState } from './core-state.js';
import { isTerminal } from './member.js';
import { claimOf } from './membership.js';
import { pickLive } from './peers.js';

/** After a datagram: our own news goes at once, learned news waits up to `rumorDelayMs` to be batched. */
export function handleRumors(s: CoreState, exceptPeer: string): void {
  if (!s.news) return;
  if (s.rumors.size === 0 && s.rumorExtra.length === 0) {
    s.news = false;
    return;
  }
  if (s.rumorUrgent || s.config.rumorDelayMs === 0) {
    flushRumors(s, exceptPeer);
    return;
  }
  if (s.rumorDueAt === Number.POSITIVE_INFINITY) {
    s.rumorDueAt = s.now + s.config.rumorDelayMs;
    s.wakeAt(s.rumorDueAt);
  }
}

export function flushRumors(s: CoreState, exceptPeer: string | undefined): void {
  s.rumorUrgent = false;
  s.rumorDueAt = Number.POSITIVE_INFINITY;
  if (!s.news) return;
  s.news = false;
  if (s.rumors.size === 0 && s.rumorExtra.length === 0) return;
  const claims = takeRumors(s);
  const extra = s.rumorExtra;
  s.rumorExtra = [];
  if (claims.length === 0) return;
  const targets = pickLive(s, s.config.fanout, exceptPeer);
  for (const x of extra) if (x !== s.name && !targets.includes(x)) targets.push(x);
  sendRumors(s, claims, targets);
}

/**
 * The queued claims, emptying the queue. A tombstone's TTL is relative, so it is re-read now: queued up to
 * `rumorDelayMs` ago, it would otherwise make every receiver forget later than we do.
 */
export function takeRumors(s: CoreState): ClaimEntry[] {
  const claims: ClaimEntry[] = [];
  for (const c of s.rumors.values()) {
    if (c.ttlMs === undefined) claims.push(c);
    else {
      const m = s.members.get(c.name);
      if (m !== undefined && isTerminal(m.status)) claims.push(claimOf(s, m));
    }
  }
  s.rumors.clear();
  return claims;
}

export function sendRumors(s: CoreState, claims: ClaimEntry[], targets: string[]): void {
  if (targets.length === 0) return;
  const budget = s.config.maxDatagramBytes - s.headerBytes() - 3;
  let batch: ClaimEntry[] = [];
  let used = 0;
  const flush = () => {
    if (batch.length === 0) return;
    s.sendAll(targets, { type: MsgType.rumor, ...s.header(), claims: batch });
    batch = [];
    used = 0;
  };
  for (const c of claims) {
    const size = claimSize(c);
    // Whatever the byte budget allows, a decoder takes at most LIMITS.entries claims per datagram.
    if (used + size > budget || batch.length === LIMITS.entries) flush();
    batch.push(c);
    used += size;
  }
  flush();
}
