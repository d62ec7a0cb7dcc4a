import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import {
  encodeKv,
  type HostEnv,
  KvOp,
  KvRaftHost,
  MemoryDisk,
  type Message,
  MsgType,
  type NodeObserver,
} from '../../src/raft/index.js';

/**
 * Review (raftread): a ReadIndex context names a read to the leader and back
 * (`KvRaftHost.clientRead`: id·2^32 + incarnation·2^20 + a counter from 1). `incarnation` counts starts of one
 * host object: the simulator restarts the same object, but a real process (`RaftProcess.start`, `elex node`)
 * builds a new host, whose incarnation is 1 again. So a restarted process reuses the contexts of its previous
 * life, and a ReadIndexResp addressed to that life (queued by the leader's transport until the node reconnects)
 * confirms the new life's read with the old, lower read index. The coordinator replica numbers reads the same way.
 */
const observer: NodeObserver = {
  onReady() {},
  onPersisted() {},
  onApplied() {},
  onExecute() {},
  onRestart() {},
  onError() {},
};

const opts = { raft: {}, voters: [1, 2, 3], tickMs: 10, snapshotEvery: 10_000, snapshotKeep: 1000 };

/** A world with no clock of its own (the test ticks) and a network the test delivers by hand. */
class World {
  readonly disks = new Map<number, MemoryDisk>();
  readonly hosts = new Map<number, KvRaftHost>();
  net: Message[] = [];
  private starts = 0;

  constructor(ids: number[]) {
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
    const h = new KvRaftHost(env, id, opts, observer);
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

const put = (seq: number, value: string) => encodeKv({ op: KvOp.Put, client: 0, seq, key: 'k', value });

describe('ReadIndex contexts across a process restart', () => {
  it('a restarted follower does not serve a new read with the read index of its previous life', () => {
    const w = new World([1, 2, 3]);
    const h1 = w.host(1);
    h1.guard(() => h1.rn!.campaign());
    w.deliver(() => true);
    expect(h1.isLeader()).toBe(true);

    const acked: string[] = [];
    h1.clientWrite(put(1, 'v1'), (r) => acked.push(`v1:${r?.ok}`));
    w.deliver(() => true);
    w.heartbeat(1);
    w.deliver(() => true);
    expect(acked).toEqual(['v1:true']);
    expect(w.host(3).kv.get('k')).toBe('v1');

    // n3 reads; the leader confirms the read, but its answer is still in the leader's outbound queue when n3's
    // process stops (the transport delivers it once n3 is back).
    const old: Array<string | null> = [];
    w.host(3).clientRead(
      'k',
      (v) => old.push(v),
      () => {},
    );
    w.deliver((m) => !(m.type === MsgType.ReadIndexResp && m.to === 3));
    const queuedForN3 = w.take((m) => m.type === MsgType.ReadIndexResp && m.to === 3);
    expect(queuedForN3.length).toBe(1);
    expect(old).toEqual([]);

    // n3's process restarts on its disk (a clean stop: everything written is there).
    w.disks.get(3)!.sync();
    const n3 = w.boot(3);
    n3.guard(() => {});
    expect(n3.kv.get('k')).toBe('v1');
    // It learns the leader from a heartbeat.
    w.heartbeat(1);
    w.deliver(() => true);
    expect(n3.raft!.lead).toBe(1);

    // A write is acknowledged by the leader with n2's help; n3's link is slow.
    h1.clientWrite(put(2, 'v2'), (r) => acked.push(`v2:${r?.ok}`));
    w.deliver((m) => m.to !== 3 && m.from !== 3);
    expect(acked).toEqual(['v1:true', 'v2:true']);

    // Then a client reads k through n3: it must see v2 (the write finished before the read began).
    const fresh: Array<string | null> = [];
    n3.clientRead(
      'k',
      (v) => fresh.push(v),
      () => {},
    );
    // The old life's answer arrives first, then everything else.
    for (const m of queuedForN3) n3.deliver(m);
    for (let i = 0; i < 5; i++) {
      w.heartbeat(1);
      w.deliver(() => true);
    }
    expect(fresh).toEqual(['v2']);
  });
});
