import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ElexError } from '../core/index.js';
import {
  encodeKv,
  type KvCommand,
  KvOp,
  KvRaftHost,
  type KvResult,
  type NodeObserver,
  ROLE_NAMES,
} from '../raft/index.js';
import { FileDisk } from './file-disk.js';
import { realHostEnv } from './real-env.js';
import { type Address, TcpTransport, type TransportStats } from './tcp-transport.js';

export interface KvNodeOptions {
  /** This node's Raft id: a key of `cluster`. */
  id: number;
  /** Every voter's Raft address by id, this node's included. A fresh data directory boots with these voters. */
  cluster: ReadonlyMap<number, Address>;
  /** Where the node's log, hard state and snapshots live (`raft.disk`): a restart resumes from it. */
  dataDir: string;
  /** Raft timing (defaults: tick 10 ms, election timeout 150–300 ms, heartbeat 50 ms). */
  tickMs?: number;
  electionTimeoutMs?: number;
  heartbeatMs?: number;
  /** Snapshot the KV machine every this many applied entries (default 10,000). */
  snapshotEvery?: number;
  /** How long a client request may wait for Raft before it fails with E_TIMEOUT (default 5 s). */
  requestTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface KvNodeStatus {
  id: number;
  role: string;
  term: number;
  /** The leader this node believes in (-1: none known). */
  leader: number;
  commit: number;
  applied: number;
  keys: number;
  transport: TransportStats;
  /** What the disk's recovery did at start (records replayed, torn bytes cut). */
  recovery: { records: number; truncatedBytes: number };
}

interface PendingWrite {
  /** Term and leader when the write was proposed. */
  term: number;
  lead: number;
  cancel: () => void;
  reject: (e: ElexError) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Observes a real node: only a failed assertion is worth a line (the simulator's checkers are not here). */
function observer(log: (line: string) => void): NodeObserver {
  return {
    onReady: () => {},
    onPersisted: () => {},
    onApplied: () => {},
    onExecute: () => {},
    onRestart: () => {},
    onError: (_node, e) => log(`assertion failed: ${e instanceof Error ? e.message : String(e)}`),
  };
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
  private readonly pending = new Set<PendingWrite>();
  private readonly leaderWatch: NodeJS.Timeout;

  private constructor(
    readonly id: number,
    private readonly host: KvRaftHost,
    private readonly transport: TcpTransport,
    private readonly disk: FileDisk,
    private readonly timeoutMs: number,
  ) {
    this.leaderWatch = setInterval(() => this.checkLeader(), 20);
  }

  static async start(o: KvNodeOptions): Promise<KvNode> {
    const self = o.cluster.get(o.id);
    if (self === undefined)
      throw new ElexError(
        'E_CONFIG',
        `node ${o.id} is not in the cluster (${[...o.cluster.keys()].join(', ')})`,
      );
    const log = o.log ?? (() => {});
    const disk = FileDisk.open(join(o.dataDir, 'raft.disk'));
    let host: KvRaftHost | null = null;
    const transport = await TcpTransport.listen({
      id: o.id,
      listen: self,
      peers: o.cluster,
      onMessage: (m) => host?.deliver(m),
      log,
    });
    const tickMs = o.tickMs ?? 10;
    host = new KvRaftHost(
      realHostEnv({ disk, send: (m) => transport.send(m) }),
      o.id,
      {
        raft: {
          electionTimeoutMs: o.electionTimeoutMs ?? 150,
          heartbeatMs: o.heartbeatMs ?? 50,
        },
        voters: [...o.cluster.keys()].sort((a, b) => a - b),
        tickMs,
        snapshotEvery: o.snapshotEvery ?? 10_000,
        snapshotKeep: 1000,
      },
      observer(log),
    );
    host.start();
    return new KvNode(o.id, host, transport, disk, o.requestTimeoutMs ?? 5000);
  }

  /** The port Raft listens on (useful when the cluster map said port 0). */
  get raftAddress(): Address {
    return this.transport.address;
  }

  put(key: string, value: string): Promise<KvResult> {
    return this.write({ op: KvOp.Put, client: this.client, seq: ++this.seq, key, value });
  }

  delete(key: string): Promise<KvResult> {
    return this.write({ op: KvOp.Delete, client: this.client, seq: ++this.seq, key });
  }

  private write(c: KvCommand): Promise<KvResult> {
    return new Promise((resolve, reject) => {
      const r = this.host.raft;
      if (r === null) return reject(new ElexError('E_STOPPED', 'the node is stopped'));
      const w: PendingWrite = { term: r.term, lead: r.lead, cancel: () => {}, reject, timer: undefined };
      const done = () => {
        clearTimeout(w.timer);
        this.pending.delete(w);
      };
      w.timer = setTimeout(() => {
        done();
        w.cancel();
        reject(
          new ElexError('E_TIMEOUT', `write not applied within ${this.timeoutMs} ms (it may still apply)`),
        );
      }, this.timeoutMs);
      this.pending.add(w);
      w.cancel = this.host.clientWrite(encodeKv(c), (res) => {
        done();
        if (res === null) reject(new ElexError('E_NO_LEADER', 'no leader is known yet: retry'));
        else resolve(res);
      });
    });
  }

  /**
   * A proposal forwarded to a leader that has since lost its place may be gone for good, and Raft does not
   * say so: waiting out the timeout would stall the client for seconds after every election. So a write
   * pending when the leader or term changes fails at once, as etcd's "leader changed" does; its outcome is
   * unknown (it may still commit under the new leader), so a client must not assume it failed.
   */
  private checkLeader(): void {
    const r = this.host.raft;
    if (r === null) return;
    for (const w of this.pending) {
      if (w.term === r.term && w.lead === r.lead) continue;
      clearTimeout(w.timer);
      this.pending.delete(w);
      w.cancel();
      w.reject(
        new ElexError(
          'E_LEADER_CHANGED',
          'the leader changed while the write was pending (it may still apply)',
        ),
      );
    }
  }

  /** A linearizable read: the value as of a moment between the call and its answer. */
  get(key: string): Promise<string | null> {
    return new Promise((resolve, reject) => {
      if (!this.host.up) return reject(new ElexError('E_STOPPED', 'the node is stopped'));
      let cancel = (): void => {};
      const timer = setTimeout(() => {
        cancel();
        reject(new ElexError('E_TIMEOUT', `read not confirmed within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      cancel = this.host.clientRead(
        key,
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        () => {
          clearTimeout(timer);
          reject(new ElexError('E_NO_LEADER', 'no leader is known yet: retry'));
        },
      );
    });
  }

  status(): KvNodeStatus {
    const r = this.host.raft;
    return {
      id: this.id,
      role: r === null ? 'stopped' : ROLE_NAMES[r.role],
      term: r?.term ?? 0,
      leader: r?.lead ?? -1,
      commit: r?.log.committed ?? 0,
      applied: this.host.appliedIndex,
      keys: this.host.kv.size,
      transport: this.transport.stats,
      recovery: this.disk.recovery,
    };
  }

  /** Stops ticking, closes the sockets and flushes the disk. */
  async close(): Promise<void> {
    clearInterval(this.leaderWatch);
    for (const w of this.pending) {
      clearTimeout(w.timer);
      w.cancel();
      w.reject(
        new ElexError('E_STOPPED', 'the node stopped while the write was pending (it may still apply)'),
      );
    }
    this.pending.clear();
    this.host.crash();
    await this.transport.close();
    await this.disk.close();
  }
}
