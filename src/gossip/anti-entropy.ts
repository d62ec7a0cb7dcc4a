/**
 * Anti-entropy: Scuttlebutt reconciliation (van Renesse et al. 2008; Cassandra, chitchat) over bucketed
 * digests. Every round a member sends a SYN to `fanout` random live members (and now and then to a dead one):
 * its total digest hash and the digest entries that changed recently. A peer whose hash matches answers
 * nothing; otherwise the exchange goes on for up to `maxHops` hops of requests, deltas (most-stale-first),
 * bucket hashes and the digest entries of the buckets that differ.
 *
 * Why: rumors (rumors.ts) are fast but best effort, and keys never travel as rumors; anti-entropy is what
 * guarantees that every member converges on every member's latest claim and keys, under loss, duplication,
 * reordering and partitions. Why buckets: an in-sync exchange costs one small datagram instead of a full
 * digest of every member, and a differing one sends only the buckets where the digests differ.
 */
import {
  type Delta,
  type DigestEntry,
  digestEntrySize,
  type ExchangeBody,
  LIMITS,
  MsgType,
  type Request,
  requestSize,
} from './codec.js';
import type { CoreState } from './core-state.js';
import {
  bucketDigest,
  buildDeltas,
  type DeltaCandidate,
  digestOf,
  EXCHANGE_FIXED,
  NEWS_PRIORITY,
} from './exchange.js';
import { compareIncarnation, keyId, type Member, Status, supersedes } from './member.js';
import { applyClaim, applySelfClaim, claimOf, rehash, unhash } from './membership.js';
import { liveNames, pickLive } from './peers.js';
import { reconnectTarget } from './tombstones.js';

/** Tombstones this close to their expiry are no longer offered in deltas (members forget within ms). */
const TOMBSTONE_QUIET_MS = 1000;

export function gossipRound(s: CoreState): void {
  const c = s.config;
  const targets = pickLive(s, c.fanout, undefined);
  const live = liveNames(s).length;
  // Gossip to the dead: partitions heal only if someone talks across them. Probability ∝ dead share. The
  // dead include those forgotten while dead (`s.lost`): a partition can outlive the tombstones.
  const dead = s.dead.items;
  // Seeds held as `left` count as away too: in neither pool, a seed that left and came back as a new life was
  // never addressed again (and drops a stranger's SYN), so it stayed unheard (a review of session 25).
  const leftSeeds = s.seeds.filter((x) => s.members.get(x)?.status === Status.left);
  const away = dead.length + s.lost.size + leftSeeds.length;
  if (away > 0 && s.rng.next() * (live + away) < away) {
    const i = s.rng.int(away);
    const lostAt = i - dead.length;
    const to =
      i < dead.length
        ? dead[i]
        : lostAt < s.lost.size
          ? reconnectTarget(s, s.lost.items[lostAt])
          : leftSeeds[lostAt - s.lost.size];
    if (to !== undefined) targets.push(to);
    // A seed that came back as a new life drops a stranger's SYN, but takes a join: without it, seeds that
    // restarted together formed an island the others, still knowing `fanout` live members, never rejoined.
    if (to !== undefined && s.seeds.includes(to)) s.send(to, { type: MsgType.join, ...s.header() });
  }
  if (live < c.fanout && s.seeds.length > 0) {
    for (const seed of s.seeds) {
      // Not only an unknown seed: one held as left or dead may be a new life, which takes only a join.
      if (!s.live.has(seed)) s.send(seed, { type: MsgType.join, ...s.header() });
      if (!targets.includes(seed)) targets.push(seed);
    }
  }
  if (targets.length === 0) return;
  const budget = c.maxDatagramBytes - s.headerBytes() - EXCHANGE_FIXED - 8;
  const digest = recentDigest(s, budget, undefined);
  s.metrics.inc('syn_sent', targets.length);
  s.sendAll(targets, {
    type: MsgType.exchange,
    ...s.header(),
    body: {
      hop: 0,
      hash: [s.digest.totalLo, s.digest.totalHi],
      digest,
      covered: [],
      requests: [],
      deltas: [],
    },
  });
}

function recentDigest(s: CoreState, budget: number, skip: Set<string> | undefined): DigestEntry[] {
  const out: DigestEntry[] = [];
  const since = s.now - s.config.recentWindowMs;
  // The last entry of `recent` is the member rehashed last: if even it is old (or gone), nothing is recent.
  if (s.lastRehashAt < since) return out;
  let used = 0;
  for (let i = s.recent.length - 1; i >= 0; i--) {
    const m = s.members.get(s.recent[i]);
    if (!m || m.changedAt < since) break;
    if (skip?.has(m.name)) continue;
    const d = digestOf(m);
    const size = digestEntrySize(d);
    if (used + size > budget || out.length === LIMITS.entries) break;
    used += size;
    out.push(d);
  }
  return out;
}

function bucketHash(s: CoreState, b: number): number {
  return s.digest.bucketHash(b);
}

