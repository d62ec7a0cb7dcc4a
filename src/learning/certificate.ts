/**
 * Election certificates: the signed votes that made a member its category's aggregator in a term. Members
 * adopt an aggregate only from the member a certificate names for the aggregate's term, so no member can make
 * itself aggregator by writing a term into a delta: it needs an election quorum of the members' signed votes.
 *
 *   varint count, then per vote: varint length + the vote's signed control message (control.ts)
 *
 * The aggregator's vote for itself is implicit: count + 1 must reach the quorum.
 */
import { ByteReader, ByteWriter, ElexError } from '../core/index.js';
import { decodeControl } from './control.js';
import type { Keyring } from './identity.js';

/**
 * Votes that elect an aggregator among n members of which up to f may be Byzantine: ⌈(n + f + 1)/2⌉. Two such
 * quorums share at least f + 1 members, so at least one honest member, who votes once per term: no two
 * members can be certified for one term even when Byzantine voters vote for both. (A simple majority
 * does not survive one double-voter: with n = 5, a Byzantine voter with two honest ones on each side
 * certifies two aggregators.) f = min(⌊threshold · n⌋, ⌊(n − 1)/3⌋), so the n − f others can always elect.
 */
export function electionQuorum(n: number, byzantineThreshold: number): number {
  return Math.ceil((n + faultsTolerated(n, byzantineThreshold) + 1) / 2);
}

/** f: the Byzantine members a category of `n` tolerates (the threshold's share, and below n / 3). */
export function faultsTolerated(n: number, byzantineThreshold: number): number {
  return Math.max(0, Math.min(Math.floor(byzantineThreshold * n), Math.floor((n - 1) / 3)));
}

/** Most votes a certificate may carry (a category of up to 1,024 members). */
export const MAX_CERTIFICATE_VOTES = 1024;

export function encodeCertificate(votes: readonly Uint8Array[]): Uint8Array {
  if (votes.length === 0 || votes.length > MAX_CERTIFICATE_VOTES)
    throw new ElexError('E_ENCODE', `1..${MAX_CERTIFICATE_VOTES} votes per certificate, got ${votes.length}`);
  const w = new ByteWriter(votes.length * 112 + 4);
  w.varint(votes.length);
  for (const v of votes) w.bytes(v);
  return w.finish();
}

/**
 * Checks a certificate against the keyring and the category (its size, or its member ids): every vote signed,
 * granted, for the same member and term, from distinct other members, `quorum` with the aggregator's own
 * (default: a simple majority; `FederatedQTable` passes `electionQuorum`).
 * Given the ids, the aggregator and every voter must be members: a keyring shared with other categories
 * would otherwise let their votes elect an outsider here. Returns whom it elects.
 */
export function verifyCertificate(
  bytes: Uint8Array,
  keys: Keyring,
  members: number | ReadonlySet<string>,
  quorum?: number,
): { leader: string; term: number } {
  const size = typeof members === 'number' ? members : members.size;
  const need = quorum ?? Math.floor(size / 2) + 1;
  const member = (id: string) => typeof members === 'number' || members.has(id);
  const r = new ByteReader(bytes);
  const n = r.varint();
  if (n < 1 || n > MAX_CERTIFICATE_VOTES) throw new ElexError('E_DECODE', `certificate with ${n} votes`);
  // Every vote costs a signature check: a certificate padded to 1,024 votes was checked in full before.
  if (n > size - 1) throw new ElexError('E_CERTIFICATE', `${n} votes for a category of ${size}`);
  let leader: string | null = null;
  let term = -1;
  const voters = new Set<string>();
  for (let i = 0; i < n; i++) {
    const v = decodeControl(r.bytes(1024), keys);
    if (v.type !== 'vote' || v.value !== 1)
      throw new ElexError('E_CERTIFICATE', `entry ${i} is not a granted vote`);
    if (leader === null) {
      leader = v.to;
      term = v.term;
    } else if (v.to !== leader || v.term !== term) {
      throw new ElexError('E_CERTIFICATE', 'votes for different members or terms');
    }
    if (!member(v.from) || !member(v.to))
      throw new ElexError('E_CERTIFICATE', `vote from '${v.from}' for '${v.to}' is not between members`);
    if (v.from === leader || voters.has(v.from))
      throw new ElexError('E_CERTIFICATE', `vote from '${v.from}' counted twice`);
    voters.add(v.from);
  }
  r.end();
  if (voters.size + 1 < need)
    throw new ElexError('E_CERTIFICATE', `${voters.size + 1} of ${size} votes is not a quorum (${need})`);
  return { leader: leader!, term };
}
