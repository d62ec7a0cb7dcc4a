import { ElexError } from '../../core/index.js';
import {
  DiskStorage,
  decodeKv,
  type Entry,
  EntryType,
  type KvResult,
  KvStateMachine,
  type Message,
  MSG_NAMES,
  messageSize,
  Raft,
  type RaftBoot,
  type RaftConfig,
  RawNode,
  type ReadState,
  type Ready,
  Role,
} from '../../raft/index.js';
import type { Simulator } from '../simulator.js';
import { drainReadies, type ReadyDriver } from './ready-loop.js';

/** Observers the cluster harness installs: the invariant checkers see every Ready before it takes effect. */
/** What an observer may read of a driver: any Raft driver in the simulator (KV or coordinator) is one. */
export interface ObservedNode {
  readonly id: number;
  /** The live Raft state, or null while the node is down. */
  readonly raft: Raft | null;
}

export interface NodeObserver {
  onReady(node: ObservedNode, rd: Ready): void;
  /** The Ready's writes are durable (its messages are about to leave). */
  onPersisted(node: ObservedNode, rd: Ready): void;
  onApplied(node: ObservedNode, e: Entry): void;
  onExecute(node: ObservedNode, client: number, seq: number, index: number): void;
  onRestart(node: ObservedNode): void;
  onError(node: ObservedNode, e: unknown): void;
}

export interface DriverOptions {
  raft: Omit<RaftConfig, 'id' | 'rng' | 'voters'>;
  voters: number[];
  tickMs: number;
  /** Snapshot the state machine every this many applied entries. */
  snapshotEvery: number;
  /** Entries kept behind a snapshot for slow followers. */
  snapshotKeep: number;
  /** Planted bugs (simulator only). */
  skipPersist?: boolean;
  staleRead?: boolean;
  makeRaft?: (cfg: RaftConfig, boot: RaftBoot) => Raft;
}

type WriteWaiter = (r: KvResult) => void;
interface ReadWaiter {
  key: string;
  index: number;
  cb: (value: string | null) => void;
}

/**
 * Drives one RawNode on the simulator: ticks on a node timer, persists each Ready to the node's SimDisk and
 * sends its messages only after the sync completes, applies committed entries to a KV machine, snapshots
 * periodically, and serves client requests (writes through the log, reads through ReadIndex).
 */
export class RaftSimNode implements ReadyDriver {
  rn: RawNode | null = null;
  kv: KvStateMachine = new KvStateMachine();
  readonly storage: DiskStorage;
  syncing = false;
  private writes = new Map<string, WriteWaiter>();
  private reads = new Map<number, ReadWaiter>();
  private waitingReads: ReadWaiter[] = [];
  private nextCtx = 1;
  incarnation = 0;
  snapshotsTaken = 0;

  constructor(
    readonly sim: Simulator,
    readonly id: number,
    private readonly opts: DriverOptions,
    private readonly obs: NodeObserver,
  ) {
    this.storage = new DiskStorage(sim.disk(id));
  }

  get up(): boolean {
    return this.rn !== null;
  }

  get raft(): Raft | null {
    return this.rn?.raft ?? null;
  }

  start(): void {
    this.incarnation++;
    const snap = this.storage.snapshot();
    const boot = { hardState: this.storage.hardState(), snapshot: snap, entries: this.storage.entries() };
    const cfg: RaftConfig = {
      ...this.opts.raft,
      id: this.id,
      voters: this.opts.voters,
      tickMs: this.opts.tickMs,
      rng: this.sim.nodeRng(this.id).fork(`raft/${this.incarnation}`),
    };
    const raft = this.opts.makeRaft ? this.opts.makeRaft(cfg, boot) : new Raft(cfg, boot);
    this.rn = new RawNode(cfg, boot, raft);
    this.kv = new KvStateMachine((c, s, i) => this.obs.onExecute(this, c, s, i));
    if (snap) this.kv.restore(snap.data, snap.meta.index);
    this.syncing = false;
    this.obs.onRestart(this);
    this.scheduleTick();
  }

  crash(): void {
    this.rn = null;
    this.writes.clear();
    this.reads.clear();
    this.waitingReads = [];
  }

  private scheduleTick(): void {
    const inc = this.incarnation;
    this.sim.setTimer(this.id, this.opts.tickMs, () => {
      if (this.rn === null || inc !== this.incarnation) return;
      this.guard(() => this.rn!.tick());
      this.scheduleTick();
    });
  }

