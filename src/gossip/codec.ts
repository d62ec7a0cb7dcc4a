import { ElexError } from '../core/index.js';
import { type ChannelCode, type KeyEntry, Status, type StatusCode } from './member.js';

/**
 * The binary wire format of every gossip datagram (little-endian, LEB128 varints):
 *
 *   u8 magic 0xE1 | u8 type | str sender | varint gen | varint inc | body
 *
 * str = varint length + UTF-8. Bodies: heartbeat (varint seq), join (empty), rumor (claims), exchange
 * (hop, optional state hash and bucket hashes, digest, covered buckets, requests, deltas), user (bytes: an
 * application payload, memberlist's user message). Decoding checks
 * every length and enum and the ordering rules a delta must obey; anything else is `E_DECODE`.
 */
export const MAGIC = 0xe1;
export const MsgType = { heartbeat: 1, join: 2, exchange: 3, rumor: 4, user: 5 } as const;
export type MsgTypeCode = (typeof MsgType)[keyof typeof MsgType];
export const MSG_KIND_NAMES: Record<MsgTypeCode, string> = {
  1: 'gossip/heartbeat',
  2: 'gossip/join',
  3: 'gossip/exchange',
  4: 'gossip/rumor',
  5: 'gossip/user',
};

export const LIMITS = {
  name: 64,
  key: 128,
  value: 1024,
  entries: 512,
  buckets: 255,
  hops: 16,
} as const;

export interface Header {
  sender: string;
  gen: number;
  inc: number;
}

/** A membership claim about one member as it travels in rumors and delta headers. */
export interface ClaimEntry {
  name: string;
  gen: number;
  inc: number;
  status: StatusCode;
  /** Suspect claims: the monitor that suspects (a confirmation in Lifeguard's sense). */
  origin?: string;
  /** Terminal claims: ms the tombstone has left to live (relative, so clocks need not agree; floored, so
   *  every hop forgets no later than the one before it). */
  ttlMs?: number;
}

export interface DigestEntry {
  name: string;
  gen: number;
  inc: number;
  status: StatusCode;
  maxVersion: number;
}

export interface Request {
  name: string;
  gen: number;
  fromVersion: number;
}

export interface Delta {
  claim: ClaimEntry;
  /** The receiver's known version these keys follow; keys are in ascending version order, all > it. */
  fromVersion: number;
  keys: KeyEntry[];
}

export interface ExchangeBody {
  hop: number;
  hash?: [number, number];
  buckets?: Uint32Array;
  digest: DigestEntry[];
  covered: number[];
  requests: Request[];
  deltas: Delta[];
}

export type Message =
  | (Header & { type: typeof MsgType.heartbeat; seq: number })
  | (Header & { type: typeof MsgType.join })
  | (Header & { type: typeof MsgType.rumor; claims: ClaimEntry[] })
  | (Header & { type: typeof MsgType.exchange; body: ExchangeBody })
  | (Header & { type: typeof MsgType.user; payload: Uint8Array });

// ---- sizes (for the byte budget, computed without encoding) ------------------------------------------

export function varintSize(x: number): number {
  let n = 1;
  while (x >= 0x80) {
    x = Math.floor(x / 0x80);
    n++;
  }
  return n;
}

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Why `s` cannot travel as a wire string of at most `max` UTF-8 bytes that every decoder accepts and
 * returns unchanged (control characters, unpaired surrogates, too long, empty), or undefined if it can.
 * Local names and keys are checked with it: one a peer's decoder refuses would poison every datagram
 * carrying it.
 */
export function wireStringProblem(s: string, max: number, allowEmpty: boolean): string | undefined {
  if (s.length === 0 && !allowEmpty) return 'is empty';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) return 'contains a control character';
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return 'contains an unpaired surrogate';
      i++;
    }
  }
  const n = utf8Length(s);
  return n > max ? `is ${n} bytes of UTF-8, above ${max}` : undefined;
}

export function strSize(s: string): number {
  const n = utf8Length(s);
  return varintSize(n) + n;
}

export function headerSize(h: Header): number {
  return 2 + strSize(h.sender) + varintSize(h.gen) + varintSize(h.inc);
}

