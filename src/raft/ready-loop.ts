import type { RawNode, Ready } from './raw-node.js';
import type { DiskStorage } from './storage.js';

/** What a Raft driver (`RaftHost`) lends the Ready loop (`drainReadies`). */
export interface ReadyDriver {
  /** The RawNode being driven, null while the node is down. */
  readonly rn: RawNode | null;
  /** Bumped on every (re)start: a sync issued by an earlier life must not finish in this one. */
  readonly incarnation: number;
  readonly storage: DiskStorage;
  /** A Ready's writes are being synced; the next Ready waits (one in flight, as a real fsync loop). */
  syncing: boolean;
  /** Sees every Ready before any of it takes effect (the invariant checkers). */
  observeReady(rd: Ready): void;
  /** The Ready's writes are durable: send its messages, apply its committed entries, `advance`. */
  finishReady(rn: RawNode, rd: Ready): void;
  /** Runs `fn` and then drains again; a failing assertion stops the node. */
  guard(fn: () => void): void;
}

/**
 * The persist-then-send loop of `RaftHost`, so of every Raft driver (the raft campaign's KV nodes and the
 * swarm's coordinators on the simulator, `elex node` on a file and sockets): each Ready's snapshot, entries and hard state go to the node's disk, and only once
 * the disk says they are durable do its messages leave and its committed entries apply. A crash or restart
 * while a sync is in flight orphans it. `fsync` false skips the wait (the planted skip-persist bug).
 */
export function drainReadies(d: ReadyDriver, fsync = true): void {
  const rn = d.rn;
  while (rn !== null && rn === d.rn && !d.syncing && rn.hasReady()) {
    const rd = rn.ready();
    d.observeReady(rd);
    if (rd.snapshot !== null) d.storage.resetTo(rd.snapshot);
    d.storage.append(rd.entries);
    if (rd.hardState !== null) d.storage.setHardState(rd.hardState);
    if (rd.mustSync && fsync) {
      d.syncing = true;
      const inc = d.incarnation;
      d.storage.sync(() => {
        if (inc !== d.incarnation || d.rn !== rn) return;
        d.syncing = false;
        d.guard(() => d.finishReady(rn, rd));
      });
      return;
    }
    d.finishReady(rn, rd);
  }
}
