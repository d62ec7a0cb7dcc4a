import {
  decodeKv,
  type Entry,
  EntryType,
  type KvResult,
  KvStateMachine,
  type Raft,
  type RaftBoot,
  type RaftConfig,
} from '../../raft/index.js';
import { RaftHost, type RaftHostOptions } from './host.js';

export interface DriverOptions extends RaftHostOptions {
  /** Planted bugs (simulator only). */
  skipPersist?: boolean;
  staleRead?: boolean;
  makeRaft?: (cfg: RaftConfig, boot: RaftBoot) => Raft;
}

type WriteWaiter = (r: KvResult) => void;

/**
 * A KV node of the Raft campaigns on the simulator: a `RaftHost` that ticks on its own node timer, applies
 * committed entries to a KV machine, and serves client requests (writes through the log, reads through
 * ReadIndex), with the planted bugs of `DriverOptions`.
 */
export class RaftSimNode extends RaftHost<DriverOptions> {
  kv: KvStateMachine = new KvStateMachine();
  private writes = new Map<string, WriteWaiter>();
  private nextCtx = 1;

  get appliedIndex(): number {
    return this.kv.appliedIndex;
  }

  override start(): void {
    super.start();
    this.scheduleTick();
  }

  override crash(): void {
    super.crash();
    this.writes.clear();
  }

  /** Ticks on this node's own timer; a tick scheduled by an earlier life stops there. */
  private scheduleTick(): void {
    const inc = this.incarnation;
    this.sim.setTimer(this.id, this.opts.tickMs, () => {
      if (this.rn === null || inc !== this.incarnation) return;
      this.guard(() => this.rn!.tick());
      this.scheduleTick();
    });
  }

  protected override newRaft(cfg: RaftConfig, boot: RaftBoot): Raft {
    return this.opts.makeRaft ? this.opts.makeRaft(cfg, boot) : super.newRaft(cfg, boot);
  }

  protected override get fsync(): boolean {
    return !this.opts.skipPersist;
  }

  // ---- the KV machine -----------------------------------------------------------------------------

  protected resetMachine(): void {
    this.kv = new KvStateMachine((c, s, i) => this.observer.onExecute(this, c, s, i));
  }

  protected restoreSnapshot(data: Uint8Array, index: number): void {
    this.kv.restore(data, index);
  }

  protected takeSnapshot(): Uint8Array {
    return this.kv.snapshot();
  }

  protected applyEntry(e: Entry): void {
    if (e.type === EntryType.Normal) {
      const r = this.kv.apply(e.index, e.data);
      if (this.writes.size > 0 && e.data.length > 0) this.resolveWrite(e.data, r);
    } else this.kv.appliedIndex = e.index;
    this.observer.onApplied(this, e);
  }

  // ---- client requests ----------------------------------------------------------------------------

  /** A write: proposed here (forwarded if we are a follower). `cb` gets the result once applied here. */
  clientWrite(data: Uint8Array, cb: (r: KvResult | null) => void): void {
    const rn = this.rn;
    if (rn === null) return;
    const c = decodeKv(data);
    const key = `${c.client}:${c.seq}`;
    if (this.refused(() => rn.propose(data))) {
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
    if (this.rn === null) return;
    if (this.opts.staleRead) {
      cb(this.kv.get(key));
      return;
    }
    const ctx = this.id * 2 ** 32 + this.incarnation * 2 ** 20 + this.nextCtx++;
    if (!this.readIndexThen(ctx, () => cb(this.kv.get(key)))) fail();
  }
}
