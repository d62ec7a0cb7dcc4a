import { describe, expect, it } from 'vitest';
import { MsgType } from '../../src/raft/index.js';
import { Net } from './harness.js';

const compact = (net: Net, id: number, fill: number): number => {
  const rn = net.node(id);
  const at = rn.raft.log.applied;
  rn.compact(at, new Uint8Array(net.snapBytes).fill(fill), 0);
  return at;
};

describe('chunked InstallSnapshot', () => {
  it('a delayed SnapResp of a replaced snapshot does not wedge the new stream', () => {
    // 16-byte chunks, 200-byte snapshots: a window of four chunks (64 bytes) per round trip.
    const net = new Net([1, 2, 3], { snapshotChunkBytes: 16 });
    net.elect(1);
    net.propose(1, 3);
    net.deliverWhile(() => true);

    // n3 misses a few entries, which the leader then compacts away (snapshot A).
    net.propose(1, 3);
    net.deliverWhile((m) => m.from !== 3 && m.to !== 3);
    net.take((m) => m.from === 3 || m.to === 3);
    const a = compact(net, 1, 0xaa);
    expect(net.node(3).raft.log.committed).toBeLessThan(a);

    // A heartbeat round sends n3 into snapshot state; the stream of A progresses, but n3's later acks are
    // delayed in the network.
    for (let i = 0; i < 5; i++) net.tick(1);
    const delayedA = (m: { type: number; from: number; index: number }) =>
      m.type === MsgType.SnapResp && m.from === 3 && m.index > 80;
    net.deliverWhile((m) => !delayedA(m));
    const stale = net.take(delayedA);
    expect(stale.length).toBeGreaterThan(0);

    // Meanwhile the leader commits more and replaces its snapshot (B).
    net.propose(1, 3);
    net.deliverWhile(() => true);
    const b = compact(net, 1, 0xbb);
    expect(b).toBeGreaterThan(a);

    // The next heartbeat response restarts the stream with B; n3 receives B's first window, its acks are
    // still on their way when the delayed acks of A arrive.
    for (let i = 0; i < 5; i++) net.tick(1);
    net.deliverWhile((m) => !(m.type === MsgType.SnapResp && m.from === 3));
    for (const m of stale) net.step(m);

    // From here on the network is healthy: n3 must catch up.
    net.settle(300);
    expect(net.node(3).raft.log.committed).toBe(net.node(1).raft.log.committed);
    expect(net.node(3).raft.log.applied).toBeGreaterThanOrEqual(b);
  });
});
