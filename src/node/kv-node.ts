import { randomBytes } from 'node:crypto';
import { ElexError } from '../core/index.js';
import {
  type ConfChange,
  type ConfState,
  encodeKv,
  KV_LIMITS,
  type KvCommand,
  KvOp,
  KvRaftHost,
  type KvResult,
  SESSION_EXPIRED,
} from '../raft/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import { RaftProcess, type RaftProcessOptions, type RaftStatus } from './raft-process.js';
import type { Address } from './tcp-transport.js';

export interface KvNodeOptions extends RaftProcessOptions {
  /** The KV machine's session bound (default 10,000). For tests: every node of a cluster must use the same. */
  maxSessions?: number;
}

/**
 * A client's session (Raft thesis §6.3): the machine executes each (client, seq) once and answers a repeat
 * with the first answer, so a client that retries a write with the same seq, through any node, after a
 * timeout or a leader change, gets exactly-once semantics. One request in flight per client; seqs increase.
 * `client` is a session opened by `KvNode.register` (the id is its register entry's log index); a command in a
 * session the machine no longer holds is refused with `E_SESSION_EXPIRED`, not executed.
 */
export interface ClientSession {
  client: number;
  seq: number;
}

/** The KV HTTP API's headers: a write's session (both or neither), and a compare-and-set's expected value. */
/** `elex-if-utf8` carries the compare-and-set value percent-encoded: header values are Latin-1 on the wire. */
export const KV_HEADERS = {
  client: 'elex-client',
  seq: 'elex-seq',
  ifValue: 'elex-if',
  ifValueUtf8: 'elex-if-utf8',
} as const;

export interface KvNodeStatus extends RaftStatus {
  keys: number;
  /** Client sessions the machine holds (at most `DEFAULT_MAX_SESSIONS`), and how many expired here. */
  sessions: number;
  sessionsExpired: number;
}

/**
 * E_BAD_KEY for `.` and `..`: URL paths resolve them as dot segments (`/kv/..` is `/`, `%2e%2e` too), so the
 * HTTP API could never read, write or delete them; refused before anything is proposed (session 23; a key
 * written directly used to be stranded). The empty key too (`/kv/` names none), and a key with a lone
 * surrogate, which no URL can carry (session 25).
 */
export function checkKey(key: string): void {
  if (key === '' || key === '.' || key === '..')
    throw new ElexError('E_BAD_KEY', `'${key}' cannot be a key: a URL path cannot address it`);
  if (LONE_SURROGATE.test(key))
    throw new ElexError('E_BAD_KEY', 'a key must be well-formed UTF-16 (it holds a lone surrogate)');
}

/** A lone surrogate has no UTF-8 form: encoders write U+FFFD instead, so what is stored is not what was put. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** E_BAD_VALUE for a value with a lone surrogate (it would be stored with U+FFFD in its place). */
export function checkValue(value: string | null): void {
  if (value !== null && LONE_SURROGATE.test(value))
    throw new ElexError('E_BAD_VALUE', 'a value must be well-formed UTF-16 (it holds a lone surrogate)');
}

/**
 * E_TOO_LARGE unless the machine takes `key` and `values` as they are encoded (UTF-8): a string under the HTTP
 * body bound may still be above the value bound once encoded (a body that is not UTF-8 is read with U+FFFD,
 * three bytes, for each bad byte), and the decoder would refuse the command as corrupt.
 */
function checkSizes(key: string, ...values: Array<string | null>): void {
  checkKey(key);
  for (const v of values) checkValue(v);
  const k = Buffer.byteLength(key);
  if (k > KV_LIMITS.keyBytes)
    throw new ElexError('E_TOO_LARGE', `the key is ${k} bytes as UTF-8, above ${KV_LIMITS.keyBytes}`);
  for (const v of values) {
    const n = v === null ? 0 : Buffer.byteLength(v);
    if (n > KV_LIMITS.valueBytes)
      throw new ElexError('E_TOO_LARGE', `a value is ${n} bytes as UTF-8, above ${KV_LIMITS.valueBytes}`);
  }
}

/**
 * A Raft KV node in a real process: `KvRaftHost` (the code the Raft campaigns run on the simulator) on a
 * `FileDisk` and a `TcpTransport`, ticking on wall-clock timers. Writes go through the log (forwarded to the
 * leader from a follower) and resolve once applied here; reads are linearizable (ReadIndex).
 */
export class KvNode {
  /**
   * This process's own session, for writes that bring none: (client, seq) names each write, so its answer
   * finds its caller. Opened on the first such write, and again if the machine's bound expired it.
   */
  private own: Promise<ClientSession> | null = null;
  /** Names a register's answer on this node; random, so two processes' registers never look alike here. */
  private nonce = randomBytes(4).readUInt32LE(0);

