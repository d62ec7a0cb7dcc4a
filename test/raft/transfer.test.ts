import { describe, expect, it } from 'vitest';
import { Role } from '../../src/raft/index.js';
import { Net } from './harness.js';

describe('leadership transfer requested on a follower', () => {
  it('is forwarded to the leader, which accepts it and hands over', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.propose(1, 2);
    net.deliverWhile(() => true);
    net.node(2).transferLeadership(2);
    net.drain(2);
    // The forwarded request reaches the leader's RawNode like any other message.
    expect(() => net.deliverWhile(() => true)).not.toThrow();
    net.settle(5);
    expect(net.node(2).raft.role).toBe(Role.Leader);
    expect(net.leader()).toBe(2);
  });

  it('a forwarded request naming the leader itself is harmless', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.node(3).transferLeadership(1);
    net.drain(3);
    expect(() => net.deliverWhile(() => true)).not.toThrow();
    net.settle(5);
    expect(net.leader()).toBe(1);
    expect(net.node(1).raft.term).toBe(1);
  });
});
