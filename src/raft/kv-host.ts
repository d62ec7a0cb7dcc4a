import { RaftHost, type RaftHostOptions } from './host.js';
import { decodeKv, type KvResult, KvStateMachine } from './kv.js';
import { type Entry, EntryType } from './types.js';

type WriteWaiter = (r: KvResult) => void;

export interface KvHostOptions extends RaftHostOptions {
  /** The machine's session bound (`KvMachineOptions.maxSessions`); every replica must use the same one. */
  maxSessions?: number;
}

const NOTHING = (): void => {};

/**
 * A Raft KV node on any `HostEnv`: ticks on its own timer, applies committed entries to a KV machine, and
 * serves client requests (writes through the log, reads through ReadIndex). The Raft campaigns run it on the
 * simulator (`RaftSimNode`, which adds planted bugs); `elex node` runs it on real sockets and a file.
 */
export class KvRaftHost<O extends KvHostOptions = KvHostOptions> extends RaftHost<O> {
  kv: KvStateMachine = new KvStateMachine();
  /** Waiters by (client, seq): a retry reaching this node while the first attempt waits adds a second one. */
  private writes = new Map<string, WriteWaiter[]>();

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
    this.env.setTimer(this.opts.tickMs, () => {
      if (this.rn === null || inc !== this.incarnation) return;
      this.guard(() => this.rn!.tick());
      this.scheduleTick();
    });
  }

  // ---- the KV machine -----------------------------------------------------------------------------

  protected resetMachine(): void {
    this.kv = new KvStateMachine((c, s, i) => this.observer.onExecute(this, c, s, i), {
      ...(this.opts.maxSessions !== undefined ? { maxSessions: this.opts.maxSessions } : {}),
    });
    // What this life re-applies up to its last known commit was counted by the life before.
    this.kv.countExpiredAfter = this.storage.hardState()?.commit ?? 0;
  }

  protected restoreSnapshot(data: Uint8Array, index: number): void {
    this.kv.restore(data, index);
    // A write waiting here whose entry the snapshot covers will never be applied here: answer it from the
    // session table (its last answer), or it waited out the client's timeout although it had applied.
    for (const [key, ws] of this.writes) {
      const [client, seq] = key.split(':').map(Number);
      const r = this.kv.sessionAnswer(client, seq);
      if (r === undefined) continue;
      this.writes.delete(key);
      for (const w of ws) w(r);
    }
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

  /**
   * A write: proposed here (forwarded if we are a follower). `cb` gets the result once applied here, or null
   * at once if Raft refused the proposal. A proposal can also be lost (a leader change drops it): callers
   * time out and call the returned function, which forgets the callback.
   */
  clientWrite(data: Uint8Array, cb: (r: KvResult | null) => void): () => void {
    const rn = this.rn;
    if (rn === null) return NOTHING;
    const c = decodeKv(data);
    const key = `${c.client}:${c.seq}`;
    if (this.refused(() => rn.propose(data))) {
      cb(null);
      return NOTHING;
    }
    const waiting = this.writes.get(key);
    if (waiting === undefined) this.writes.set(key, [cb]);
    else waiting.push(cb);
    this.guard(() => {});
    return () => {
      const ws = this.writes.get(key);
      const i = ws?.indexOf(cb) ?? -1;
      if (i < 0) return;
      ws!.splice(i, 1);
      if (ws!.length === 0) this.writes.delete(key);
    };
  }

  private resolveWrite(data: Uint8Array, r: KvResult): void {
    let c: ReturnType<typeof decodeKv>;
    try {
      c = decodeKv(data);
    } catch {
      return;
    }
    const key = `${c.client}:${c.seq}`;
    const ws = this.writes.get(key);
    if (ws === undefined) return;
    this.writes.delete(key);
    for (const w of ws) w(r);
  }

  /**
   * A linearizable read through ReadIndex: `cb` gets the value once this node has applied the read's index;
   * `fail` runs at once if Raft refused it. The returned function forgets a read that timed out.
   */
  clientRead(key: string, cb: (value: string | null) => void, fail: () => void): () => void {
    if (this.rn === null) return NOTHING;
    const ctx = this.nextReadContext();
    if (!this.readIndexThen(ctx, () => cb(this.kv.get(key)))) {
      fail();
      return NOTHING;
    }
    return () => this.forgetRead(ctx);
  }
}
