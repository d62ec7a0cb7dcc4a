import { randomBytes } from 'node:crypto';
import {
  type ConfChange,
  type ConfState,
  encodeKv,
  type KvCommand,
  KvOp,
  KvRaftHost,
  type KvResult,
} from '../raft/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import { RaftProcess, type RaftProcessOptions, type RaftStatus } from './raft-process.js';
import type { Address } from './tcp-transport.js';

export type KvNodeOptions = RaftProcessOptions;

/**
 * A client's session (Raft thesis §6.3): the machine executes each (client, seq) once and answers a repeat
 * with the first answer, so a client that retries a write with the same seq, through any node, after a
 * timeout or a leader change, gets exactly-once semantics. One request in flight per client; seqs increase.
 */
export interface ClientSession {
  client: number;
  seq: number;
}

/**
 * Client ids a client picks for itself: above every process's own session id (which are below 2³²), so the two
 * never share a session. A random 52-bit id makes two clients sharing one unlikely.
 */
export const MIN_CLIENT_ID = 2 ** 32;

/** The KV HTTP API's headers: a write's session (both or neither), and a compare-and-set's expected value. */
export const KV_HEADERS = { client: 'elex-client', seq: 'elex-seq', ifValue: 'elex-if' } as const;

export interface KvNodeStatus extends RaftStatus {
  keys: number;
  /** Client sessions the machine holds (at most `DEFAULT_MAX_SESSIONS`), and how many expired here. */
  sessions: number;
  sessionsExpired: number;
}

/**
 * A Raft KV node in a real process: `KvRaftHost` (the code the Raft campaigns run on the simulator) on a
 * `FileDisk` and a `TcpTransport`, ticking on wall-clock timers. Writes go through the log (forwarded to the
 * leader from a follower) and resolve once applied here; reads are linearizable (ReadIndex).
 */
export class KvNode {
  /** This process's client session: (client, seq) names each write, so its answer can find its caller. */
  private readonly client = (randomBytes(4).readUInt32LE(0) >>> 1) + 1;
  private seq = 0;

  private constructor(private readonly proc: RaftProcess<KvRaftHost>) {}

  static async start(o: KvNodeOptions): Promise<KvNode> {
    return new KvNode(
      await RaftProcess.start(o, (env, opts, observer) => new KvRaftHost(env, o.id, opts, observer)),
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
  put(key: string, value: string, session?: ClientSession): Promise<KvResult> {
    return this.write({ op: KvOp.Put, ...this.session(session), key, value });
  }

  delete(key: string, session?: ClientSession): Promise<KvResult> {
    return this.write({ op: KvOp.Delete, ...this.session(session), key });
  }

  /** Compare-and-set: `value` if the key holds `expected` (null: absent); the answer carries what it held. */
  cas(key: string, expected: string | null, value: string, session?: ClientSession): Promise<KvResult> {
    return this.write({ op: KvOp.Cas, ...this.session(session), key, expected, value });
  }

  private session(s: ClientSession | undefined): ClientSession {
    return s ?? { client: this.client, seq: ++this.seq };
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
