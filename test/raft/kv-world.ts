import { SeededRng } from '../../src/core/index.js';
import {
  type HostEnv,
  type KvHostOptions,
  KvRaftHost,
  MemoryDisk,
  type Message,
  type NodeObserver,
} from '../../src/raft/index.js';

const observer: NodeObserver = {
  onReady() {},
  onPersisted() {},
  onApplied() {},
  onExecute() {},
  onRestart() {},
  onError() {},
};

/**
 * KV hosts on memory disks with no clock of their own (the test ticks) and a network the test delivers by hand;
 * `boot` starts a node as a new process on its disk (a new host object, as `RaftProcess.start` builds).
 */
export class World {
  readonly disks = new Map<number, MemoryDisk>();
  readonly hosts = new Map<number, KvRaftHost>();
  net: Message[] = [];
  private starts = 0;

  constructor(
    ids: number[],
    private readonly opts: KvHostOptions = {
      raft: {},
      voters: ids,
      tickMs: 10,
      snapshotEvery: 10_000,
      snapshotKeep: 1000,
    },
  ) {
    for (const id of ids) {
      this.disks.set(id, new MemoryDisk());
      this.boot(id);
    }
  }

  /** Starts `id` as a new process on its disk (a new host object, as `RaftProcess.start` builds). */
  boot(id: number): KvRaftHost {
    const seed = 1000 * id + ++this.starts;
    const env: HostEnv = {
      disk: this.disks.get(id)!,
      rng: () => new SeededRng(seed),
      send: (m) => this.net.push(m),
      setTimer: () => {},
      fail: (e) => {
        throw e;
      },
    };
    const h = new KvRaftHost(env, id, this.opts, observer);
    h.start();
    this.hosts.set(id, h);
    return h;
  }

  host(id: number): KvRaftHost {
    return this.hosts.get(id)!;
  }

  deliver(pred: (m: Message) => boolean): void {
    for (let n = 0; n < 100_000; n++) {
      const i = this.net.findIndex(pred);
      if (i < 0) return;
      const [m] = this.net.splice(i, 1);
      this.host(m.to).deliver(m);
    }
    throw new Error('the network did not quiesce');
  }

  take(pred: (m: Message) => boolean): Message[] {
    const out = this.net.filter(pred);
    this.net = this.net.filter((m) => !pred(m));
    return out;
  }

  heartbeat(id: number): void {
    const h = this.host(id);
    for (let i = 0; i < h.raft!.heartbeatTicks; i++) h.guard(() => h.rn!.tick());
  }
}