  deliver(m: Message): void {
    if (this.rn === null) return;
    this.guard(() => this.rn!.step(m));
  }

  /** Runs `fn` then processes Readies; an assertion inside the core is reported, and the node stops. */
  guard(fn: () => void): void {
    try {
      fn();
      this.process();
    } catch (e) {
      this.obs.onError(this, e);
      this.sim.crash(this.id);
    }
  }

  private process(): void {
    drainReadies(this, !this.opts.skipPersist);
  }

  observeReady(rd: Ready): void {
    this.obs.onReady(this, rd);
  }

  finishReady(rn: RawNode, rd: Ready): void {
    this.obs.onPersisted(this, rd);
    for (const m of rd.messages) this.sim.send(this.id, m.to, m, MSG_NAMES[m.type], messageSize(m));
    if (rd.snapshot !== null) this.kv.restore(rd.snapshot.data, rd.snapshot.meta.index);
    for (const e of rd.committedEntries) {
      if (e.index <= this.kv.appliedIndex) continue;
      if (e.type === EntryType.Normal) {
        const r = this.kv.apply(e.index, e.data);
        if (this.writes.size > 0 && e.data.length > 0) this.resolveWrite(e.data, r);
      } else this.kv.appliedIndex = e.index;
      this.obs.onApplied(this, e);
    }
    for (const rs of rd.readStates) this.readReady(rs);
    rn.advance(rd);
    this.serveReads();
    this.maybeSnapshot(rn);
  }

  private maybeSnapshot(rn: RawNode): void {
    const r = rn.raft;
    const last = r.snapshot?.meta.index ?? 0;
    if (r.log.applied - last < this.opts.snapshotEvery || this.kv.appliedIndex !== r.log.applied) return;
    const data = this.kv.snapshot();
    rn.compact(r.log.applied, data, this.opts.snapshotKeep);
    const snap = r.snapshot!;
    this.storage.saveSnapshot(snap);
    this.storage.compactTo(r.log.offset);
    this.snapshotsTaken++;
  }

  // ---- client requests ----------------------------------------------------------------------------

  /** A write: proposed here (forwarded if we are a follower). `cb` gets the result once applied here. */
  clientWrite(data: Uint8Array, cb: (r: KvResult | null) => void): void {
    const rn = this.rn;
    if (rn === null) return;
    const c = decodeKv(data);
    const key = `${c.client}:${c.seq}`;
    try {
      rn.propose(data);
    } catch (e) {
      if (!(e instanceof ElexError)) throw e;
      cb(null);
      return;
    }
    this.writes.set(key, cb);
    this.guard(() => {});
  }

  private resolveWrite(data: Uint8Array, r: KvResult): void {
    let c: ReturnType<typeof decodeKv>;
    try {
      c = decodeKv(data);
    } catch {
      return;
    }
    const key = `${c.client}:${c.seq}`;
    const w = this.writes.get(key);
    if (w === undefined) return;
    this.writes.delete(key);
    w(r);
  }

  /** A linearizable read through ReadIndex (or, under the stale-read mutation, straight from local state). */
  clientRead(key: string, cb: (value: string | null) => void, fail: () => void): void {
    const rn = this.rn;
    if (rn === null) return;
    if (this.opts.staleRead) {
      cb(this.kv.get(key));
      return;
    }
    const ctx = this.id * 2 ** 32 + this.incarnation * 2 ** 20 + this.nextCtx++;
    try {
      rn.readIndex(ctx);
    } catch (e) {
      if (!(e instanceof ElexError)) throw e;
      fail();
      return;
    }
    this.reads.set(ctx, { key, index: 0, cb });
    this.guard(() => {});
  }

  private readReady(rs: ReadState): void {
    const w = this.reads.get(rs.context);
    if (w === undefined) return;
    this.reads.delete(rs.context);
    w.index = rs.index;
    this.waitingReads.push(w);
  }

  private serveReads(): void {
    if (this.waitingReads.length === 0) return;
    const applied = this.kv.appliedIndex;
    const still: ReadWaiter[] = [];
    for (const w of this.waitingReads) {
      if (w.index <= applied) w.cb(this.kv.get(w.key));
      else still.push(w);
    }
    this.waitingReads = still;
  }

  isLeader(): boolean {
    return this.rn !== null && this.rn.raft.role === Role.Leader;
  }
}
