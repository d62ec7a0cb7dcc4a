import { ByteReader, ByteWriter, ElexError, type StateMachine } from '../core/index.js';

/**
 * The replicated key-value machine: put, delete, compare-and-set and (log) get, with client sessions so a
 * retried command executes at most once (thesis §6.3): each command carries (client, seq); a replica that
 * already executed `seq` for that client answers with the remembered result instead of executing again.
 * A client opens its session with a `Register` command, and the session's id is that entry's index: unique and
 * never reused, so a command naming an id the table does not hold is refused (`E_SESSION_EXPIRED`), never
 * executed as new. The session table is bounded: past `maxSessions` the least recently used session expires
 * (thesis §6.3.1). Recency is the order of applied commands, so every replica expires the same session at the
 * same index.
 */
export const KvOp = { Put: 1, Delete: 2, Cas: 3, Get: 4, Register: 5 } as const;
export type KvOp = (typeof KvOp)[keyof typeof KvOp];

export type KvCommand = (
  | { op: typeof KvOp.Put; client: number; seq: number; key: string; value: string }
  | { op: typeof KvOp.Delete; client: number; seq: number; key: string }
  | { op: typeof KvOp.Cas; client: number; seq: number; key: string; expected: string | null; value: string }
  | { op: typeof KvOp.Get; client: number; seq: number; key: string }
  /** Opens a session. `seq` is the caller's nonce, only for finding its answer; the answer's value is the id. */
  | { op: typeof KvOp.Register; client: 0; seq: number; key: '' }
) & {
  /**
   * A node's own session for the writes that bring none. A register with it opens a private session, which only
   * commands with it may name (and they no other): session ids are log indices, easy to guess, and a client
   * naming a node's session could move its seq past the node's or answer the node's next write with its own
   * result. The HTTP API never sets it.
   */
  private?: boolean;
};

/** A command naming a private session without the flag, or a client's session with it: refused, not executed. */
export const SESSION_PRIVATE = 'E_SESSION_PRIVATE';
/** The op byte's high bit: the command's `private` flag. */
const PRIVATE_BIT = 0x80;

/** A command in a session that expired, or was never opened: refused, not executed. */
export const SESSION_EXPIRED = 'E_SESSION_EXPIRED';

export interface KvResult {
  /** false: a failed CAS, or a refused command (`error` says why). */
  ok: boolean;
  /** The value before the command (put, delete, cas) or the value read (get). */
  value: string | null;
  error?: string;
}

const MAX_KEY = 1024;
const MAX_VALUE = 1 << 20;
/** The most UTF-8 bytes a key and a value may have: the decoder refuses a command with more (E_DECODE). */
export const KV_LIMITS = { keyBytes: MAX_KEY, valueBytes: MAX_VALUE } as const;

export function encodeKv(c: KvCommand): Uint8Array {
  const w = new ByteWriter(32 + c.key.length + ('value' in c ? c.value.length : 0));
  w.u8(c.op | (c.private ? PRIVATE_BIT : 0))
    .varint(c.client)
    .varint(c.seq)
    .str(c.key);
  if (c.op === KvOp.Put) w.str(c.value);
  else if (c.op === KvOp.Cas) {
    w.u8(c.expected === null ? 0 : 1);
    if (c.expected !== null) w.str(c.expected);
    w.str(c.value);
  }
  return w.finish();
}

/** Strict decoder: unknown ops, oversize fields and trailing bytes are errors (E_DECODE). */
export function decodeKv(data: Uint8Array): KvCommand {
  const r = new ByteReader(data);
  const byte = r.u8();
  const op = byte & ~PRIVATE_BIT;
  const client = r.varint();
  const seq = r.varint();
  const key = r.str(MAX_KEY);
  if (client !== 0 && seq === 0) throw new ElexError('E_DECODE', 'a session command needs a seq ≥ 1');
  let c: KvCommand;
  switch (op) {
    case KvOp.Register:
      if (client !== 0 || key !== '')
        throw new ElexError('E_DECODE', 'a register names no client and no key');
      c = { op, client, seq, key };
      break;
    case KvOp.Put:
      c = { op, client, seq, key, value: r.str(MAX_VALUE) };
      break;
    case KvOp.Delete:
    case KvOp.Get:
      c = { op, client, seq, key };
      break;
    case KvOp.Cas: {
      const has = r.u8();
      if (has > 1) throw new ElexError('E_DECODE', `bad CAS flag ${has}`);
      const expected = has === 1 ? r.str(MAX_VALUE) : null;
      c = { op, client, seq, key, expected, value: r.str(MAX_VALUE) };
      break;
    }
    default:
      throw new ElexError('E_DECODE', `unknown kv op ${op}`);
  }
  r.end();
  if (byte & PRIVATE_BIT) c.private = true;
  return c;
}

