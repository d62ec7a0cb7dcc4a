/**
 * Signed Q-table deltas on the wire.
 *
 *   u16 magic 0x5144 ('DQ'), u8 format version (2), u8 kind (0 peer delta, 1 aggregate; + 0x80: addressed)
 *   str origin (≤ 64 bytes), [str to (≤ 64 bytes) when addressed], varint term, varint round, varint interactions (own interactions covered)
 *   varint epoch (the origin's life: larger after each restart), varint seq (the origin's deltas in this life, from 1)
 *   varint count (entries), varint groups (distinct states), u32 checksum (FNV-1a of the body)
 *   body: per state, strictly increasing: u32 lo, u32 hi, u8 action mask, then per action in the mask:
 *         f32 q, varint visits (claimed lifetime), varint fresh (own visits since the last sync)
 *   64-byte Ed25519 signature over everything before it
 *
 * The decoder refuses malformed, truncated, oversized, non-canonical and badly signed input with a reason
 * (`E_DECODE`, `E_OVERSIZE`, `E_SIGNATURE`); the contents are then checked by `validateDelta`.
 */
import { ByteReader, ByteWriter, ElexError, fnv1a } from '../core/index.js';
import { MAX_TERM } from './control.js';
import { type Identity, type Keyring, SIGNATURE_BYTES, signBytes, verifyBytes } from './identity.js';

export const DELTA_MAGIC = 0x5144;
/** Format 2 added (epoch, seq), which replay protection needs; format 1 is refused. */
export const DELTA_FORMAT = 2;
export const MAX_DELTA_BYTES = 16 * 1024 * 1024;
export const MAX_DELTA_ENTRIES = 1 << 20;
export const MAX_ORIGIN_BYTES = 64;
/** Actions per state a delta can carry (its action mask is one byte). */
export const MAX_DELTA_ACTIONS = 8;
const U32_MAX = 0xffffffff;
/** Flag in the kind byte: a recipient follows the origin. */
const ADDRESSED = 0x80;

export type DeltaKind = 'peer' | 'aggregate';

/** A delta in memory, columnar. */
export interface Delta {
  kind: DeltaKind;
  origin: string;
  /**
   * The one member this delta is for, signed with it (absent: any receiver). `FederatedQTable` addresses every
   * delta, so one it sent to a member cannot be forwarded to another and counted twice.
   */
  to?: string;
  term: number;
  round: number;
  interactions: number;
  /**
   * The origin's life number, kept durably by it and larger after each restart, and this delta's place among
   * the origin's deltas in that life (from 1). Receivers refuse a (epoch, seq) they have taken already or
   * that is older than their window (`ReplayGuard`). 0 and 0: not stamped (a delta not yet sent).
   */
  epoch: number;
  seq: number;
  count: number;
  hi: Uint32Array;
  lo: Uint32Array;
  action: Uint8Array;
  q: Float32Array;
  visits: Uint32Array;
  fresh: Uint32Array;
}

export function emptyDelta(kind: DeltaKind, origin: string, count: number): Delta {
  return {
    kind,
    origin,
    term: 0,
    round: 0,
    interactions: 0,
    epoch: 0,
    seq: 0,
    count,
    hi: new Uint32Array(count),
    lo: new Uint32Array(count),
    action: new Uint8Array(count),
    q: new Float32Array(count),
    visits: new Uint32Array(count),
    fresh: new Uint32Array(count),
  };
}

/** `d` with only the entries at the indexes `keep` (in that order); its header is kept. */
export function selectEntries(d: Delta, keep: readonly number[]): Delta {
  const c = emptyDelta(d.kind, d.origin, keep.length);
  keep.forEach((i, j) => {
    c.hi[j] = d.hi[i];
    c.lo[j] = d.lo[i];
    c.action[j] = d.action[i];
    c.q[j] = d.q[i];
    c.visits[j] = d.visits[i];
    c.fresh[j] = d.fresh[i];
  });
  const { hi, lo, action, q, visits, fresh } = c;
  return { ...d, count: keep.length, hi, lo, action, q, visits, fresh };
}

function order(d: Delta): Int32Array {
  const idx = new Int32Array(d.count);
  for (let i = 0; i < d.count; i++) idx[i] = i;
  idx.sort((a, b) => d.hi[a] - d.hi[b] || d.lo[a] - d.lo[b] || d.action[a] - d.action[b]);
  return idx;
}

/** Bytes of the varint of `x` (a non-negative safe integer). */
export function varintBytes(x: number): number {
  let n = 1;
  while (x >= 0x80) {
    x = Math.floor(x / 0x80);
    n++;
  }
  return n;
}

/** Body bytes of one state's group header (u32 lo, u32 hi, u8 action mask). */
export const DELTA_STATE_BYTES = 9;

/** Body bytes of one entry (f32 q, varint visits, varint fresh), its state's group header aside. */
export function deltaEntryBytes(visits: number, fresh: number): number {
  return 4 + varintBytes(visits) + varintBytes(fresh);
}