  private constructor(private readonly proc: RaftProcess<KvRaftHost>) {}

  static async start(o: KvNodeOptions): Promise<KvNode> {
    return new KvNode(
      await RaftProcess.start(
        o,
        (env, opts, observer) =>
          new KvRaftHost(
            env,
            o.id,
            { ...opts, ...(o.maxSessions !== undefined ? { maxSessions: o.maxSessions } : {}) },
            observer,
          ),
      ),
    );
  }

  get id(): number {
    return this.proc.host.id;
  }

  /** The address Raft listens on (useful when the cluster map said port 0). */
  get raftAddress(): Address {
    return this.proc.raftAddress;
  }

  /** The cluster key this node runs with (undefined: not keyed). */
  get keyring(): ClusterKeyring | undefined {
    return this.proc.keyring;
  }

  /** Without `session`, the write runs in this process's own session (not retried across nodes). */
  async put(key: string, value: string, session?: ClientSession): Promise<KvResult> {
    checkSizes(key, value);
    return this.inSession(session, (s) => ({ op: KvOp.Put, ...s, key, value }));
  }

  async delete(key: string, session?: ClientSession): Promise<KvResult> {
    checkSizes(key);
    return this.inSession(session, (s) => ({ op: KvOp.Delete, ...s, key }));
  }

  /** Compare-and-set: `value` if the key holds `expected` (null: absent); the answer carries what it held. */
  async cas(key: string, expected: string | null, value: string, session?: ClientSession): Promise<KvResult> {
    checkSizes(key, expected, value);
    return this.inSession(session, (s) => ({ op: KvOp.Cas, ...s, key, expected, value }));
  }

  /** Opens a client session through the log: resolves with its id (the register entry's index). */
  register(): Promise<number> {
    return this.open(false);
  }

  /** `private`: this node's own session, which no client's command may name (`KvCommand.private`). */
  private async open(priv: boolean): Promise<number> {
    this.nonce = (this.nonce + 1) % 2 ** 32;
    const r = await this.write({ op: KvOp.Register, client: 0, seq: this.nonce, key: '', private: priv });
    const id = Number(r.value);
    if (!r.ok || !Number.isSafeInteger(id) || id < 1)
      throw new ElexError('E_REGISTER', `the machine answered a register with ${JSON.stringify(r)}`);
    return id;
  }

  private async inSession(
    session: ClientSession | undefined,
    command: (s: ClientSession) => KvCommand,
  ): Promise<KvResult> {
    if (session !== undefined) return this.write(command(session));
    for (let opened = false; ; opened = true) {
      if (this.own === null) this.own = this.open(true).then((client) => ({ client, seq: 0 }));
      const own = this.own;
      let s: ClientSession;
      try {
        s = await own;
      } catch (e) {
        if (this.own === own) this.own = null;
        throw e;
      }
      const r = await this.write({ ...command({ client: s.client, seq: ++s.seq }), private: true });
      // Refused, so not executed: the bound expired this session. A new one can carry the write once more.
      if (r.error !== SESSION_EXPIRED || opened) return r;
      if (this.own === own) this.own = null;
    }
  }

  private write(c: KvCommand): Promise<KvResult> {
    const data = encodeKv(c);
    return this.proc.propose<KvResult>((settle) => {
      let refused = false;
      const cancel = this.proc.host.clientWrite(data, (r) => {
        if (r === null) refused = true;
        else settle(r);
      });
      return refused ? false : cancel;
    });
  }

  /** A linearizable read: the value as of a moment between the call and its answer. */
  get(key: string): Promise<string | null> {
    return this.proc.read<string | null>((settle) => {
      let refused = false;
      const cancel = this.proc.host.clientRead(key, settle, () => {
        refused = true;
      });
      return refused ? false : cancel;
    });
  }

  /** A single-server membership change, on the leader (`RaftProcess.changeMembership`). */
  changeMembership(cc: ConfChange): Promise<ConfState> {
    return this.proc.changeMembership(cc);
  }

  /** Hands leadership to `to` (`RaftProcess.transferLeadership`). */
  transferLeadership(to: number): Promise<void> {
    return this.proc.transferLeadership(to);
  }

  status(): KvNodeStatus {
    const kv = this.proc.host.kv;
    return {
      ...this.proc.status(),
      keys: kv.size,
      sessions: kv.sessions,
      sessionsExpired: kv.sessionsExpired,
    };
  }

  /** Fails pending requests, stops ticking, closes the sockets and flushes the disk. */
  close(): Promise<void> {
    return this.proc.close();
  }
}