export function claimSize(c: ClaimEntry): number {
  let n = strSize(c.name) + varintSize(c.gen) + varintSize(c.inc) + 1;
  if (c.status === Status.suspect) n += strSize(c.origin ?? '');
  else if (c.status >= Status.dead) n += varintSize(c.ttlMs ?? 0);
  return n;
}

export function digestEntrySize(d: DigestEntry): number {
  return strSize(d.name) + varintSize(d.gen) + varintSize(d.inc) + 1 + varintSize(d.maxVersion);
}

export function requestSize(r: Request): number {
  return strSize(r.name) + varintSize(r.gen) + varintSize(r.fromVersion);
}

export function keySize(k: KeyEntry): number {
  return 1 + strSize(k.key) + varintSize(k.version) + varintSize(k.value.length) + k.value.length;
}

/** Bytes of a delta with no keys yet (claim, fromVersion, key count up to 127). */
export function deltaBaseSize(d: Delta): number {
  return claimSize(d.claim) + varintSize(d.fromVersion) + 2;
}

// ---- a lean reader and writer (no DataView per datagram, one encoder for the module) -------------------

const encoder = new TextEncoder();

/** Little-endian writer into a growable buffer; `finish` copies out exactly the bytes written. */
class Writer {
  buf: Uint8Array;
  length = 0;

