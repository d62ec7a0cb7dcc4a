import { ByteReader, ByteWriter, ElexError } from '../core/index.js';
import {
  EMPTY_ENTRIES,
  type Entry,
  EntryType,
  MAX_SNAPSHOT_BYTES,
  type Message,
  MSG_NAMES,
  type MsgType,
  messageSize,
  type SnapshotMeta,
} from './types.js';

/**
 * Binary wire format of a Raft `Message` (layout in docs/raft.md, "Wire format"). The decoder takes only what
 * the encoder writes, so a peer's bytes either become a well-formed `Message` or an `E_DECODE` error: the
 * core never sees a NaN term, an unknown type or a negative index.
 */
export const MESSAGE_FORMAT_VERSION = 1;

export interface DecodeLimits {
  /** Largest encoded message accepted (default 64 MiB). */
  maxBytes?: number;
  /** Most entries in one message (default 100,000). */
  maxEntries?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_MESSAGE_ENTRIES = 100_000;
/** Voters and learners each; far above any real cluster, low enough that a hostile count cannot cost much. */
export const MAX_CONF_MEMBERS = 1_000;

const encodeError = (msg: string) => new ElexError('E_ENCODE', msg);
const decodeError = (msg: string) => new ElexError('E_DECODE', msg);

function checkUint(x: number, field: string): number {
  if (!Number.isSafeInteger(x) || x < 0)
    throw encodeError(`${field} ${x} is not a non-negative safe integer`);
  return x;
}

// Node ids travel as id + 1 so that NONE (-1) is a plain varint 0.
function checkNode(x: number, field: string): number {
  if (!Number.isSafeInteger(x) || x < -1 || x === Number.MAX_SAFE_INTEGER) {
    throw encodeError(`${field} ${x} is not a node id or NONE`);
  }
  return x + 1;
}

/** Encodes `m`; throws `E_ENCODE` for a field the decoder would refuse, so every encoding decodes. */
export function encodeMessage(m: Message): Uint8Array {
  if (!Number.isInteger(m.type) || m.type < 0 || m.type >= MSG_NAMES.length) {
    throw encodeError(`unknown message type ${m.type}`);
  }
  const w = new ByteWriter(messageSize(m) + 32);
  w.u8(MESSAGE_FORMAT_VERSION).u8(m.type);
  w.varint(checkNode(m.from, 'from')).varint(checkNode(m.to, 'to'));
  w.varint(checkUint(m.term, 'term'))
    .varint(checkUint(m.logTerm, 'logTerm'))
    .varint(checkUint(m.index, 'index'));
  w.varint(m.entries.length);
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i];
    if (e.type !== EntryType.Normal && e.type !== EntryType.ConfChange) {
      throw encodeError(`unknown entry type ${e.type}`);
    }
    w.varint(checkUint(e.index, 'entry index')).varint(checkUint(e.term, 'entry term'));
    w.u8(e.type).bytes(e.data);
  }
  w.varint(checkUint(m.commit, 'commit'));
  w.u8(m.reject ? 1 : 0);
  w.varint(checkUint(m.rejectHint, 'rejectHint')).varint(checkUint(m.context, 'context'));
  if (m.snapMeta === null) w.u8(0);
  else {
    const s = m.snapMeta;
    w.u8(1).varint(checkUint(s.index, 'snapMeta index')).varint(checkUint(s.term, 'snapMeta term'));
    for (const [name, ids] of [
      ['voters', s.conf.voters],
      ['learners', s.conf.learners],
    ] as const) {
      if (ids.length > MAX_CONF_MEMBERS)
        throw encodeError(`${name} count ${ids.length} exceeds ${MAX_CONF_MEMBERS}`);
      w.varint(ids.length);
      for (const id of ids) w.varint(checkUint(id, name));
    }
  }
  if (m.chunk === null) w.u8(0);
  else w.u8(1).bytes(m.chunk);
  if (checkUint(m.chunkTotal, 'chunkTotal') > MAX_SNAPSHOT_BYTES)
    throw encodeError(`chunkTotal ${m.chunkTotal} exceeds the snapshot limit ${MAX_SNAPSHOT_BYTES}`);
  w.varint(m.chunkTotal);
  return w.finish();
}

