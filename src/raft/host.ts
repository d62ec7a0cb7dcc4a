import { ElexError, isElexError, type Rng } from '../core/index.js';
import { Raft, type RaftBoot, type RaftConfig } from './raft.js';
import { RawNode, type Ready } from './raw-node.js';
import { drainReadies, type ReadyDriver } from './ready-loop.js';
import { type Disk, DiskStorage } from './storage.js';
import { type Entry, type Message, type ReadState, Role } from './types.js';

/**
 * What a host needs from the world it runs in, for one node. The simulator lends its virtual timers, seeded
 * streams, simulated disk and network (`simHostEnv`); the real runtime lends `setTimeout`, a crypto seed, a
 * file and sockets (`src/node`). The host's code path is the same under both.
 */
export interface HostEnv {
  /** The node's disk: what survives a restart (the host boots from it). */
  readonly disk: Disk;
  /** An independent random stream named `label` (one per life, so a restart does not replay draws). */
  rng(label: string): Rng;
  /** Hands a message to the network. Only called once the Ready that produced it is durable. */
  send(m: Message): void;
  /** Runs `fn` once after `ms` milliseconds of the node's time. */
  setTimer(ms: number, fn: () => void): void;
  /** An assertion failed inside the node: stop it (the simulator crashes the node, a process exits). */
  fail(e: unknown): void;
}

/** What an observer may read of a host: any Raft driver (KV node or coordinator replica) is one. */
export interface ObservedNode {
  readonly id: number;
  /** The live Raft state, or null while the node is down. */
  readonly raft: Raft | null;
}

/** Observers the harness installs: the invariant checkers see every Ready before it takes effect. */
export interface NodeObserver {
  onReady(node: ObservedNode, rd: Ready): void;
  /** The Ready's writes are durable (its messages are about to leave). */
  onPersisted(node: ObservedNode, rd: Ready): void;
  onApplied(node: ObservedNode, e: Entry): void;
  onExecute(node: ObservedNode, client: number, seq: number, index: number): void;
  onRestart(node: ObservedNode): void;
  onError(node: ObservedNode, e: unknown): void;
}

export interface RaftHostOptions {
  raft: Omit<RaftConfig, 'id' | 'rng' | 'voters'>;
  voters: number[];
  tickMs: number;
  /** Snapshot the state machine every this many applied entries. */
  snapshotEvery: number;
  /** Entries kept behind a snapshot for slow followers. */
  snapshotKeep: number;
}

/** A ReadIndex read: the index Raft confirmed for it (0 until then), served once this node has applied it. */
interface PendingRead {
  ctx: number;
  index: number;
  serve: (index: number) => void;
}

/**
 * One RawNode hosted on a `HostEnv`, whatever state machine it drives: boots from the node's disk on
 * every (re)start, runs each step under `guard` (a failing assertion is reported and stops the node), persists
 * each Ready before its messages leave (`drainReadies`), applies committed entries, snapshots every
 * `snapshotEvery` applied entries, and serves ReadIndex reads once applied. Subclasses own the state machine,
 * the client requests and the tick (its timer differs between the two drivers).
 */
export abstract class RaftHost<O extends RaftHostOptions = RaftHostOptions> implements ReadyDriver {
  rn: RawNode | null = null;
  readonly storage: DiskStorage;
  incarnation = 0;
  snapshotsTaken = 0;
  syncing = false;
  /**
   * Where this life's read contexts start: random per start, because a real process builds a new host at every
   * restart (its incarnation is 1 again), and a ReadIndexResp queued for the previous life must not confirm a
   * new read with the old, lower index.
   */
  private readBase = 0;
  private readSeq = 0;
  /** Reads Raft has not confirmed yet, by context. */
  private readonly reads = new Map<number, PendingRead>();
  /** Confirmed reads waiting for this node to apply their index. */
  private waitingReads: PendingRead[] = [];

  constructor(
    readonly env: HostEnv,
    readonly id: number,
    protected readonly opts: O,
    protected readonly observer: NodeObserver,
  ) {
    this.storage = new DiskStorage(env.disk);
  }

  /** The state machine's applied index: committed entries at or below it are not applied again. */
  abstract readonly appliedIndex: number;
  /** Replaces the state machine by an empty one, as a new process has (its snapshot is restored next). */
  protected abstract resetMachine(): void;
  protected abstract restoreSnapshot(data: Uint8Array, index: number): void;
  protected abstract takeSnapshot(): Uint8Array;
  /** Applies one committed entry above `appliedIndex`, and reports it to the observer. */
  protected abstract applyEntry(e: Entry): void;