/**
 * The most bytes a delta takes outside its body, whatever its numbers: magic, format, kind, origin and
 * recipient (≤ 64 bytes each, with their length), seven varints (< 2^53: ≤ 8 bytes each), checksum, signature.
 */
export const DELTA_FRAME_BYTES = 4 + 2 * (1 + MAX_ORIGIN_BYTES) + 7 * 8 + 4 + SIGNATURE_BYTES;

/**
 * An upper bound of `d`'s encoded size in bytes (at most `DELTA_FRAME_BYTES` more than it): its body counted
 * exactly when `grouped` (sorting its entries by state, as the encoder does), else as if every entry were a
 * state of its own, which needs no sort.
 */
export function encodedDeltaBytesBound(d: Delta, grouped = false): number {
  let bytes = DELTA_FRAME_BYTES;
  for (let i = 0; i < d.count; i++) bytes += deltaEntryBytes(d.visits[i], d.fresh[i]);
  if (!grouped) return bytes + d.count * DELTA_STATE_BYTES;
  const idx = order(d);
  for (let i = 0; i < d.count; i++) {
    const e = idx[i];
    const p = idx[i - 1];
    if (i === 0 || d.hi[e] !== d.hi[p] || d.lo[e] !== d.lo[p]) bytes += DELTA_STATE_BYTES;
  }
  return bytes;
}

/** Encodes and signs. Entries may be in any order; duplicates (same state and action) are refused. */
export function encodeDelta(d: Delta, signer: Identity): Uint8Array {
  if (d.origin !== signer.id) {
    throw new ElexError('E_ENCODE', `identity ${signer.id} cannot sign a delta from ${d.origin}`);
  }
  return encodeDeltaUnchecked(d, signer);
}

/** Encodes `d` signed by `signer` whatever `d.origin` says (for tests and the forged-origin attack). */
export function encodeDeltaUnchecked(d: Delta, signer: Identity): Uint8Array {
  // As for control messages: never write a term every decoder refuses.
  if (d.term > MAX_TERM) throw new ElexError('E_ENCODE', `delta term ${d.term} exceeds ${MAX_TERM}`);
  if (d.count > MAX_DELTA_ENTRIES)
    throw new ElexError('E_OVERSIZE', `${d.count} entries exceed ${MAX_DELTA_ENTRIES}`);
  const idx = order(d);
  const body = new ByteWriter(16 + d.count * 10);
  let groups = 0;
  let i = 0;
  while (i < d.count) {
    const e0 = idx[i];
    const hi = d.hi[e0];
    const lo = d.lo[e0];
    let j = i;
    let mask = 0;
    while (j < d.count && d.hi[idx[j]] === hi && d.lo[idx[j]] === lo) {
      const a = d.action[idx[j]];
      if (a > 7) throw new ElexError('E_ENCODE', `action ${a} does not fit the 8-action mask`);
      if (mask & (1 << a))
        throw new ElexError('E_ENCODE', `duplicate entry for state ${hi}:${lo} action ${a}`);
      mask |= 1 << a;
      j++;
    }
    body.u32(lo).u32(hi).u8(mask);
    for (let k = i; k < j; k++) {
      const e = idx[k];
      body.f32(d.q[e]).varint(d.visits[e]).varint(d.fresh[e]);
    }
    groups++;
    i = j;
  }
  const bodyBytes = body.finish();
  const w = new ByteWriter(bodyBytes.length + 96);
  w.u16(DELTA_MAGIC)
    .u8(DELTA_FORMAT)
    .u8((d.kind === 'peer' ? 0 : 1) | (d.to === undefined ? 0 : ADDRESSED));
  const origin = new TextEncoder().encode(d.origin);
  if (origin.length === 0 || origin.length > MAX_ORIGIN_BYTES) {
    throw new ElexError('E_ENCODE', `origin must be 1..${MAX_ORIGIN_BYTES} bytes`);
  }
  w.bytes(origin);
  if (d.to !== undefined) {
    const to = new TextEncoder().encode(d.to);
    if (to.length === 0 || to.length > MAX_ORIGIN_BYTES)
      throw new ElexError('E_ENCODE', `recipient must be 1..${MAX_ORIGIN_BYTES} bytes`);
    w.bytes(to);
  }
  w.varint(d.term).varint(d.round).varint(d.interactions).varint(d.epoch).varint(d.seq);
  w.varint(d.count).varint(groups);
  w.u32(fnv1a(bodyBytes)).raw(bodyBytes);
  const unsigned = w.finish();
  const sig = signBytes(signer, unsigned);
  const out = new Uint8Array(unsigned.length + SIGNATURE_BYTES);
  out.set(unsigned, 0);
  out.set(sig, unsigned.length);
  return out;
}

function fail(code: string, reason: string): never {
  throw new ElexError(code, reason);
}

export interface DecodeOptions {
  maxBytes?: number;
  maxEntries?: number;
  /** Actions per state (entries with a higher action are refused). Default 5. */
  actions?: number;
}

