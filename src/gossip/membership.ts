/**
 * Membership: what this member believes about every member it knows, as one claim each (generation,
 * incarnation, status), and how claims from others, from senders' headers and about ourselves are applied.
 *
 * Why claims under one precedence rule (`supersedes`, member.ts): a member alone raises its incarnation (to
 * refute) and a restart is a new generation, so whichever order news arrives in, by whichever path (rumor,
 * delta, join, header), every member settles on the same claim, and no dead incarnation comes back (SWIM,
 * Lifeguard, chitchat's generations). Why `setClaim` does every side effect of a change: the digest hash, the
 * recent list, the peer pools, heartbeat histories, suspicions, tombstones, the rumor queue and the events
 * must never disagree about a member.
 */
import { type ClaimEntry, MsgType } from './codec.js';
import type { CoreState, Known } from './core-state.js';
import {
  bucketOf,
  type Claim,
  compareIncarnation,
  isTerminal,
  type Liveness,
  type Member,
  ringPosition,
  STATUS_NAMES,
  Status,
  supersedes,
} from './member.js';
import { classify } from './peers.js';
import { addVote } from './suspicion.js';

export function addMember(s: CoreState, c: Claim & { name: string }): Known {
  const m: Known = {
    name: c.name,
    gen: c.gen,
    inc: c.inc,
    status: c.status,
    maxVersion: 0,
    keys: new Map(),
    changedAt: s.now,
    expiresAt: Number.POSITIVE_INFINITY,
    bucket: bucketOf(c.name, s.config.buckets),
    hashLo: 0,
    hashHi: 0,
    ringPos: ringPosition(c.name),
    hist: undefined,
  };
  s.members.set(c.name, m);
  s.ring.add(m.name, m.ringPos);
  rehash(s, m);
  classify(s, m);
  return m;
}

export function unhash(s: CoreState, m: Member): void {
  s.digest.remove(m);
}

export function rehash(s: CoreState, m: Member): void {
  s.digest.add(m);
  m.changedAt = s.now;
  s.lastRehashAt = s.now;
  const r = s.recent;
  const i = r.indexOf(m.name);
  if (i >= 0) r.splice(i, 1);
  r.push(m.name);
  if (r.length > s.config.recentMax) r.shift();
}

/** Replaces a member's claim (the caller checked precedence), with every side effect in one place. */
export function setClaim(
  s: CoreState,
  m: Known,
  c: Claim & { name?: string; origin?: string; ttlMs?: number },
  origin: string | undefined,
  previous: Liveness = STATUS_NAMES[m.status],
): void {
  const wasTerminal = isTerminal(m.status);
  unhash(s, m);
  if (c.gen !== m.gen) {
    m.keys.clear();
    m.maxVersion = 0;
    s.histories.delete(m.name);
    m.hist = undefined;
    s.ringEpoch++; // a new generation is monitored afresh
  }
  const refuted = c.status === Status.alive && (c.gen !== m.gen || c.inc !== m.inc || wasTerminal);
  m.gen = c.gen;
  m.inc = c.inc;
  m.status = c.status;
  rehash(s, m);
  const terminal = isTerminal(c.status);
  if (terminal) {
    const ttl = c.ttlMs ? Math.min(c.ttlMs, s.config.tombstoneTtlMs) : s.config.tombstoneTtlMs;
    m.expiresAt = s.now + ttl;
    s.terminal.add(m.name);
    s.suspicions.delete(m.name);
    if (m.expiresAt < s.tombstoneDueAt) s.tombstoneDueAt = m.expiresAt;
    s.wakeAt(m.expiresAt);
  } else {
    m.expiresAt = Number.POSITIVE_INFINITY;
    s.terminal.delete(m.name);
  }
  classify(s, m);
  if (c.status === Status.suspect) {
    s.wakeAt(s.now + s.config.suspicionMinMs);
    s.suspicions.set(m.name, {
      gen: c.gen,
      inc: c.inc,
      startedAt: s.now,
      origins: new Set(origin !== undefined ? [origin] : []),
    });
  } else if (c.status === Status.alive) {
    s.suspicions.delete(m.name);
    // A refuted or restarted member gets a fresh grace period from its monitors.
    if (refuted && m.hist !== undefined) m.hist.grace(s.now);
  }
  s.rumors.set(m.name, claimOf(s, m));
  s.news = true;
  s.emit({
    kind: 'member',
    name: m.name,
    status: STATUS_NAMES[m.status],
    previous,
    gen: m.gen,
    inc: m.inc,
  });
}

