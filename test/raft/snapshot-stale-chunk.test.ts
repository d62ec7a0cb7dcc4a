import { describe, expect, it } from 'vitest';
import { type Message, MsgType } from '../../src/raft/index.js';
import { Net } from './harness.js';

/**
 * (A review of session 25.) `handleSnapChunk` drops the reassembly in progress (`this.incoming = null`) whenever any
 * chunk arrives of a snapshot the follower already covers (`meta.index <= committed`). A duplicated or delayed
 * chunk of the previous stream, arriving while the next snapshot streams, throws away every byte received so
 * far: the next chunk is rejected and the leader starts over from byte 0 (up to 1 GiB again, per stale chunk).
 * It says nothing about the stream in progress and should leave it alone.
 */
const snapshot = (net: Net, id: number, fill: number): number => {
  const rn = net.node(id);
  const at = rn.raft.log.applied;
  rn.compact(at, new Uint8Array(net.snapBytes).fill(fill), 0);
  const st = net.stores.get(id)!;
  st.saveSnapshot(rn.raft.snapshot!);
  st.compactTo(rn.raft.log.offset);
  return at;
};
const cut = (m: Message) => m.from === 3 || m.to === 3;

describe('a stale chunk of a snapshot the follower already holds', () => {
  it('does not discard the newer snapshot stream in progress (the next chunk is accepted, not rejected)', () => {
    const net = new Net([1, 2, 3], { snapshotChunkBytes: 16 });
    net.elect(1);
    net.propose(1, 3);
    net.deliverWhile(() => true);

    // n3 is cut off; the leader compacts past it (snapshot A) and streams A to n3, which installs it. One of
    // A's chunks is duplicated by the network and held back.
    net.propose(1, 3);
    net.deliverWhile((m) => !cut(m));
    net.take(cut);
    const a = snapshot(net, 1, 0xaa);
    for (let i = 0; i < 5; i++) net.tick(1);
    net.deliverWhile((m) => m.type !== MsgType.Snap);
    const dupA = net.queue.find((m) => m.type === MsgType.Snap && m.to === 3 && m.index === 16);
    expect(dupA).toBeDefined();
    const stale = { ...dupA! };
    net.deliverWhile(() => true);
    expect(net.node(3).raft.log.committed).toBeGreaterThanOrEqual(a);

    // Cut off again, the leader compacts past it once more (snapshot B) and starts streaming B.
    net.propose(1, 3);
    net.deliverWhile((m) => !cut(m));
    net.take(cut);
    const b = snapshot(net, 1, 0xbb);
    expect(b).toBeGreaterThan(net.node(3).raft.log.committed);
    for (let i = 0; i < 5; i++) net.tick(1);
    net.deliverWhile((m) => m.type !== MsgType.Snap);
    // n3 receives B's first window (four chunks, 64 bytes); its acks stay in the network.
    net.deliverWhile((m) => m.type === MsgType.Snap && m.to === 3);
    expect(net.node(3).raft.log.committed).toBeLessThan(b);
    net.take((m) => m.from === 3);

    // The stale duplicate of A arrives, then B's next chunk (bytes 64..80).
    net.step(stale);
    net.take((m) => m.from === 3);
    const next = { ...stale, snapMeta: net.node(1).raft.snapshot!.meta, index: 64 };
    next.chunk = net.node(1).raft.snapshot!.data.subarray(64, 80);
    next.chunkTotal = net.node(1).raft.snapshot!.data.length;
    next.term = net.node(1).raft.term;
    net.step(next);
    const resp = net.queue.filter((m) => m.from === 3 && m.type === MsgType.SnapResp);
    expect(resp.map((m) => ({ reject: m.reject, index: m.index }))).toEqual([{ reject: false, index: 80 }]);
  });
});