/** Decodes and verifies the signature against the claimed origin's key. Throws a typed error with a reason. */
export function decodeDelta(bytes: Uint8Array, keys: Keyring, opts: DecodeOptions = {}): Delta {
  const maxBytes = opts.maxBytes ?? MAX_DELTA_BYTES;
  const maxEntries = opts.maxEntries ?? MAX_DELTA_ENTRIES;
  const actions = opts.actions ?? 5;
  if (bytes.length > maxBytes) fail('E_OVERSIZE', `delta of ${bytes.length} bytes exceeds ${maxBytes}`);
  if (bytes.length < 8 + SIGNATURE_BYTES)
    fail('E_DECODE', `truncated: ${bytes.length} bytes is shorter than any delta`);
  const signed = bytes.subarray(0, bytes.length - SIGNATURE_BYTES);
  const sig = bytes.subarray(bytes.length - SIGNATURE_BYTES);
  const r = new ByteReader(signed);
  if (r.u16() !== DELTA_MAGIC) fail('E_DECODE', 'bad magic: not a Q-table delta');
  const format = r.u8();
  if (format !== DELTA_FORMAT) fail('E_DECODE', `unsupported delta format ${format}`);
  const flags = r.u8();
  const kindByte = flags & ~ADDRESSED;
  if (kindByte > 1) fail('E_DECODE', `unknown delta kind ${flags}`);
  const origin = r.str(MAX_ORIGIN_BYTES);
  if (origin.length === 0) fail('E_DECODE', 'empty origin');
  let to: string | undefined;
  if (flags & ADDRESSED) {
    to = r.str(MAX_ORIGIN_BYTES);
    if (to.length === 0) fail('E_DECODE', 'empty recipient');
  }
  const term = r.varint();
  const round = r.varint();
  const interactions = r.varint();
  const epoch = r.varint();
  const seq = r.varint();
  const count = r.varint();
  const groups = r.varint();
  // As for control messages: a term no election can certify, or numbers past 2^53 (they lost precision, and
  // a receiver's ack of such a round could not be encoded), are refused here, not later as E_ENCODE.
  if (term > MAX_TERM) fail('E_DECODE', `delta term ${term} exceeds ${MAX_TERM}`);
  if (!Number.isSafeInteger(round) || !Number.isSafeInteger(interactions))
    fail('E_DECODE', `delta round ${round} or interactions ${interactions} out of range`);
  if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(seq))
    fail('E_DECODE', `delta epoch ${epoch} or seq ${seq} out of range`);
  if (count > maxEntries) fail('E_OVERSIZE', `${count} entries exceed the limit of ${maxEntries}`);
  if (groups > count) fail('E_DECODE', `${groups} states for ${count} entries`);
  // Each entry needs at least 6 body bytes and each state 9: refuse counts the bytes cannot hold.
  if (count * 6 + groups * 9 > r.remaining)
    fail('E_DECODE', `truncated: ${count} entries cannot fit ${r.remaining} bytes`);
  const checksum = r.u32();
  if (fnv1a(signed, r.offset, signed.length) !== checksum) fail('E_DECODE', 'checksum mismatch');
  const key = keys.publicKey(origin);
  if (!key) fail('E_SIGNATURE', `unknown origin '${origin}'`);
  if (!verifyBytes(key, signed, sig)) fail('E_SIGNATURE', `bad signature for origin '${origin}'`);
  const d = emptyDelta(kindByte === 0 ? 'peer' : 'aggregate', origin, count);
  if (to !== undefined) d.to = to;
  d.term = term;
  d.round = round;
  d.interactions = interactions;
  d.epoch = epoch;
  d.seq = seq;
  let n = 0;
  let prevHi = -1;
  let prevLo = -1;
  for (let g = 0; g < groups; g++) {
    const lo = r.u32();
    const hi = r.u32();
    if (hi < prevHi || (hi === prevHi && lo <= prevLo))
      fail('E_DECODE', 'states are not strictly increasing');
    prevHi = hi;
    prevLo = lo;
    const mask = r.u8();
    if (mask === 0) fail('E_DECODE', 'empty action mask');
    if (mask >>> actions !== 0) fail('E_DECODE', `action mask ${mask} names an action ≥ ${actions}`);
    for (let a = 0; a < 8; a++) {
      if ((mask & (1 << a)) === 0) continue;
      if (n >= count) fail('E_DECODE', `more entries than the declared ${count}`);
      d.hi[n] = hi;
      d.lo[n] = lo;
      d.action[n] = a;
      d.q[n] = r.f32();
      const v = r.varint();
      const f = r.varint();
      if (v > U32_MAX || f > U32_MAX) fail('E_DECODE', 'visit count exceeds u32');
      d.visits[n] = v;
      d.fresh[n] = f;
      n++;
    }
  }
  if (n !== count) fail('E_DECODE', `declared ${count} entries, found ${n}`);
  if (r.remaining !== 0) fail('E_DECODE', `${r.remaining} trailing bytes`);
  return d;
}
