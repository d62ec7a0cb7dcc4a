import { describe, expect, it } from 'vitest';
import { ConfChangeType, Role } from '../../src/raft/index.js';
import { codeOf } from '../gossip/code-of.js';
import { isType, MsgType, Net } from './harness.js';

/**
 * Configurations take effect when applied here. A leader that removed itself used to step down the moment it
 * applied the removal, while the survivor of a two-voter group still ran the old configuration and needed the
 * removed node's vote. With an entry the survivor lacked, the removed node refused that vote (up-to-date check)
 * and, no longer a voter in its own configuration, never campaigned or replicated again: no leader, ever, after
 * two lost messages (etcd-io/etcd#10563). Now the removed leader hands over (raft.ts `handOver`).
 */
describe('removing the leader of a two-voter group', () => {
  it('the surviving voter is elected once the network heals', () => {
    const net = new Net([1, 2]);
    net.elect(1);
    net.propose(1, 2);
    net.settle(5);
    const leader = net.node(1);
    expect(leader.raft.role).toBe(Role.Leader);
    expect(net.node(2).raft.log.committed).toBe(leader.raft.log.committed);

    // The removal of the leader reaches n2 and n2 acknowledges it.
    leader.proposeConfChange({ type: ConfChangeType.Remove, node: 1 });
    net.drain(1);
    const removal = leader.raft.log.lastIndex();
    net.deliverWhile(isType(MsgType.App, 1, 2));
    const ack = net.take(isType(MsgType.AppResp, 2, 1));
    expect(ack.length).toBeGreaterThan(0);

    // A client write lands on the leader after the removal entry; its App to n2 is lost.
    leader.propose(new Uint8Array([9]));
    net.drain(1);
    net.take(isType(MsgType.App, 1, 2));

    // The ack commits the removal and the leader applies it. The App telling n2 the new commit index is lost
    // as well (two lost messages: an ordinary fault).
    for (const m of ack) net.step(m);
    expect(leader.raft.log.applied).toBeGreaterThanOrEqual(removal);
    expect(leader.raft.conf.voters).toEqual([2]);
    net.take(() => true);
    // It leads on, to hand over: it takes no proposal, and it is transferring to n2.
    expect(leader.raft.role).toBe(Role.Leader);
    expect(leader.raft.leadTransferee).toBe(2);
    const before = leader.raft.log.lastIndex();
    expect(codeOf(() => leader.propose(new Uint8Array([7])))).toBe('E_PROPOSAL_DROPPED');
    expect(leader.raft.log.lastIndex()).toBe(before);

    // From here on the network is perfect.
    net.settle(500);
    expect(net.leader(), 'a leader after healing').toBe(2);
    // n2 caught up first (it holds the write made after the removal) and runs the new configuration; n1 follows.
    const n2 = net.node(2).raft;
    expect(n2.log.lastIndex()).toBeGreaterThanOrEqual(before);
    expect(n2.conf.voters).toEqual([2]);
    expect(leader.raft.role).toBe(Role.Follower);
  });
});

describe('a removed leader whose first choice of successor is down', () => {
  it('hands over to another voter instead of waiting on the one that is down', () => {
    const net = new Net([1, 2, 3, 4]);
    net.elect(1);
    net.propose(1, 2);
    net.settle(5);
    const leader = net.node(1);
    leader.proposeConfChange({ type: ConfChangeType.Remove, node: 1 });
    net.drain(1);
    // The removal reaches everyone and commits; the leader applies it and starts its hand-over.
    net.deliverWhile((m) => m.from === 1);
    const acks = net.take((m) => m.to === 1);
    for (const m of acks) net.step(m);
    expect(leader.raft.conf.voters).toEqual([2, 3, 4]);
    expect(leader.raft.role).toBe(Role.Leader);
    // Every remaining voter is caught up, so the first choice is n2; n2 goes down for good before it hears.
    expect(leader.raft.leadTransferee).toBe(2);
    const cut = (m: { from: number; to: number }) => m.from === 2 || m.to === 2;
    net.take(cut);
    const leads = () => [3, 4].find((id) => net.node(id).raft.role === Role.Leader);
    for (let round = 0; round < 200 && leads() === undefined; round++) {
      for (const id of [1, 3, 4]) net.tick(id);
      net.take(cut);
      net.deliverWhile((m) => !cut(m));
    }
    // n3 and n4 are a quorum of {2, 3, 4}: one of them leads, and n1 no longer does.
    expect(leads()).toBeDefined();
    expect(leader.raft.role).not.toBe(Role.Leader);
  });
});
