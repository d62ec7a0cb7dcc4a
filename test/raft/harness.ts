import { SeededRng } from '../../src/core/index.js';
import {
  DiskStorage,
  MemoryDisk,
  type Message,
  MsgType,
  type RaftConfig,
  RawNode,
  type ReadState,
  Role,
} from '../../src/raft/index.js';

/**
 * A tiny hand-driven cluster of RawNodes for white-box tests: every Ready is persisted at once to the node's
 * `MemoryDisk` (synced only when `mustSync`, so `restart` loses exactly what a real crash would), its
 * messages go to one shared queue the test delivers, drops, reorders or duplicates at will, and nodes take
 * a snapshot (keeping no entries) every `snapEvery` applied entries.
 */
export class Net {
  readonly nodes = new Map<number, RawNode>();
  readonly disks = new Map<number, MemoryDisk>();
  readonly stores = new Map<number, DiskStorage>();
  private readonly cfg: Partial<Omit<RaftConfig, 'id' | 'voters' | 'rng'>>;
  private readonly ids: number[];
  private incarnation = 0;
  queue: Message[] = [];
  /** Read states each node's Readys returned, in order. */
  readonly reads = new Map<number, ReadState[]>();

  constructor(
    ids: number[],
    cfg: Partial<Omit<RaftConfig, 'id' | 'voters' | 'rng'>> = {},
    readonly snapEvery = Number.POSITIVE_INFINITY,
    readonly snapBytes = 200,
  ) {
    this.cfg = cfg;
    this.ids = ids;
    for (const id of ids) {
      const disk = new MemoryDisk();
      this.disks.set(id, disk);
      this.stores.set(id, new DiskStorage(disk));
      this.start(id);
    }
  }

  private start(id: number): void {
    const st = this.stores.get(id)!;
    const boot = { hardState: st.hardState(), snapshot: st.snapshot(), entries: st.entries() };
    const rng = new SeededRng(id * 7919 + 1 + 104729 * this.incarnation++);
    this.nodes.set(id, new RawNode({ ...this.cfg, id, voters: this.ids, rng }, boot));
  }

  /** Crash and restart `id`: unsynced writes are lost; queued messages stay in the network. */
  restart(id: number): void {
    this.disks.get(id)!.crash();
    this.start(id);
  }

  node(id: number): RawNode {
    return this.nodes.get(id)!;
  }

  /** Handles every pending Ready of `id` (persist at once, queue messages, apply, advance, maybe snapshot). */
  drain(id: number): void {
    const rn = this.node(id);
    const st = this.stores.get(id)!;
    while (rn.hasReady()) {
      const rd = rn.ready();
      if (rd.snapshot !== null) st.resetTo(rd.snapshot);
      st.append(rd.entries);
      if (rd.hardState !== null) st.setHardState(rd.hardState);
      if (rd.mustSync) st.sync(() => {});
      for (const m of rd.messages) this.queue.push(m);
      if (rd.readStates.length > 0) this.reads.set(id, [...(this.reads.get(id) ?? []), ...rd.readStates]);
      rn.advance(rd);
      const r = rn.raft;
      const last = r.snapshot?.meta.index ?? 0;
      if (r.log.applied - last >= this.snapEvery) this.compact(id);
    }
  }

  /** Snapshots `id` at its applied index, keeping no entries, and compacts its storage. */
  compact(id: number): number {
    const rn = this.node(id);
    const r = rn.raft;
    const at = r.log.applied;
    rn.compact(at, new Uint8Array(this.snapBytes).fill(at & 0xff), 0);
    const st = this.stores.get(id)!;
    st.saveSnapshot(r.snapshot!);
    st.compactTo(r.log.offset);
    return at;
  }

  drainAll(): void {
    for (const id of this.nodes.keys()) this.drain(id);
  }

  step(m: Message): void {
    this.node(m.to).step(m);
    this.drain(m.to);
  }

  /** Delivers queued messages (in order) matching `pred` until none is left; others stay queued. */
  deliverWhile(pred: (m: Message) => boolean, limit = 100_000): void {
    for (let n = 0; n < limit; n++) {
      const i = this.queue.findIndex(pred);
      if (i < 0) return;
      const [m] = this.queue.splice(i, 1);
      this.step(m);
    }
    throw new Error('deliverWhile did not quiesce');
  }

  /** Removes and returns the queued messages matching `pred`. */
  take(pred: (m: Message) => boolean): Message[] {
    const out = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    return out;
  }

  tick(id: number): void {
    this.node(id).tick();
    this.drain(id);
  }

  /** Ticks every node and delivers everything, `rounds` times (a healthy network). */
  settle(rounds: number): void {
    for (let i = 0; i < rounds; i++) {
      for (const id of this.nodes.keys()) this.tick(id);
      this.deliverWhile(() => true);
    }
  }

  leader(): number | null {
    for (const [id, rn] of this.nodes) if (rn.raft.role === Role.Leader) return id;
    return null;
  }

  /** Elects `id` over a healthy network. */
  elect(id: number): void {
    this.node(id).campaign();
    this.drain(id);
    this.deliverWhile(() => true);
    if (this.node(id).raft.role !== Role.Leader) throw new Error(`n${id} did not win`);
  }

  propose(id: number, n: number): void {
    const rn = this.node(id);
    for (let i = 0; i < n; i++) rn.propose(new Uint8Array([i & 0xff, 1, 2, 3]));
    this.drain(id);
  }
}

export const isType =
  (t: MsgType, from?: number, to?: number) =>
  (m: Message): boolean =>
    m.type === t && (from === undefined || m.from === from) && (to === undefined || m.to === to);

export const touches =
  (id: number) =>
  (m: Message): boolean =>
    m.from === id || m.to === id;

export { MsgType };
