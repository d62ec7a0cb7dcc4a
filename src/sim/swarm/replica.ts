import { ElexError } from '../../core/index.js';
import {
  DiskStorage,
  type Entry,
  EntryType,
  type Message,
  MSG_NAMES,
  messageSize,
  Raft,
  type RaftConfig,
  RawNode,
  type ReadState,
  type Ready,
  Role,
} from '../../raft/index.js';
import { type Catalog, type CommandResult, CoordinatorStateMachine } from '../../swarm/index.js';
import type { InvariantChecker } from '../raft/checkers.js';
import type { ObservedNode } from '../raft/node.js';
import { drainReadies, type ReadyDriver } from '../raft/ready-loop.js';
import type { Simulator } from '../simulator.js';

/** Entry data: 8-byte request id (origin coordinator << 32 | seq), then the coordinator command. */
export function envelope(reqId: number, command: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + command.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, Math.floor(reqId / 2 ** 32));
  dv.setUint32(4, reqId >>> 0);
  out.set(command, 8);
  return out;
}

export function requestIdOf(data: Uint8Array): number {
  if (data.length < 8) return 0;
  const dv = new DataView(data.buffer, data.byteOffset, 8);
  return dv.getUint32(0) * 2 ** 32 + dv.getUint32(4);
}

export interface ReplicaOptions {
  raft: Omit<RaftConfig, 'id' | 'rng' | 'voters'>;
  voters: number[];
  tickMs: number;
  snapshotEvery: number;
  snapshotKeep: number;
}

export interface ReplicaHooks {
  /** An entry was applied here with this result (null for a non-command entry). */
  onApply(replica: CoordinatorReplica, e: Entry, reqId: number, result: CommandResult | null): void;
}

type ReadWaiter = { index: number; cb: (index: number) => void };

/**
 * One coordinator's Raft replica on the simulator, shaped like src/sim/raft/node.ts (which is bound to the KV
 * machine): ticked by the scenario every `tickMs`, persists each Ready to the node's SimDisk and sends its messages only once
 * the sync completes, applies committed entries to the coordinator state machine, snapshots periodically and
 * serves proposals (results by request id) and ReadIndex reads (callback with the read index once applied).
 */
export class CoordinatorReplica implements ReadyDriver {
  rn: RawNode | null = null;
  machine: CoordinatorStateMachine;
  readonly storage: DiskStorage;
  incarnation = 0;
  snapshotsTaken = 0;
  syncing = false;
  private readonly writes = new Map<number, (r: CommandResult | null) => void>();
  /**
   * Results of recently applied client commands, so a retry whose first copy already applied gets the same
   * answer instead of silence. Volatile and bounded: after a restart a retry is answered `null`.
   */
  private readonly recentResults = new Map<number, CommandResult>();
  private readonly reads = new Map<number, ReadWaiter>();
  private waitingReads: ReadWaiter[] = [];
  private applyWaiters: ReadWaiter[] = [];
  private nextCtx = 1;
  private nextSeq = 1;
  appliedIndex = 0;
  /**
   * Request ids already applied: a forwarded proposal that the network duplicated is committed twice, and the
   * second copy must not execute. Part of the replicated state (a function of the log), so it travels in the
   * snapshot with the machine.
   */
  private applied = new Set<number>();
  duplicatesSkipped = 0;

  constructor(
    readonly sim: Simulator,
    readonly id: number,
    private readonly catalog: Catalog,
    private readonly opts: ReplicaOptions,
    private readonly checker: InvariantChecker,
    private readonly hooks: ReplicaHooks,
  ) {
    this.storage = new DiskStorage(sim.disk(id));
    this.machine = new CoordinatorStateMachine(catalog);
  }

  /** What the Raft invariant checker observes of this replica (`id` and `raft`). */
  private get asNode(): ObservedNode {
    return this;
  }

  get raft(): Raft | null {
    return this.rn?.raft ?? null;
  }

  get up(): boolean {
    return this.rn !== null;
  }

  isLeader(): boolean {
    return this.rn !== null && this.rn.raft.role === Role.Leader;
  }

  /** The leader this replica believes in (`NONE`, i.e. −1, when none is known). */
  leaderHint(): number {
    return this.rn?.raft.lead ?? 0;
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
    this.rn = new RawNode(cfg, boot, new Raft(cfg, boot));
    this.machine = new CoordinatorStateMachine(this.catalog);
    this.appliedIndex = 0;
    this.applied = new Set();
    if (snap) this.restoreSnapshot(snap.data, snap.meta.index);
    this.syncing = false;
    this.checker.onRestart(this.asNode);
  }

  crash(): void {
    this.rn = null;
    this.writes.clear();
    this.reads.clear();
    this.waitingReads = [];
    this.applyWaiters = [];
  }

  /**
   * One Raft tick. The scenario drives all replicas from one shared `tickMs` timer (one event instead of
   * fourteen); a crashed or paused replica does not tick, as a paused node's own timer would not fire.
   */
  tick(): void {
    if (this.rn === null || this.sim.status(this.id) !== 'up') return;
    this.guard(() => this.rn!.tick());
  }

  deliver(m: Message): void {
    if (this.rn === null) return;
    this.guard(() => this.rn!.step(m));
  }

  guard(fn: () => void): void {
    try {
      fn();
      this.process();
    } catch (e) {
      this.checker.onError(this.asNode, e);
      this.sim.crash(this.id);
    }
  }

  private process(): void {
    drainReadies(this);
  }

  observeReady(rd: Ready): void {
    this.checker.onReady(this.asNode, rd);
  }