/** A varint, with the field named in the refusal ("term: varint ... above 2^53 - 1"). */
function uint(r: ByteReader, field: string): number {
  try {
    return r.varint();
  } catch (e) {
    throw decodeError(`${field}: ${(e as Error).message}`);
  }
}

function flag(r: ByteReader, field: string): boolean {
  const b = r.u8();
  if (b > 1) throw decodeError(`${field} byte ${b} is not 0 or 1`);
  return b === 1;
}

/** Copies, so that a message (and the log entries it carries) never pins or aliases the caller's buffer. */
function bytesCopy(r: ByteReader, max: number, field: string): Uint8Array {
  const n = uint(r, `${field} length`);
  if (n > max) throw decodeError(`${field} length ${n} exceeds ${max}`);
  // new Uint8Array(view) copies even when the input is a Node Buffer (whose slice() would be a view).
  return new Uint8Array(r.raw(n));
}

function members(r: ByteReader, field: string): number[] {
  const n = uint(r, `${field} count`);
  if (n > MAX_CONF_MEMBERS) throw decodeError(`${field} count ${n} exceeds ${MAX_CONF_MEMBERS}`);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(uint(r, field));
  return ids;
}

/**
 * Decodes one message. Refuses (with `E_DECODE`) input over `maxBytes`, a format version other than 1, an
 * unknown message or entry type, a flag byte other than 0/1, an integer that is not a safe non-negative
 * integer (node ids: ≥ −1), counts over the limits, truncation and trailing bytes. Byte fields (entry data,
 * chunk) are copies: the input buffer may be reused once this returns.
 */
export function decodeMessage(bytes: Uint8Array, limits: DecodeLimits = {}): Message {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_MESSAGE_ENTRIES;
  if (bytes.length > maxBytes) throw decodeError(`message of ${bytes.length} bytes exceeds ${maxBytes}`);
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== MESSAGE_FORMAT_VERSION) throw decodeError(`bad format version ${version}`);
  const type = r.u8();
  if (type >= MSG_NAMES.length) throw decodeError(`unknown message type ${type}`);
  const from = uint(r, 'from') - 1;
  const to = uint(r, 'to') - 1;
  const term = uint(r, 'term');
  const logTerm = uint(r, 'logTerm');
  const index = uint(r, 'index');
  const count = uint(r, 'entry count');
  if (count > maxEntries) throw decodeError(`entry count ${count} exceeds ${maxEntries}`);
  let entries: readonly Entry[] = EMPTY_ENTRIES;
  if (count > 0) {
    const list: Entry[] = [];
    for (let i = 0; i < count; i++) {
      const eIndex = uint(r, 'entry index');
      const eTerm = uint(r, 'entry term');
      const eType = r.u8();
      if (eType !== EntryType.Normal && eType !== EntryType.ConfChange) {
        throw decodeError(`unknown entry type ${eType}`);
      }
      const data = bytesCopy(r, maxBytes, 'entry data');
      list.push({ index: eIndex, term: eTerm, type: eType, data });
    }
    entries = list;
  }
  const commit = uint(r, 'commit');
  const reject = flag(r, 'reject');
  const rejectHint = uint(r, 'rejectHint');
  const context = uint(r, 'context');
  let snapMeta: SnapshotMeta | null = null;
  if (flag(r, 'snapMeta presence')) {
    const sIndex = uint(r, 'snapMeta index');
    const sTerm = uint(r, 'snapMeta term');
    const voters = members(r, 'voters');
    const learners = members(r, 'learners');
    snapMeta = { index: sIndex, term: sTerm, conf: { voters, learners } };
  }
  const chunk = flag(r, 'chunk presence') ? bytesCopy(r, maxBytes, 'chunk') : null;
  const chunkTotal = uint(r, 'chunkTotal');
  if (chunkTotal > MAX_SNAPSHOT_BYTES)
    throw decodeError(`chunkTotal ${chunkTotal} exceeds the snapshot limit ${MAX_SNAPSHOT_BYTES}`);
  r.end();
  return {
    type: type as MsgType,
    from,
    to,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject,
    rejectHint,
    context,
    snapMeta,
    chunk,
    chunkTotal,
  };
}
