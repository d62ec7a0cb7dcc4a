import type { Rng } from '../core/index.js';
import {
  type ClaimEntry,
  type Delta,
  type DigestEntry,
  deltaBaseSize,
  digestEntrySize,
  keySize,
  LIMITS,
  strSize,
  varintSize,
} from './codec.js';
import type { DigestIndex } from './digest.js';
import type { KeyEntry, Member } from './member.js';

/** A member whose state a peer lacks, from which version on, and how urgently. */
export interface DeltaCandidate {
  m: Member;
  from: number;
  /** Higher goes first: membership news (NEWS_PRIORITY), then the most versions behind (most-stale-first). */
  priority: number;
}

/** Fixed bytes of an exchange beyond the header: hop, flags, four list counts (up to 16383 each). */
export const EXCHANGE_FIXED = 2 + 4 * 2;

/** Bytes of the largest varint the wire carries (2^53 − 1). */
const MAX_VARINT = 8;

/**
 * The largest value under `key` of the member (`name`, `gen`) that fits, as the only key of a delta, in an
 * exchange of `maxBytes` from any member: the longest sender name with the largest generation and
 * incarnation, the claim about the owner at the largest incarnation with the longest suspicion origin, the
 * largest versions. Deltas are prefixes, so a key that fits no exchange would block every later key of its
 * owner forever.
 */
export function valueRoom(maxBytes: number, name: string, gen: number, key: string): number {
  const header = 2 + strSize('x'.repeat(LIMITS.name)) + 2 * MAX_VARINT;
  const claim = strSize(name) + varintSize(gen) + MAX_VARINT + 1 + strSize('x'.repeat(LIMITS.name));
  const delta = claim + MAX_VARINT + 2; // deltaBaseSize: fromVersion, key count
  const entry = 1 + strSize(key) + MAX_VARINT + varintSize(LIMITS.value); // keySize without the value
  return maxBytes - header - EXCHANGE_FIXED - delta - entry;
}

/** Priority of membership news and explicit requests: ahead of any key backlog. */
export const NEWS_PRIORITY = 1e9;

export function digestOf(m: Member): DigestEntry {
  return { name: m.name, gen: m.gen, inc: m.inc, status: m.status, maxVersion: m.maxVersion };
}

/**
 * Deltas that fit in `budget` bytes: most-stale-first, ties broken at random so that no member starves
 * behind another; each member's keys in ascending version order above `from`, cut where the budget ends
 * (a prefix, so the receiver can advance its `maxVersion` to the last key it got).
 */
export function buildDeltas(
  cands: DeltaCandidate[],
  budget: number,
  rng: Rng,
  claimOf: (m: Member) => ClaimEntry,
): { list: Delta[]; bytes: number } {
  const list: Delta[] = [];
  let bytes = 0;
  if (cands.length === 0) return { list, bytes };
  const keyed = cands.map((x) => ({ x, r: rng.next() }));
  keyed.sort((a, b) => b.x.priority - a.x.priority || a.r - b.r);
  for (const { x } of keyed) {
    // Whatever the byte budget allows, a decoder takes at most LIMITS.entries deltas, and keys per delta.
    if (list.length === LIMITS.entries) break;
    const d: Delta = { claim: claimOf(x.m), fromVersion: x.from, keys: [] };
    let s = deltaBaseSize(d);
    if (s > budget - bytes) break;
    const keys: KeyEntry[] = [];
    for (const k of x.m.keys.values()) if (k.version > x.from) keys.push(k);
    keys.sort((a, b) => a.version - b.version);
    for (const k of keys) {
      const ks = keySize(k);
      if (s + ks > budget - bytes || d.keys.length === LIMITS.entries) break;
      s += ks;
      d.keys.push(k);
    }
    // Key backlog that cannot make progress in this datagram waits; membership news goes out bare.
    if (keys.length > 0 && d.keys.length === 0 && x.priority < NEWS_PRIORITY) break;
    bytes += s;
    list.push(d);
  }
  return { list, bytes };
}

/**
 * Our digest entries for the buckets whose hashes differ from `theirs`: whole buckets only (a bucket is
 * "covered" only if all of it fits, so the peer may conclude that what is absent from it we lack), starting
 * at a random bucket so that successive exchanges cover different ones. Entries the peer already sent us are
 * listed too: left out, the peer would take them for members we lack and resend them from version 0.
 */
export function bucketDigest(
  members: Iterable<Member>,
  index: DigestIndex,
  theirs: Uint32Array,
  budget: number,
  rng: Rng,
): { digest: DigestEntry[]; covered: number[] } {
  const nb = index.buckets;
  const differing: number[] = [];
  const start = rng.int(nb);
  for (let i = 0; i < nb; i++) {
    const b = (start + i) % nb;
    if (theirs[b] !== index.bucketHash(b)) differing.push(b);
  }
  if (differing.length === 0) return { digest: [], covered: [] };
  const byBucket = new Map<number, DigestEntry[]>();
  for (const b of differing) byBucket.set(b, []);
  for (const m of members) byBucket.get(m.bucket)?.push(digestOf(m));
  const digest: DigestEntry[] = [];
  const covered: number[] = [];
  for (const b of differing) {
    const entries = byBucket.get(b) ?? [];
    let s = 1;
    for (const d of entries) s += digestEntrySize(d);
    // Whole buckets only, and no more entries than a decoder accepts in one list.
    if (s > budget || digest.length + entries.length > LIMITS.entries) continue;
    budget -= s;
    covered.push(b);
    for (const d of entries) digest.push(d);
  }
  return { digest, covered };
}
