import { describe, expect, it } from 'vitest';
import { ConfChangeType, Role } from '../../src/raft/index.js';
import { Net } from './harness.js';

/**
 * A configuration takes effect here when its entry applies, so the commit of a conf change must be durable
 * before it applies. Commit-only Readys were not synced: a two-voter group shrunk to {1} by removing 2, its
 * survivor crashed, came back with the removal uncommitted and waited for 2's vote for good (a review of
 * session 25, on real processes: test/node/shrink-restart.test.ts).
 */
describe('the commit of a membership change is durable before it applies', () => {
  it('the survivor of a shrink to one voter, crashed and restarted, leads alone', () => {
    const net = new Net([1, 2]);
    net.elect(1);
    net.propose(1, 1);
    net.settle(2);
    net.node(1).proposeConfChange({ type: ConfChangeType.Remove, node: 2 });
    net.drain(1);
    net.deliverWhile(() => true);
    expect([...net.node(1).raft.conf.voters]).toEqual([1]);
    // Node 2 is decommissioned; node 1 crashes before anything else reaches its disk.
    net.nodes.delete(2);
    net.queue = [];
    net.restart(1);
    for (let i = 0; i < 200 && net.node(1).raft.role !== Role.Leader; i++) net.tick(1);
    expect([...net.node(1).raft.conf.voters]).toEqual([1]);
    expect(net.node(1).raft.role).toBe(Role.Leader);
  });
});
