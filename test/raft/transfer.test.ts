import { describe, expect, it } from 'vitest';
import { ConfChangeType, NONE, Role } from '../../src/raft/index.js';
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

describe('leadership transfer back to the leader itself', () => {
  it('aborts the pending transfer, so the leader accepts proposals again (etcd TestLeaderTransferBack)', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.propose(1, 1);
    net.deliverWhile(() => true);
    // n3 falls behind, so a transfer to it stays pending while it catches up.
    net.propose(1, 2);
    net.take((m) => m.to === 3);
    net.deliverWhile(() => true);
    const leader = net.node(1);
    leader.transferLeadership(3);
    net.drain(1);
    net.take((m) => m.to === 3);
    expect(leader.raft.leadTransferee).toBe(3);
    expect(() => leader.propose(new Uint8Array([1]))).toThrow(/E_PROPOSAL_DROPPED|transfer/);
    // The operator changes their mind: transfer to the current leader.
    leader.transferLeadership(1);
    net.drain(1);
    expect(leader.raft.leadTransferee).toBe(NONE);
    expect(() => leader.propose(new Uint8Array([2]))).not.toThrow();
    expect(leader.raft.role).toBe(Role.Leader);
  });
});

describe('leadership transfer to a node being demoted', () => {
  it('is aborted once the demotion applies, as etcd does, so proposals are accepted again', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.propose(1, 1);
    net.deliverWhile(() => true);
    const leader = net.node(1);
    // Demote n3 to a learner; n3 hears nothing from here on, so a transfer to it stays pending.
    leader.proposeConfChange({ type: ConfChangeType.AddLearner, node: 3 });
    net.drain(1);
    leader.transferLeadership(3);
    net.drain(1);
    expect(leader.raft.leadTransferee).toBe(3);
    net.take((m) => m.to === 3);
    net.deliverWhile((m) => m.to !== 3);
    net.take((m) => m.to === 3);
    expect(leader.raft.conf.learners).toEqual([3]);
    expect(leader.raft.role).toBe(Role.Leader);
    // A learner cannot become leader: the transfer is over, and proposals are accepted at once.
    expect(leader.raft.leadTransferee).toBe(NONE);
    expect(() => leader.propose(new Uint8Array([3]))).not.toThrow();
  });
});