  constructor(initial: number) {
    this.buf = new Uint8Array(initial);
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(x: number): this {
    if (this.length + 1 > this.buf.length) this.grow(1);
    this.buf[this.length++] = x;
    return this;
  }

  u32(x: number): this {
    if (this.length + 4 > this.buf.length) this.grow(4);
    const b = this.buf;
    let i = this.length;
    b[i++] = x & 0xff;
    b[i++] = (x >>> 8) & 0xff;
    b[i++] = (x >>> 16) & 0xff;
    b[i++] = (x >>> 24) & 0xff;
    this.length = i;
    return this;
  }

  /** Unsigned LEB128, integers up to 2^53. */
  varint(x: number): this {
    if (!(x >= 0 && Number.isSafeInteger(x))) throw new ElexError('E_ENCODE', `varint out of range: ${x}`);
    if (this.length + 8 > this.buf.length) this.grow(8);
    const b = this.buf;
    while (x >= 0x80) {
      b[this.length++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    b[this.length++] = x;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.varint(v.length);
    if (this.length + v.length > this.buf.length) this.grow(v.length);
    this.buf.set(v, this.length);
    this.length += v.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Bounds-checked reader: every read that would run past the end throws `E_DECODE`. */
class Reader {
  offset = 0;

  constructor(readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  u8(): number {
    if (this.offset >= this.buf.length) fail(`truncated at offset ${this.offset}`);
    return this.buf[this.offset++];
  }

  u32(): number {
    const o = this.offset;
    if (o + 4 > this.buf.length) fail(`truncated: need 4 bytes at offset ${o}`);
    const b = this.buf;
    this.offset = o + 4;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        // One encoding per value: a zero last group (0x81 0x00 for 1) is the overlong form the encoder never writes.
        if (b === 0 && i > 0) fail('overlong varint');
        // 8 groups reach 2^56: above 2^53 the value is rounded and could never be encoded again.
        if (result > Number.MAX_SAFE_INTEGER) fail(`varint ${result} above 2^53 - 1`);
        return result;
      }
      mul *= 0x80;
    }
    return fail('varint too long');
  }

  bytes(max: number): Uint8Array {
    const n = this.varint();
    if (n > max) fail(`byte field of ${n} exceeds limit ${max}`);
    if (this.offset + n > this.buf.length) fail(`truncated: need ${n} bytes at offset ${this.offset}`);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  end(): void {
    if (this.remaining !== 0) fail(`${this.remaining} trailing bytes`);
  }
}

/**
 * Printable-ASCII names decoded from the wire are interned: every member's name is one string object
 * however many datagrams carry it, so the cores' maps compare names by pointer and 607 members do not hold
 * 607 copies of each other's names. A pure memo (bounded, cleared when full); it never changes a result.
 */
const INTERN_MAX = 1 << 16;
const interned = new Map<number, string>();

/** The interned string of `buf[start, start + n)` (printable ASCII), whose FNV-1a hash seeded with n is `h`. */
function internAt(buf: Uint8Array, start: number, n: number, h: number): string {
  const hit = interned.get(h);
  if (hit !== undefined && hit.length === n) {
    let same = true;
    for (let i = 0; i < n; i++)
      if (hit.charCodeAt(i) !== buf[start + i]) {
        same = false;
        break;
      }
    if (same) return hit;
  }
  const s = String.fromCharCode.apply(null, buf.subarray(start, start + n) as unknown as number[]);
  if (hit === undefined) {
    if (interned.size >= INTERN_MAX) interned.clear();
    interned.set(h, s);
  }
  return s;
}

// ---- encoding ---------------------------------------------------------------------------------------

function putStr(w: Writer, s: string): void {
  let ascii = true;
  for (let i = 0; i < s.length; i++)
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  if (!ascii) {
    w.bytes(encoder.encode(s));
    return;
  }
  w.varint(s.length);
  for (let i = 0; i < s.length; i++) w.u8(s.charCodeAt(i));
}

function putClaim(w: Writer, c: ClaimEntry): void {
  putStr(w, c.name);
  w.varint(c.gen).varint(c.inc).u8(c.status);
  if (c.status === Status.suspect) putStr(w, c.origin ?? '');
  else if (c.status >= Status.dead) w.varint(c.ttlMs ?? 0);
}

/** One scratch writer for the module: `encode` is synchronous and copies its bytes out with `finish`. */
const scratch = new Writer(2048);

export function encode(m: Message): Uint8Array {
  const w = scratch;
  w.length = 0;
  w.u8(MAGIC).u8(m.type);
  putStr(w, m.sender);
  w.varint(m.gen).varint(m.inc);
  switch (m.type) {
    case MsgType.heartbeat:
      w.varint(m.seq);
      break;
    case MsgType.join:
      break;
    case MsgType.rumor:
      w.varint(m.claims.length);
      for (const c of m.claims) putClaim(w, c);
      break;
    case MsgType.user:
      w.bytes(m.payload);
      break;
    case MsgType.exchange: {
      const b = m.body;
      w.u8(b.hop);
      w.u8((b.hash ? 1 : 0) | (b.buckets ? 2 : 0));
      if (b.hash) w.u32(b.hash[0]).u32(b.hash[1]);
      if (b.buckets) {
        w.u8(b.buckets.length);
        for (let i = 0; i < b.buckets.length; i++) w.u32(b.buckets[i]);
      }
      w.varint(b.digest.length);
      for (const d of b.digest) {
        putStr(w, d.name);
        w.varint(d.gen).varint(d.inc).u8(d.status).varint(d.maxVersion);
      }
      w.varint(b.covered.length);
      for (const c of b.covered) w.u8(c);
      w.varint(b.requests.length);
      for (const r of b.requests) {
        putStr(w, r.name);
        w.varint(r.gen).varint(r.fromVersion);
      }
      w.varint(b.deltas.length);
      for (const d of b.deltas) {
        putClaim(w, d.claim);
        w.varint(d.fromVersion).varint(d.keys.length);
        for (const k of d.keys) {
          w.u8(k.channel);
          putStr(w, k.key);
          w.varint(k.version);
          w.bytes(k.value);
        }
      }
      break;
    }
  }
  return w.finish();
}

// ---- decoding ---------------------------------------------------------------------------------------

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function fail(msg: string): never {
  throw new ElexError('E_DECODE', msg);
}

/** The FNV-1a hash of the last string `getStr` read as printable ASCII (0 otherwise). */
let strHash = 0;

function getStr(r: Reader, max: number, what: string, allowEmpty = false): string {
  const n = r.varint();
  if (n > max) fail(`byte field of ${n} exceeds limit ${max}`);
  const buf = r.buf;
  const start = r.offset;
  if (start + n > buf.length) fail(`truncated: need ${n} bytes at offset ${start}`);
  r.offset = start + n;
  if (n === 0 && !allowEmpty) fail(`empty ${what}`);
  // Printable ASCII (the common case) is read in place, its hash computed on the way for interning.
  let h = 0x811c9dc5 ^ n;
  let ascii = true;
  for (let i = start; i < start + n; i++) {
    const b = buf[i];
    if (b >= 0x80 || b < 0x20) {
      ascii = false;
      break;
    }
    h = Math.imul(h ^ b, 0x01000193);
  }
  strHash = ascii ? h : 0;
  if (ascii)
    return n <= LIMITS.name
      ? internAt(buf, start, n, h)
      : String.fromCharCode.apply(null, buf.subarray(start, start + n) as unknown as number[]);
  const s = decoder.decode(buf.subarray(start, start + n));
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) fail(`control character in ${what}`);
  return s;
}

function getCount(r: Reader, max: number, what: string): number {
  const n = r.varint();
  if (n > max) fail(`${what} count ${n} exceeds ${max}`);
  // Every element takes at least one byte: a count larger than the rest of the message is a lie.
  if (n > r.remaining) fail(`${what} count ${n} exceeds the ${r.remaining} bytes left`);
  return n;
}

function getStatus(r: Reader): StatusCode {
  const s = r.u8();
  if (s > Status.left) fail(`unknown status ${s}`);
  return s as StatusCode;
}

function getClaim(r: Reader): ClaimEntry {
  const name = getStr(r, LIMITS.name, 'member name');
  const gen = r.varint();
  const inc = r.varint();
  const status = getStatus(r);
  const c: ClaimEntry = { name, gen, inc, status };
  if (status === Status.suspect) c.origin = getStr(r, LIMITS.name, 'suspicion origin');
  else if (status >= Status.dead) c.ttlMs = r.varint();
  return c;
}

/**
 * Decodes and validates one datagram. Throws `E_DECODE` (never anything else) on malformed input; the
 * core catches it, counts it and drops the datagram.
 */
/**
 * `maxBytes` bounds every datagram except user messages, whose payload may reach `maxUserBytes` (a
 * datagram above the path MTU is fragmented by IP; the sender chose to pay that).
 */
export function decode(data: Uint8Array, maxBytes: number, maxUserBytes = 0, info?: DecodeInfo): Message {
  try {
    return decodeUnchecked(data, maxBytes, maxUserBytes, info);
  } catch (e) {
    if (e instanceof ElexError && e.code === 'E_DECODE') throw e;
    throw new ElexError('E_DECODE', `malformed datagram: ${(e as Error).message}`);
  }
}

/** What `decode` can report beside the message. */
export interface DecodeInfo {
  /** A 32-bit hash of the sender's name (FNV-1a; 0 for names that are not printable ASCII). */
  senderHash: number;
}

function decodeUnchecked(
  data: Uint8Array,
  maxBytes: number,
  maxUserBytes: number,
  info: DecodeInfo | undefined,
): Message {
  if (data.length > maxBytes + maxUserBytes)
    fail(`datagram of ${data.length} bytes exceeds ${maxBytes + maxUserBytes}`);
  const r = new Reader(data);
  if (r.u8() !== MAGIC) fail('bad magic');
  const type = r.u8();
  if (type !== MsgType.user && data.length > maxBytes)
    fail(`datagram of ${data.length} bytes exceeds ${maxBytes}`);
  const sender = getStr(r, LIMITS.name, 'sender');
  if (info !== undefined) info.senderHash = strHash;
  const gen = r.varint();
  const inc = r.varint();
  let m: Message;
  switch (type) {
    case MsgType.heartbeat:
      m = { type, sender, gen, inc, seq: r.varint() };
      break;
    case MsgType.join:
      m = { type, sender, gen, inc };
      break;
    case MsgType.rumor: {
      const n = getCount(r, LIMITS.entries, 'claim');
      const claims: ClaimEntry[] = [];
      for (let i = 0; i < n; i++) claims.push(getClaim(r));
      m = { type, sender, gen, inc, claims };
      break;
    }
    case MsgType.exchange:
      m = { type, sender, gen, inc, body: getExchange(r) };
      break;
    case MsgType.user: {
      const payload = r.bytes(maxUserBytes).slice();
      if (payload.length === 0) fail('empty user payload');
      m = { type, sender, gen, inc, payload };
      break;
    }
    default:
      fail(`unknown message type ${type}`);
  }
  r.end();
  return m;
}

function getExchange(r: Reader): ExchangeBody {
  const hop = r.u8();
  if (hop > LIMITS.hops) fail(`hop ${hop} exceeds ${LIMITS.hops}`);
  const flags = r.u8();
  if (flags > 3) fail(`unknown exchange flags ${flags}`);
  const body: ExchangeBody = { hop, digest: [], covered: [], requests: [], deltas: [] };
  if (flags & 1) body.hash = [r.u32(), r.u32()];
  if (flags & 2) {
    const n = r.u8();
    if (n === 0) fail('empty bucket vector');
    const b = new Uint32Array(n);
    for (let i = 0; i < n; i++) b[i] = r.u32();
    body.buckets = b;
  }
  const nd = getCount(r, LIMITS.entries, 'digest');
  for (let i = 0; i < nd; i++) {
    const name = getStr(r, LIMITS.name, 'member name');
    const gen = r.varint();
    const inc = r.varint();
    const status = getStatus(r);
    body.digest.push({ name, gen, inc, status, maxVersion: r.varint() });
  }
  const nc = getCount(r, LIMITS.buckets, 'covered bucket');
  for (let i = 0; i < nc; i++) body.covered.push(r.u8());
  const nr = getCount(r, LIMITS.entries, 'request');
  for (let i = 0; i < nr; i++) {
    const name = getStr(r, LIMITS.name, 'member name');
    body.requests.push({ name, gen: r.varint(), fromVersion: r.varint() });
  }
  const nx = getCount(r, LIMITS.entries, 'delta');
  for (let i = 0; i < nx; i++) {
    const claim = getClaim(r);
    const fromVersion = r.varint();
    const nk = getCount(r, LIMITS.entries, 'key');
    const keys: KeyEntry[] = [];
    let last = fromVersion;
    for (let j = 0; j < nk; j++) {
      const channel = r.u8();
      if (channel > 2) fail(`unknown channel ${channel}`);
      const key = getStr(r, LIMITS.key, 'key', true);
      const version = r.varint();
      if (version <= last) fail(`key versions must ascend above ${last}, got ${version}`);
      last = version;
      const value = r.bytes(LIMITS.value).slice();
      keys.push({ channel: channel as ChannelCode, key, version, value });
    }
    body.deltas.push({ claim, fromVersion, keys });
  }
  return body;
}

/** The fields of a heartbeat, filled in place by `decodeHeartbeat`. */
export interface HeartbeatFields {
  sender: string;
  /** A 32-bit hash of the sender's name (FNV-1a), for the receiver's caches. */
  senderHash: number;
  gen: number;
  inc: number;
  seq: number;
}

/** Where `readVarint` stopped (-1: truncated or too long). */
let varintEnd = 0;

/** `Reader.varint` on a bare buffer: the value at `o`, its end in `varintEnd` (-1 where the reader throws). */
function readVarint(buf: Uint8Array, o: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (o >= buf.length) break;
    const b = buf[o++];
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      if ((b === 0 && i > 0) || result > Number.MAX_SAFE_INTEGER) break;
      varintEnd = o;
      return result;
    }
    mul *= 0x80;
  }
  varintEnd = -1;
  return 0;
}

/**
 * The heartbeat fast path: when `data` is a well-formed heartbeat whose sender is a printable-ASCII name,
 * fills `out` with exactly what `decode` would return (same interned sender) and returns true, with no
 * allocation. Returns false for anything else (other types, malformed input), which `decode` then handles.
 */
export function decodeHeartbeat(data: Uint8Array, maxBytes: number, out: HeartbeatFields): boolean {
  const len = data.length;
  if (len > maxBytes || len < 7 || data[1] !== MsgType.heartbeat || data[0] !== MAGIC) return false;
  const n = data[2]; // a one-byte length: names are at most 64 bytes
  if (n === 0 || n > LIMITS.name) return false;
  const end = 3 + n;
  if (end > len) return false;
  let h = 0x811c9dc5 ^ n;
  for (let i = 3; i < end; i++) {
    const b = data[i];
    if (b >= 0x80 || b < 0x20) return false;
    h = Math.imul(h ^ b, 0x01000193);
  }
  const gen = readVarint(data, end);
  if (varintEnd < 0) return false;
  const inc = readVarint(data, varintEnd);
  if (varintEnd < 0) return false;
  const seq = readVarint(data, varintEnd);
  if (varintEnd !== len) return false;
  out.sender = internAt(data, 3, n, h);
  out.senderHash = h;
  out.gen = gen;
  out.inc = inc;
  out.seq = seq;
  return true;
}