interface Session {
  seq: number;
  result: KvResult;
  /** Opened by a private register: only private commands may name it (`KvCommand.private`). */
  private?: boolean;
}

/**
 * Sessions kept by default. Exactly-once holds for a client whose retries end before this many other clients
 * have written (a KvClient's deadline is 10 s). Every replica must use the same bound: it decides which
 * commands are repeats, so replicas with different bounds could diverge.
 */
export const DEFAULT_MAX_SESSIONS = 10_000;

export interface KvMachineOptions {
  /** Sessions kept before the least recently used expires (default `DEFAULT_MAX_SESSIONS`). */
  maxSessions?: number;
}

export class KvStateMachine implements StateMachine {
  private data = new Map<string, string>();
  /** In recency order, least recently used first (a Map iterates in insertion order; use re-inserts). */
  private table = new Map<number, Session>();
  private readonly maxSessions: number;
  appliedIndex = 0;
  /** Sessions expired by the bound since this replica started (not replicated; for status). */
  sessionsExpired = 0;
  /**
   * Expirations at or below this index are not counted: a restart re-applies its log from the snapshot, and its
   * earlier life had counted those (a restarted node reported them again; a review of session 25).
   */
  countExpiredAfter = 0;

  /** `onExecute` observes every command that actually executes (not deduplicated): for the campaign's oracle. */
  constructor(
    private readonly onExecute?: (client: number, seq: number, index: number) => void,
    o: KvMachineOptions = {},
  ) {
    this.maxSessions = o.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (!Number.isSafeInteger(this.maxSessions) || this.maxSessions < 1)
      throw new ElexError('E_CONFIG', `maxSessions must be an integer ≥ 1, got ${o.maxSessions}`);
  }

  /** Client sessions held. */
  get sessions(): number {
    return this.table.size;
  }

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  get size(): number {
    return this.data.size;
  }

  /** The answer the machine remembers for `client`'s `seq`, if that is its session's last command. */
  sessionAnswer(client: number, seq: number): KvResult | undefined {
    const s = this.table.get(client);
    return s !== undefined && s.seq === seq && seq > 0 ? s.result : undefined;
  }

  /** Highest seq executed for `client` (0 if none). */
  sessionSeq(client: number): number {
    return this.table.get(client)?.seq ?? 0;
  }

  apply(index: number, command: Uint8Array): KvResult {
    this.appliedIndex = index;
    if (command.length === 0) return { ok: true, value: null }; // leader no-ops
    let c: KvCommand;
    try {
      c = decodeKv(command);
    } catch (e) {
      return { ok: false, value: null, error: e instanceof ElexError ? e.code : 'E_DECODE' };
    }
    if (c.op === KvOp.Register) {
      // The id is this entry's index: no other register can get it, and no expired session can come back.
      const s: Session = { seq: 0, result: { ok: true, value: null } };
      if (c.private) s.private = true;
      this.touch(index, s);
      this.onExecute?.(0, c.seq, index);
      return { ok: true, value: String(index) };
    }
    if (c.client !== 0) {
      const s = this.table.get(c.client);
      // Expired (its last answer is gone, so a retry cannot be told from a new command) or never opened.
      if (s === undefined) return { ok: false, value: null, error: SESSION_EXPIRED };
      if ((s.private ?? false) !== (c.private ?? false))
        return { ok: false, value: null, error: SESSION_PRIVATE };
      if (c.seq <= s.seq) {
        this.touch(c.client, s);
        return c.seq === s.seq ? s.result : { ok: false, value: null, error: 'E_STALE_SEQ' };
      }
    }
    const prev = this.data.get(c.key) ?? null;
    let result: KvResult;
    switch (c.op) {
      case KvOp.Put:
        this.data.set(c.key, c.value);
        result = { ok: true, value: prev };
        break;
      case KvOp.Delete:
        this.data.delete(c.key);
        result = { ok: true, value: prev };
        break;
      case KvOp.Cas:
        if (prev === c.expected) {
          this.data.set(c.key, c.value);
          result = { ok: true, value: prev };
        } else result = { ok: false, value: prev };
        break;
      case KvOp.Get:
        result = { ok: true, value: prev };
        break;
    }
    if (c.client !== 0) {
      const s: Session = { seq: c.seq, result };
      if (c.private) s.private = true;
      this.touch(c.client, s);
    }
    this.onExecute?.(c.client, c.seq, index);
    return result;
  }