export function onExchange(s: CoreState, from: Member, body: ExchangeBody): void {
  // 1. Apply what the peer sent.
  for (const d of body.deltas) applyDelta(s, d);
  // 2. Decide what to send back.
  const candidates = new Map<string, DeltaCandidate>();
  const requests: Request[] = [];
  const want = (m: Member, fromVersion: number, priority: number) => {
    // A tombstone about to be forgotten is not offered: the peer may have forgotten it already.
    if (m.expiresAt - s.now < TOMBSTONE_QUIET_MS) return;
    const prev = candidates.get(m.name);
    if (prev === undefined || fromVersion < prev.from)
      candidates.set(m.name, { m, from: fromVersion, priority: Math.max(priority, prev?.priority ?? 0) });
  };
  for (const r of body.requests) {
    const m = s.members.get(r.name);
    if (m) want(m, r.gen === m.gen ? Math.min(r.fromVersion, m.maxVersion) : 0, NEWS_PRIORITY);
  }
  const seen = new Set<string>();
  for (const e of body.digest) {
    seen.add(e.name);
    compareDigest(s, e, want, requests);
  }
  if (body.covered.length > 0) {
    const covered = new Set(body.covered);
    for (const m of s.members.values())
      if (covered.has(m.bucket) && !seen.has(m.name)) want(m, 0, NEWS_PRIORITY + m.maxVersion);
  }
  reply(s, from, body, candidates, requests, seen);
}

/**
 * Our answer to an exchange, in one datagram, if there is anything to say and the exchange may go one hop
 * further: our bucket hashes (to a SYN whose hash differs from ours), then our requests, the deltas of
 * `candidates`, and digest entries (our recent ones but those in `seen`, or those of the buckets whose hashes
 * differ from the peer's).
 */
function reply(
  s: CoreState,
  from: Member,
  body: ExchangeBody,
  candidates: Map<string, DeltaCandidate>,
  requests: Request[],
  seen: Set<string>,
): void {
  const c = s.config;
  let buckets: Uint32Array | undefined;
  let digest: DigestEntry[] = [];
  let coveredOut: number[] = [];
  const budget0 = c.maxDatagramBytes - s.headerBytes() - EXCHANGE_FIXED;
  let budget = budget0;
  if (body.hop === 0) {
    if (body.hash && s.digest.matches(body.hash)) {
      s.metrics.inc('syn_in_sync');
      if (candidates.size === 0 && requests.length === 0) return;
    } else {
      buckets = new Uint32Array(c.buckets);
      for (let b = 0; b < c.buckets; b++) buckets[b] = bucketHash(s, b);
      budget -= 1 + 4 * c.buckets;
    }
  }
  if (body.hop + 1 > c.maxHops) return;
  // Requests first (small), then deltas most-stale-first, then our digest for buckets that differ.
  const reqOut: Request[] = [];
  for (const r of requests) {
    const size = requestSize(r);
    if (size > budget) break;
    budget -= size;
    reqOut.push(r);
  }
  const deltas = buildDeltas([...candidates.values()], budget, s.rng, (m) => claimOf(s, m));
  budget -= deltas.bytes;
  if (buckets !== undefined) {
    digest = recentDigest(s, Math.min(budget, 400), seen);
    for (const d of digest) budget -= digestEntrySize(d);
  } else if (body.buckets && body.buckets.length === c.buckets) {
    // Our digest entries for the buckets whose hashes differ, whole buckets only, from a random start.
    const r = bucketDigest(s.members.values(), s.digest, body.buckets, budget, s.rng);
    digest = r.digest;
    coveredOut = r.covered;
  }
  if (deltas.list.length === 0 && reqOut.length === 0 && digest.length === 0 && buckets === undefined) return;
  s.metrics.inc('exchange_replies');
  s.send(from.name, {
    type: MsgType.exchange,
    ...s.header(),
    body: {
      hop: body.hop + 1,
      buckets,
      digest,
      covered: coveredOut,
      requests: reqOut,
      deltas: deltas.list,
    },
  });
}

function compareDigest(
  s: CoreState,
  e: DigestEntry,
  want: (m: Member, from: number, priority: number) => void,
  requests: Request[],
): void {
  const m = s.members.get(e.name);
  if (m === undefined) {
    const f = s.forgotten.get(e.name);
    if (f && compareIncarnation(e.gen, e.inc, f.gen, f.inc) <= 0) return;
    if (e.name !== s.name) requests.push({ name: e.name, gen: e.gen, fromVersion: 0 });
    return;
  }
  if (supersedes(m, e)) want(m, e.gen === m.gen ? Math.min(e.maxVersion, m.maxVersion) : 0, NEWS_PRIORITY);
  else if (supersedes(e, m)) {
    if (m !== s.self)
      requests.push({ name: e.name, gen: e.gen, fromVersion: e.gen === m.gen ? m.maxVersion : 0 });
    else applySelfClaim(s, { name: e.name, gen: e.gen, inc: e.inc, status: e.status });
  } else if (m.maxVersion > e.maxVersion) want(m, e.maxVersion, m.maxVersion - e.maxVersion);
  else if (e.maxVersion > m.maxVersion && m !== s.self)
    requests.push({ name: e.name, gen: e.gen, fromVersion: m.maxVersion });
}

/**
 * Applies a peer's delta: its claim, then its keys above our `maxVersion` if they follow it without a gap
 * (keys are known as a prefix of their owner's versions).
 */
function applyDelta(s: CoreState, d: Delta): void {
  applyClaim(s, d.claim);
  const m = s.members.get(d.claim.name);
  if (!m || m === s.self || m.gen !== d.claim.gen || d.keys.length === 0) return;
  if (d.fromVersion > m.maxVersion) {
    // A gap: applying would break the prefix invariant (we would claim versions we never saw).
    s.metrics.inc('drop_delta_gap');
    return;
  }
  let changed = false;
  for (const k of d.keys) {
    if (k.version <= m.maxVersion) continue;
    if (!changed) unhash(s, m);
    changed = true;
    m.maxVersion = k.version;
    m.keys.set(keyId(k.channel, k.key), k);
  }
  if (!changed) {
    s.metrics.inc('duplicate_keys');
    return;
  }
  rehash(s, m);
  for (const k of d.keys) if (m.keys.get(keyId(k.channel, k.key)) === k) s.emitKey(m, k);
}
