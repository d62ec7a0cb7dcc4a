/**
 * Tombstones: a dead or left member stays in the table, and in every digest, for `tombstoneTtlMs` (its claim
 * keeps beating stale alive claims still in flight), then is forgotten here; its last (gen, inc) is kept in a
 * bounded "forgotten" map so that a late claim at or below it is refused instead of resurrecting it.
 *
 * Why expire at all: under churn the table, the digests and every exchange would otherwise grow without
 * bound. Why remember forgotten identities: a claim about the member may still be in flight from a slow
 * member when we forget it, and it must not bring the member back (the ping-pong of chitchat #155/#161).
 * Members forget within milliseconds of each other: a tombstone's TTL travels relative (`claimOf`), and one
 * about to expire is no longer offered in deltas (anti-entropy.ts).
 */
import type { CoreState, Known } from './core-state.js';
import { STATUS_NAMES, Status } from './member.js';
import { addMember, setClaim, unhash } from './membership.js';

/**
 * A datagram from a forgotten life itself (its own header, not a relayed claim): the member is running. Its
 * tombstone comes back as it was (dead at the forgotten incarnation), and the sender's header does the rest
 * (`observeSender`): at that incarnation the dead notice makes it refute; at a higher one (it refuted a
 * suspicion we never heard, or raised it since) the header itself is the refutation, and it is alive again, as
 * a relayed claim at that incarnation would make it. Dropped as from a stranger instead, it would stay out for
 * good, and so would we for it: after a partition longer than the TTL both sides have forgotten each other,
 * and neither would ever hear the other again. (Until session 23 a higher incarnation was dropped so, and a
 * life forgotten after it left came back as dead, to be gossiped to for `reconnectTimeoutMs`.)
 */
export function reviveTombstone(s: CoreState, name: string, gen: number): Known | undefined {
  const f = s.forgotten.get(name);
  // A life that left meant to go: a datagram of it is late or replayed (a restart is a new generation).
  if (f === undefined || gen !== f.gen || f.left) return undefined;
  s.forgotten.delete(name);
  s.lost.delete(name);
  const m = addMember(s, { name, gen: f.gen, inc: f.inc, status: Status.alive });
  setClaim(s, m, { gen: f.gen, inc: f.inc, status: Status.dead }, undefined, 'unknown');
  return m;
}

/** Forgets expired tombstones; returns the next expiry. */
/**
 * A forgotten member to gossip to, or undefined: `name` (from `s.lost`) unless it is known again or its
 * reconnect window has passed, in which case it leaves the pool.
 */
export function reconnectTarget(s: CoreState, name: string): string | undefined {
  const f = s.forgotten.get(name);
  if (f !== undefined && !s.members.has(name) && s.now - f.at < s.config.reconnectTimeoutMs) return name;
  s.lost.delete(name);
  return undefined;
}

export function collectGarbage(s: CoreState): number {
  if (s.terminal.size === 0) {
    s.tombstoneDueAt = Number.POSITIVE_INFINITY; // a refuted tombstone leaves a stale due time
    return s.tombstoneDueAt;
  }
  if (s.now < s.tombstoneDueAt) return s.tombstoneDueAt;
  let due = Number.POSITIVE_INFINITY;
  for (const n of s.terminal) {
    const m = s.members.get(n);
    if (!m) continue;
    if (s.now < m.expiresAt) {
      if (m.expiresAt < due) due = m.expiresAt;
      continue;
    }
    unhash(s, m);
    s.members.delete(n);
    s.senderCache.fill(undefined);
    s.ring.remove(n, m.ringPos);
    s.ringEpoch++;
    s.terminal.delete(n);
    s.histories.delete(n);
    s.lastDeadNotice.delete(n);
    // Delete first: a name forgotten again must move to the newest end, or eviction (oldest first by
    // insertion) would drop the identity forgotten just now and let a late claim for it resurrect it.
    s.forgotten.delete(n);
    s.forgotten.set(n, { gen: m.gen, inc: m.inc, at: s.now, left: m.status === Status.left });
    // A member that left meant to; one that died may be alive across a partition: keep talking to it.
    if (m.status === Status.dead) s.lost.add(n);
    else s.lost.delete(n);
    if (s.forgotten.size > s.config.forgottenCapacity) {
      const oldest = s.forgotten.keys().next().value;
      if (oldest !== undefined) {
        s.forgotten.delete(oldest);
        s.lost.delete(oldest);
      }
    }
    s.live.delete(n);
    s.dead.delete(n);
    s.metrics.inc('tombstones_collected');
    s.emit({
      kind: 'member',
      name: n,
      status: 'unknown',
      previous: STATUS_NAMES[m.status],
      gen: m.gen,
      inc: m.inc,
    });
  }
  s.tombstoneDueAt = due;
  return due;
}