  /** `client` becomes the most recently used session; past the bound the least recently used one expires. */
  private touch(client: number, s: Session): void {
    this.table.delete(client);
    this.table.set(client, s);
    if (this.table.size > this.maxSessions) {
      const oldest = this.table.keys().next().value as number;
      this.table.delete(oldest);
      if (this.appliedIndex > this.countExpiredAfter) this.sessionsExpired++;
    }
  }

  snapshot(): Uint8Array {
    const w = new ByteWriter(256);
    w.varint(this.appliedIndex);
    const keys = [...this.data.keys()].sort();
    w.varint(keys.length);
    for (const k of keys) w.str(k).str(this.data.get(k)!);
    // Sessions in recency order: a replica restored from this expires the same sessions as one that applied it.
    w.varint(this.table.size);
    for (const [c, s] of this.table) {
      w.varint(c)
        .varint(s.seq)
        .u8((s.result.ok ? 1 : 0) | (s.result.value === null ? 0 : 2) | (s.private ? 4 : 0));
      if (s.result.value !== null) w.str(s.result.value);
      w.str(s.result.error ?? '');
    }
    return w.finish();
  }

  restore(snapshot: Uint8Array, index: number): void {
    const r = new ByteReader(snapshot);
    const at = r.varint();
    if (at !== index) throw new ElexError('E_DECODE', `snapshot taken at ${at}, restored as ${index}`);
    const data = new Map<string, string>();
    const nk = r.varint();
    let prev: string | undefined;
    for (let i = 0; i < nk; i++) {
      const k = r.str(MAX_KEY);
      // Sorted and each once, as `snapshot` writes them: a key twice (the last value won) or out of order was
      // a snapshot no replica wrote, and the restored replica's own snapshot was other bytes.
      if (prev !== undefined && k <= prev)
        throw new ElexError('E_DECODE', `snapshot keys not strictly ascending at ${JSON.stringify(k)}`);
      prev = k;
      data.set(k, r.str(MAX_VALUE));
    }
    const sessions = new Map<number, Session>();
    const ns = r.varint();
    if (ns > this.maxSessions)
      throw new ElexError(
        'E_DECODE',
        `snapshot holds ${ns} sessions, more than this machine's ${this.maxSessions}`,
      );
    for (let i = 0; i < ns; i++) {
      const c = r.varint();
      if (sessions.has(c)) throw new ElexError('E_DECODE', `snapshot holds client ${c}'s session twice`);
      const seq = r.varint();
      const flags = r.u8();
      if (flags > 7) throw new ElexError('E_DECODE', `bad session flags ${flags}`);
      const value = flags & 2 ? r.str(MAX_VALUE) : null;
      const err = r.str(256);
      const s: Session = {
        seq,
        result: err ? { ok: (flags & 1) === 1, value, error: err } : { ok: (flags & 1) === 1, value },
      };
      if (flags & 4) s.private = true;
      sessions.set(c, s);
    }
    r.end();
    this.data = data;
    this.table = sessions;
    this.appliedIndex = index;
  }
}