  get up(): boolean {
    return this.rn !== null;
  }

  get raft(): Raft | null {
    return this.rn?.raft ?? null;
  }

  isLeader(): boolean {
    return this.rn !== null && this.rn.raft.role === Role.Leader;
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
      rng: this.env.rng(`raft/${this.incarnation}`),
    };
    this.readBase = this.env.rng(`reads/${this.incarnation}`).u32();
    this.readSeq = 0;
    this.rn = new RawNode(cfg, boot, this.newRaft(cfg, boot));
    this.resetMachine();
    if (snap) this.restoreSnapshot(snap.data, snap.meta.index);
    this.syncing = false;
    this.observer.onRestart(this);
  }

  protected newRaft(cfg: RaftConfig, boot: RaftBoot): Raft {
    return new Raft(cfg, boot);
  }

  crash(): void {
    this.rn = null;
    this.reads.clear();
    this.waitingReads = [];
  }

  /** Messages from the network that no correct peer sends (`networkRefusal`): dropped, the node runs on. */
  refusedMessages = 0;

  deliver(m: Message): void {
    if (this.rn === null) return;
    this.guard(() => {
      // `RawNode.step` refuses them before the core (one check, there); a refusal is not a failure.
      try {
        this.rn!.step(m);
      } catch (e) {
        if (!(isElexError(e) && e.code === 'E_BAD_MESSAGE')) throw e;
        this.refusedMessages++;
      }
    });
  }

  /** Runs `fn` then processes Readies; an assertion inside the core is reported, and the node stops. */
  guard(fn: () => void): void {
    try {
      fn();
      drainReadies(this, this.fsync);
    } catch (e) {
      this.observer.onError(this, e);
      this.env.fail(e);
    }
  }

  /** Whether a Ready's messages wait for its disk sync (false only under a planted bug). */
  protected get fsync(): boolean {
    return true;
  }

  observeReady(rd: Ready): void {
    this.observer.onReady(this, rd);
  }

  finishReady(rn: RawNode, rd: Ready): void {
    this.observer.onPersisted(this, rd);
    for (const m of rd.messages) this.env.send(m);
    if (rd.snapshot !== null) this.restoreSnapshot(rd.snapshot.data, rd.snapshot.meta.index);
    for (const e of rd.committedEntries) if (e.index > this.appliedIndex) this.applyEntry(e);
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

  /** Runs a RawNode request that may be refused (an ElexError: no leader known, a transfer under way, …). */
  protected refused(request: () => void): boolean {
    try {
      request();
    } catch (e) {
      if (!(e instanceof ElexError)) throw e;
      return true;
    }
    return false;
  }

  /** A read context unique to this node (its id in the high bits) and, but for a 2^-32 chance, to this life. */
  protected nextReadContext(): number {
    return this.id * 2 ** 32 + ((this.readBase + this.readSeq++) % 0xffffffff) + 1;
  }

  /**
   * Asks Raft to confirm a linearizable read under `ctx` (unique to this node and life; each driver numbers
   * its own); `serve(index)` runs once this node has applied the read's index. False when Raft refuses it.
   * The node must be up.
   */
  protected readIndexThen(ctx: number, serve: (index: number) => void): boolean {
    if (this.refused(() => this.rn!.readIndex(ctx))) return false;
    this.reads.set(ctx, { ctx, index: 0, serve });
    this.guard(() => {});
    return true;
  }

  /** Forgets a read its caller gave up on (a real client's timeout), confirmed or not. */
  protected forgetRead(ctx: number): void {
    this.reads.delete(ctx);
    this.waitingReads = this.waitingReads.filter((w) => w.ctx !== ctx);
  }

  private readReady(rs: ReadState): void {
    const w = this.reads.get(rs.context);
    if (w === undefined) return;
    this.reads.delete(rs.context);
    w.index = rs.index;
    this.waitingReads.push(w);
  }

  protected serveReads(): void {
    if (this.waitingReads.length === 0) return;
    const applied = this.appliedIndex;
    // Detached first: a callback may issue a read whose Ready serves reads again before this loop ends.
    const waiting = this.waitingReads;
    this.waitingReads = [];
    for (const w of waiting) {
      if (w.index <= applied) w.serve(w.index);
      else this.waitingReads.push(w);
    }
  }
}
