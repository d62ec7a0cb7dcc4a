import { describe, expect, it } from 'vitest';
import { type Message, MsgType } from '../../src/raft/index.js';
import { Net } from './harness.js';

/**
 * (A review of session 25.) a follower sizes its reassembly buffer from the first chunk's total (up to 1 GiB)
 * and frees it only when the stream completes or another Snap arrives (`Raft.incoming`). A follower that caught
 * up some other way (a new leader that still held the entries sent it Apps) keeps the partial buffer of a
 * snapshot it no longer needs for as long as no other Snap comes: possibly for good.
 */
describe('a partially received snapshot the follower no longer needs', () => {
  it('is released once the follower commits past it by entries (after a leader change)', () => {
    const net = new Net([1, 2, 3], { snapshotChunkBytes: 16 }, Number.POSITIVE_INFINITY, 4096);
    net.elect(1);
    net.propose(1, 3);
    net.deliverWhile(() => true);
    const cut = (m: Message) => m.from === 3 || m.to === 3;
    net.propose(1, 3);
    net.deliverWhile((m) => !cut(m));
    net.take(cut);
    // Only n1 compacts (n2 keeps its whole log).
    const rn = net.node(1);
    const s = rn.raft.log.applied;
    rn.compact(s, new Uint8Array(4096), 0);

    // n3 receives the first chunk of n1's snapshot; the rest is lost.
    for (let i = 0; i < 5; i++) net.tick(1);
    net.deliverWhile((m) => m.type !== MsgType.Snap);
    const first = net.queue.find((m) => m.type === MsgType.Snap && m.to === 3 && m.index === 0)!;
    net.queue = [];
    net.step(first);
    net.queue = [];
    const incoming = () => (net.node(3).raft as unknown as { incoming: { buf: Uint8Array } | null }).incoming;
    expect(incoming()?.buf.length).toBe(4096);

    // n1 hands leadership to n2, which still holds the entries, and catches n3 up by entries.
    rn.transferLeadership(2);
    net.drain(1);
    net.deliverWhile(() => true);
    expect(net.leader()).toBe(2);
    net.propose(2, 2);
    net.deliverWhile(() => true);
    for (let i = 0; i < 10; i++) {
      net.tick(2);
      net.deliverWhile(() => true);
    }
    expect(net.node(3).raft.log.committed).toBeGreaterThan(s);
    expect(net.node(3).raft.log.committed).toBe(net.node(2).raft.log.committed);
    expect(incoming(), 'n3 still holds the partial snapshot buffer').toBeNull();
  });
});
