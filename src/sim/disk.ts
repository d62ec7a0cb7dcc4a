/**
 * The simulator's disk: a key-value store whose writes become durable only when a `sync` that was issued
 * after them completes. Reads see every write (as through a page cache). A crash rolls the store back to
 * its durable content, losing exactly the writes that no completed sync covered.
 * Values are stored by reference: callers treat them as immutable.
 */
export interface DiskHost {
  /**
   * Schedules `fn` for the device after `delayMs` of virtual time (the node's clock drift does not apply, nor
   * does a pause: a stopped process does not stop its disk); dropped if the node crashes first.
   */
  deviceTimer(node: number, delayMs: number, fn: () => void): void;
  /** Schedules node code (`sync`'s `done`) after `delayMs` of virtual time: deferred by a pause, dropped by a crash. */
  nodeTimer(node: number, delayMs: number, fn: () => void): void;
  now(): number;
}

export interface DiskStats {
  writes: number;
  syncs: number;
  lostOnCrash: number;
}

/** The value of a pending delete (a write of `undefined` is a write, not a delete). */
const DELETED: unique symbol = Symbol('deleted');

interface PendingWrite {
  seq: number;
  key: string;
  value: unknown;
}

export class SimDisk {
  private durable = new Map<string, unknown>();
  /** What reads see: durable content plus every unsynced write. */
  private view = new Map<string, unknown>();
  private unsynced: PendingWrite[] = [];
  private writeSeq = 0;
  private stalledUntil = 0;
  readonly stats: DiskStats = { writes: 0, syncs: 0, lostOnCrash: 0 };

  constructor(
    private readonly host: DiskHost,
    private readonly node: number,
    /** Time from `sync()` to durability, without a stall. */
    public syncLatencyMs = 1,
  ) {}

  write(key: string, value: unknown): void {
    this.record(key, value);
    this.view.set(key, value);
  }

  delete(key: string): void {
    this.record(key, DELETED);
    this.view.delete(key);
  }

  private record(key: string, value: unknown): void {
    this.stats.writes++;
    this.unsynced.push({ seq: ++this.writeSeq, key, value });
  }

  read(key: string): unknown {
    return this.view.get(key);
  }

  has(key: string): boolean {
    return this.view.has(key);
  }

  /** Present keys with the given prefix, sorted. */
  keys(prefix = ''): string[] {
    const out: string[] = [];
    for (const k of this.view.keys()) if (k.startsWith(prefix)) out.push(k);
    return out.sort();
  }

  get unsyncedCount(): number {
    return this.unsynced.length;
  }

  /** Durable content only (what a restart would see): for invariant checkers. */
  readDurable(key: string): unknown {
    return this.durable.get(key);
  }

  /**
   * Makes every write issued so far durable after the sync latency (plus any stall), on device time, then
   * calls `done` as node code (after a pause, if the node is paused then). If the node crashes first, neither
   * happens. Until session 24 both were one node event: a pause held durability back, and a crash during the
   * pause lost a write its fsync had finished; and a stall that began while a sync was in flight did not hold it.
   */
  sync(done?: () => void): void {
    const upTo = this.writeSeq;
    const complete = () => {
      const now = this.host.now();
      if (now < this.stalledUntil) {
        this.host.deviceTimer(this.node, this.stalledUntil - now, complete);
        return;
      }
      this.stats.syncs++;
      let i = 0;
      for (; i < this.unsynced.length && this.unsynced[i].seq <= upTo; i++) {
        const w = this.unsynced[i];
        if (w.value === DELETED) this.durable.delete(w.key);
        else this.durable.set(w.key, w.value);
      }
      this.unsynced.splice(0, i);
      if (done !== undefined) this.host.nodeTimer(this.node, 0, done);
    };
    const now = this.host.now();
    this.host.deviceTimer(this.node, Math.max(now, this.stalledUntil) - now + this.syncLatencyMs, complete);
  }

  /** No sync completes during the next `ms` (a stalled device): those due in it complete when it ends. */
  stall(ms: number): void {
    this.stalledUntil = Math.max(this.stalledUntil, this.host.now() + ms);
  }

  /** Rolls back to durable content. Called by the simulator when the node crashes. */
  crash(): void {
    this.stats.lostOnCrash += this.unsynced.length;
    this.unsynced = [];
    this.view = new Map(this.durable);
  }
}
