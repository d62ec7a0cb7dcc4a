import { describe, expect, it } from 'vitest';
import { encodeKv, KvOp, MsgType } from '../../src/raft/index.js';
import { World } from './kv-world.js';

/**
 * A ReadIndex context names a read to the leader and back
 * (`KvRaftHost.clientRead`: id·2^32 + incarnation·2^20 + a counter from 1). `incarnation` counts starts of one
 * host object: the simulator restarts the same object, but a real process (`RaftProcess.start`, `elex node`)
 * builds a new host, whose incarnation is 1 again. So a restarted process reuses the contexts of its previous
 * life, and a ReadIndexResp addressed to that life (queued by the leader's transport until the node reconnects)
 * confirms the new life's read with the old, lower read index. The coordinator replica numbers reads the same way.
 */
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