  finishReady(rn: RawNode, rd: Ready): void {
    this.checker.onPersisted(this.asNode, rd);
    for (const m of rd.messages) this.sim.send(this.id, m.to, m, MSG_NAMES[m.type], messageSize(m));
    if (rd.snapshot !== null) this.restoreSnapshot(rd.snapshot.data, rd.snapshot.meta.index);
    for (const e of rd.committedEntries) {
      if (e.index <= this.appliedIndex) continue;
      this.appliedIndex = e.index;
      if (e.type === EntryType.Normal && e.data.length >= 8) {
        const reqId = requestIdOf(e.data);
        if (this.applied.has(reqId)) {
          this.duplicatesSkipped++;
          this.hooks.onApply(this, e, reqId, null);
          this.checker.onApplied(this.asNode, e);
          const again = this.writes.get(reqId);
          if (again !== undefined) {
            this.writes.delete(reqId);
            again(this.recentResults.get(reqId) ?? null);
          }
          continue;
        }
        this.applied.add(reqId);
        const r = this.machine.apply(e.index, e.data.subarray(8));
        this.checker.onExecute(this.asNode, Math.floor(reqId / 2 ** 32) + 1, reqId >>> 0, e.index);
        this.hooks.onApply(this, e, reqId, r);
        if (reqId >= 2 ** 40) {
          this.recentResults.set(reqId, r as CommandResult);
          if (this.recentResults.size > 4096)
            this.recentResults.delete(this.recentResults.keys().next().value!);
        }
        const w = this.writes.get(reqId);
        if (w !== undefined) {
          this.writes.delete(reqId);
          w(r);
        }
      } else {
        // Empty leader entries and conf changes still advance the machine's applied index.
        if (e.type === EntryType.Normal) this.machine.apply(e.index, e.data);
        this.hooks.onApply(this, e, 0, null);
      }
      this.checker.onApplied(this.asNode, e);
    }
    for (const rs of rd.readStates) this.readReady(rs);
    rn.advance(rd);
    this.serveReads();
    this.maybeSnapshot(rn);
  }

  private maybeSnapshot(rn: RawNode): void {
    const r = rn.raft;
    const last = r.snapshot?.meta.index ?? 0;
    if (r.log.applied - last < this.opts.snapshotEvery || this.appliedIndex !== r.log.applied) return;
    rn.compact(r.log.applied, this.takeSnapshot(), this.opts.snapshotKeep);
    const snap = r.snapshot!;
    this.storage.saveSnapshot(snap);
    this.storage.compactTo(r.log.offset);
    this.snapshotsTaken++;
  }

  /** Snapshot = u32 count, that many f64 applied request ids (sorted), then the machine's snapshot. */
  private takeSnapshot(): Uint8Array {
    const ids = [...this.applied].sort((a, b) => a - b);
    const m = this.machine.snapshot();
    const out = new Uint8Array(4 + ids.length * 8 + m.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, ids.length);
    ids.forEach((id, i) => {
      dv.setFloat64(4 + i * 8, id);
    });
    out.set(m, 4 + ids.length * 8);
    return out;
  }

  private restoreSnapshot(data: Uint8Array, index: number): void {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const n = dv.getUint32(0);
    this.applied = new Set();
    for (let i = 0; i < n; i++) this.applied.add(dv.getFloat64(4 + i * 8));
    this.machine.restore(data.subarray(4 + n * 8), index);
    this.appliedIndex = index;
  }

  /**
   * Proposes a command (forwarded by Raft when this replica follows). False when it cannot be proposed.
   * `clientReqId` names the client's command: every copy of it (a duplicated or retried message) carries the
   * same request id, so the copies commit but apply once. Client ids live above 2^40, replica ids below.
   */
  propose(command: Uint8Array, cb: (r: CommandResult | null) => void, clientReqId?: number): boolean {
    const rn = this.rn;
    if (rn === null) return false;
    const reqId =
      clientReqId === undefined
        ? this.id * 2 ** 32 + this.incarnation * 2 ** 22 + this.nextSeq++
        : 2 ** 40 + clientReqId;
    try {
      rn.propose(envelope(reqId, command));
    } catch (e) {
      if (!(e instanceof ElexError)) throw e;
      return false;
    }
    this.writes.set(reqId, cb);
    this.guard(() => {});
    return true;
  }

  /** A linearizable read: `cb(index)` once this replica has applied the ReadIndex. False when refused. */
  readIndex(cb: (index: number) => void): boolean {
    const rn = this.rn;
    if (rn === null) return false;
    const ctx = this.id * 2 ** 32 + this.incarnation * 2 ** 22 + this.nextCtx++;
    try {
      rn.readIndex(ctx);
    } catch (e) {
      if (!(e instanceof ElexError)) throw e;
      return false;
    }
    this.reads.set(ctx, { index: 0, cb });
    this.guard(() => {});
    return true;
  }

  /** `cb()` once this replica has applied `index` (at once if it already has). */
  whenApplied(index: number, cb: (index: number) => void): void {
    if (this.appliedIndex >= index) cb(this.appliedIndex);
    else this.applyWaiters.push({ index, cb });
  }

  private readReady(rs: ReadState): void {
    const w = this.reads.get(rs.context);
    if (w === undefined) return;
    this.reads.delete(rs.context);
    w.index = rs.index;
    this.waitingReads.push(w);
  }

  private serveReads(): void {
    const applied = this.appliedIndex;
    if (this.waitingReads.length > 0) {
      const still: ReadWaiter[] = [];
      for (const w of this.waitingReads) {
        if (w.index <= applied) w.cb(w.index);
        else still.push(w);
      }
      this.waitingReads = still;
    }
    if (this.applyWaiters.length > 0) {
      const still: ReadWaiter[] = [];
      for (const w of this.applyWaiters) {
        if (w.index <= applied) w.cb(applied);
        else still.push(w);
      }
      this.applyWaiters = still;
    }
  }
}
