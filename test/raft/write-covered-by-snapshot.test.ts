import { describe, expect, it } from 'vitest';
import { encodeKv, KvOp, type KvResult, MsgType } from '../../src/raft/index.js';
import { World } from './kv-world.js';

/**
 * A write waits on the node it was sent to until that node applies it. A node that catches up by snapshot
 * past its own write never applies the entry, so the waiter was never answered: a 504 after the request
 * timeout for a write that had applied (a review of session 25). The machine remembers each session's last
 * answer, so a waiter whose (client, seq) the snapshot covers gets it.
 */
describe('a write whose entry a snapshot covers', () => {
  it('is answered from the session table once the snapshot is installed', () => {
    const w = new World([1, 2, 3], {
      raft: {},
      voters: [1, 2, 3],
      tickMs: 10,
      snapshotEvery: 5,
      snapshotKeep: 0,
    });
    const h1 = w.host(1);
    h1.guard(() => h1.rn!.campaign());
    w.deliver(() => true);
    expect(h1.isLeader()).toBe(true);
    const ok: Array<KvResult | null> = [];
    h1.clientWrite(encodeKv({ op: KvOp.Register, client: 0, seq: 1, key: '' }), (r) => ok.push(r));
    w.deliver(() => true);
    w.heartbeat(1);
    w.deliver(() => true);
    const client = Number(ok[0]?.value);
    expect(client).toBeGreaterThan(0);

    // n3 takes a write in that session and forwards it; then n3 is cut off.
    const answers: Array<KvResult | null> = [];
    const n3 = w.host(3);
    n3.clientWrite(encodeKv({ op: KvOp.Put, client, seq: 1, key: 'k', value: 'v' }), (r) => answers.push(r));
    w.deliver((m) => m.from === 3 && m.type === MsgType.Prop);
    // The leader commits it with n2 and moves on, snapshotting past it.
    for (let i = 0; i < 12; i++) {
      h1.clientWrite(encodeKv({ op: KvOp.Put, client: 0, seq: 100 + i, key: `x${i}`, value: 'y' }), () => {});
      w.deliver((m) => m.to !== 3);
      w.heartbeat(1);
      w.deliver((m) => m.to !== 3);
    }
    w.take((m) => m.to === 3);
    expect(h1.kv.get('k')).toBe('v');
    expect(h1.raft!.log.offset).toBeGreaterThan(3);
    // Healed: n3 gets the snapshot, not the entry.
    for (let i = 0; i < 5; i++) {
      w.heartbeat(1);
      w.deliver(() => true);
    }
    expect(n3.kv.get('k')).toBe('v');
    expect(answers).toEqual([{ ok: true, value: null }]);
  });
});
