import { ElexError } from '../core/index.js';
import type { Entry, HardState, Snapshot } from './types.js';

/** Term and vote (and the commit index, which is an optimisation: it can be recovered). */
export interface StableStore {
  setHardState(hs: HardState): void;
  hardState(): HardState | undefined;
}

/** The log. `append` truncates any suffix at or after the first new index. */
export interface LogStore {
  append(entries: readonly Entry[]): void;
  /** Entries [first, last] currently stored. */
  entries(): Entry[];
  /** Forgets entries up to `index` (they are covered by a snapshot). */
  compactTo(index: number): void;
}

export interface SnapshotStore {
  saveSnapshot(s: Snapshot): void;
  snapshot(): Snapshot | undefined;
}

/** All three, plus the barrier: writes issued before `sync` are durable when `done` runs. */
export interface RaftStorage extends StableStore, LogStore, SnapshotStore {
  sync(done: () => void): void;
}

/**
 * A key-value device with the simulator's semantics: reads see every write, a crash keeps only writes
 * that a completed sync covered, and of a sync in flight all or none (`FileDisk`: one record per flush).
 * `SimDisk` has this shape; `MemoryDisk` is the stand-alone version.
 */
export interface Disk {
  write(key: string, value: unknown): void;
  read(key: string): unknown;
  delete(key: string): void;
  sync(done?: () => void): void;
}

/** A Disk in memory whose `sync` completes at once and whose `crash()` drops unsynced writes. */
export class MemoryDisk implements Disk {
  private durable = new Map<string, unknown>();
  private view = new Map<string, unknown>();
  private pending: Array<[string, unknown]> = [];

  write(key: string, value: unknown): void {
    this.view.set(key, value);
    this.pending.push([key, value]);
  }
  read(key: string): unknown {
    return this.view.get(key);
  }
  delete(key: string): void {
    this.view.delete(key);
    this.pending.push([key, undefined]);
  }
  sync(done?: () => void): void {
    for (const [k, v] of this.pending) {
      if (v === undefined) this.durable.delete(k);
      else this.durable.set(k, v);
    }
    this.pending = [];
    done?.();
  }
  crash(): void {
    this.pending = [];
    this.view = new Map(this.durable);
  }
}

const K_HARD = 'raft/hard';
const K_SNAP = 'raft/snap';
const K_FIRST = 'raft/first';
const K_LAST = 'raft/last';
const entryKey = (i: number) => `raft/e/${i}`;

/**
 * Raft storage over a `Disk`: one key per entry plus first/last markers. A `Disk` keeps the writes of a sync
 * whole or not at all after a crash (`MemoryDisk` and the simulator's disk roll back to the last sync;
 * `FileDisk` writes a flush as one CRC-covered record). A prefix would not do: a conflicting append's new entry
 * without its `last` would sit before an old entry of a lower term, a compaction's deletes without its `first`
 * would leave a log that cannot load. Stored objects are shared by reference and never mutated.
 */
export class DiskStorage implements RaftStorage {
  constructor(private readonly disk: Disk) {}

  setHardState(hs: HardState): void {
    this.disk.write(K_HARD, { term: hs.term, vote: hs.vote, commit: hs.commit });
  }

  hardState(): HardState | undefined {
    return this.disk.read(K_HARD) as HardState | undefined;
  }

  private bounds(): [number, number] {
    const first = (this.disk.read(K_FIRST) as number | undefined) ?? 1;
    const last = (this.disk.read(K_LAST) as number | undefined) ?? first - 1;
    return [first, last];
  }

  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const [first, last] = this.bounds();
    const lo = entries[0].index;
    if (lo > last + 1) throw new ElexError('E_STORAGE', `append at ${lo} leaves a gap after ${last}`);
    if (lo < first) throw new ElexError('E_STORAGE', `append at ${lo} is below the first index ${first}`);
    for (let i = 0; i < entries.length; i++) this.disk.write(entryKey(entries[i].index), entries[i]);
    const newLast = entries[entries.length - 1].index;
    // Stale keys above newLast are ignored (bounded by `last`) and overwritten by later appends.
    this.disk.write(K_LAST, newLast);
  }

  entries(): Entry[] {
    const [first, last] = this.bounds();
    const out: Entry[] = [];
    for (let i = first; i <= last; i++) {
      const e = this.disk.read(entryKey(i)) as Entry | undefined;
      if (e === undefined || e.index !== i) throw new ElexError('E_STORAGE', `entry ${i} missing or corrupt`);
      out.push(e);
    }
    return out;
  }

  compactTo(index: number): void {
    const [first, last] = this.bounds();
    for (let i = first; i <= Math.min(index, last); i++) this.disk.delete(entryKey(i));
    if (index >= first) this.disk.write(K_FIRST, index + 1);
    if (index > last) this.disk.write(K_LAST, index);
  }

  saveSnapshot(s: Snapshot): void {
    this.disk.write(K_SNAP, s);
  }

  /** Installing a snapshot from the leader replaces the whole log. */
  resetTo(s: Snapshot): void {
    this.saveSnapshot(s);
    const [first, last] = this.bounds();
    for (let i = first; i <= last; i++) this.disk.delete(entryKey(i));
    this.disk.write(K_FIRST, s.meta.index + 1);
    this.disk.write(K_LAST, s.meta.index);
  }

  snapshot(): Snapshot | undefined {
    return this.disk.read(K_SNAP) as Snapshot | undefined;
  }

  sync(done: () => void): void {
    this.disk.sync(done);
  }
}