export function claimOf(s: CoreState, m: Member): ClaimEntry {
  const c: ClaimEntry = { name: m.name, gen: m.gen, inc: m.inc, status: m.status };
  if (m.status === Status.suspect) {
    const susp = s.suspicions.get(m.name);
    c.origin = susp && susp.origins.size > 0 ? susp.origins.values().next().value : s.name;
  } else if (isTerminal(m.status)) {
    c.ttlMs = Math.max(1, Math.floor(m.expiresAt - s.now));
  }
  return c;
}

/** Applies a third-party claim. Returns true if it changed our view. */
export function applyClaim(s: CoreState, c: ClaimEntry): boolean {
  if (c.name === s.name) return applySelfClaim(s, c);
  const m = s.members.get(c.name);
  if (m === undefined) {
    const f = s.forgotten.get(c.name);
    if (f && compareIncarnation(c.gen, c.inc, f.gen, f.inc) <= 0) {
      s.metrics.inc('drop_resurrection_blocked');
      return false;
    }
    const fresh = addMember(s, { name: c.name, gen: c.gen, inc: c.inc, status: Status.alive });
    setClaim(s, fresh, c, c.origin, 'unknown');
    return true;
  }
  if (supersedes(c, m)) {
    setClaim(s, m, c, c.origin);
    return true;
  }
  if (c.status === Status.suspect && m.status === Status.suspect && c.gen === m.gen && c.inc === m.inc) {
    if (c.origin !== undefined) addVote(s, m, c.origin, false);
    return false;
  }
  s.metrics.inc(
    compareIncarnation(c.gen, c.inc, m.gen, m.inc) < 0 || c.status < m.status ? 'drop_stale' : 'duplicate',
  );
  return false;
}

/** Someone says something about us: refute suspicion or death by raising our incarnation. */
export function applySelfClaim(s: CoreState, c: ClaimEntry): boolean {
  const me = s.self;
  if (c.gen > me.gen) {
    s.metrics.inc('drop_identity_conflict');
    return false;
  }
  if (c.gen < me.gen || c.status === Status.alive || c.inc < me.inc) return false;
  if (s.hasLeft) return false;
  if (c.inc >= Number.MAX_SAFE_INTEGER) {
    // inc + 1 could not be encoded: every datagram we send would throw. Only a liar can get here.
    s.metrics.inc('drop_incarnation_overflow');
    return false;
  }
  s.metrics.inc('refutations');
  s.rumorUrgent = true;
  setClaim(s, me, { gen: me.gen, inc: c.inc + 1, status: Status.alive }, undefined);
  if (c.origin !== undefined && c.origin !== s.name) {
    s.rumorExtra.push(c.origin);
    s.news = true;
  }
  return true;
}

/** Self-claims in headers are first-hand: a higher (gen, inc) than ours makes the sender alive. */
export function observeSender(s: CoreState, m: Known, gen: number, inc: number): void {
  // `alive` is the lowest status: an alive claim supersedes exactly when its (gen, inc) is higher.
  const cmp = gen !== m.gen ? gen - m.gen : inc - m.inc;
  if (cmp > 0) {
    setClaim(s, m, { gen, inc, status: Status.alive }, undefined);
    return;
  }
  if (m.status === Status.alive) return;
  if (isTerminal(m.status) && m.status === Status.dead && compareIncarnation(gen, inc, m.gen, m.inc) <= 0) {
    // It does not know it was declared dead: tell it, so it refutes (at most once per interval).
    const last = s.lastDeadNotice.get(m.name) ?? Number.NEGATIVE_INFINITY;
    if (s.now - last >= s.config.heartbeatIntervalMs) {
      s.lastDeadNotice.set(m.name, s.now);
      s.send(m.name, { type: MsgType.rumor, ...s.header(), claims: [claimOf(s, m)] });
    }
  }
}
