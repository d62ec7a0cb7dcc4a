import { describe, expect, it } from 'vitest';
import { ConfChangeType, emptyMessage, MsgType, Role } from '../../src/raft/index.js';
import { isType, Net, touches } from './harness.js';

/**
 * Review (raft core): configurations take effect when applied, so a node that holds committed but unapplied
 * membership changes still counts votes with an older configuration. etcd's `hup` refuses to campaign then
 * ("cannot campaign at term N since there are still pending configuration changes to apply"). Here it did not:
 * a node restarted from a snapshot taken while it was the only voter (the group grew to three after it) boots
 * with the one-voter configuration, and while the first Ready that applies the growth is being synced (a slow
 * disk) its election timeout fires: it elects itself alone, at a new term, then overwrites an entry that the
 * real quorum of the grown group had committed.
 */
describe('a node with committed but unapplied membership changes', () => {
  it('does not win an election with the configuration it has not left yet', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.propose(1, 1);
    net.settle(3);
    const change = (type: ConfChangeType, node: number) => {
      net.node(1).proposeConfChange({ type, node });
      net.drain(1);
      net.settle(3);
    };
    // Shrink to n1 alone, snapshot there, grow back to three voters.
    change(ConfChangeType.Remove, 3);
    change(ConfChangeType.Remove, 2);
    expect(net.node(1).raft.conf.voters).toEqual([1]);
    net.compact(1);
    change(ConfChangeType.AddVoter, 2);
    change(ConfChangeType.AddVoter, 3);
    for (const id of [1, 2, 3]) expect(net.node(id).raft.conf.voters).toEqual([1, 2, 3]);
    const k = net.node(1).raft.log.lastIndex();
    expect(net.node(2).raft.log.committed).toBe(k);
    expect(net.node(1).raft.log.committed).toBe(k);

    // n1 is cut off; n3 is elected by n2 and n3 (n2's lease runs out first).
    net.take(() => true);
    for (let i = 0; i < 40 && net.node(3).raft.role !== Role.Leader; i++) {
      net.tick(2);
      net.tick(3);
      net.take(touches(1));
      if (i > 30) {
        net.node(3).campaign();
        net.drain(3);
      }
      net.deliverWhile((m) => !touches(1)(m));
    }
    const n3 = net.node(3).raft;
    expect(n3.role).toBe(Role.Leader);
    // A write on n3 is acknowledged by n2 and commits; the App telling n2 the new commit index is lost.
    net.propose(3, 1);
    net.deliverWhile(isType(MsgType.App, 3, 2));
    net.deliverWhile(isType(MsgType.AppResp, 2, 3));
    net.take(() => true);
    const x = n3.log.lastIndex();
    expect(n3.log.committed).toBe(x);
    const committedOnN3 = n3.log.slice(k + 1, x + 1, Infinity, Infinity).map((e) => e.term);
    expect(net.node(2).raft.log.committed).toBeLessThan(x);

    // n1 learns the new term from a heartbeat of n3 (its answer is lost), then its process restarts.
    for (let i = 0; i < n3.heartbeatTicks; i++) net.node(3).tick();
    net.drain(3);
    net.deliverWhile(isType(MsgType.Heartbeat, 3, 1));
    net.take(() => true);
    expect(net.node(1).raft.term).toBe(n3.term);
    net.restart(1);
    const n1 = net.node(1);
    expect(n1.raft.conf.voters).toEqual([1]);
    expect(n1.raft.log.committed).toBe(k);

    // The first Ready applies the growth back to three voters; it must be synced first, and the disk is slow:
    // the election timeout passes meanwhile.
    const rd = n1.ready();
    expect(rd.mustSync).toBe(true);
    for (let i = 0; i < 3 * n1.raft.electionTicks; i++) n1.tick();
    expect(n1.raft.role, 'elected with the one-voter configuration it is leaving').not.toBe(Role.Leader);

    // The sync completes; the network between n1 and n2 works, n3 stays cut off.
    net.stores.get(1)!.sync(() => {});
    n1.advance(rd);
    net.drain(1);
    for (let i = 0; i < 10; i++) {
      net.take(touches(3));
      net.deliverWhile((m) => !touches(3)(m));
      net.tick(1);
      net.tick(2);
    }
    net.take(touches(3));
    // Whatever n1 and n2 committed meanwhile agrees with what n3 committed.
    for (const id of [1, 2]) {
      const r = net.node(id).raft;
      const upTo = Math.min(r.log.committed, x);
      const terms = r.log.slice(k + 1, upTo + 1, Infinity, Infinity).map((e) => e.term);
      expect(terms, `n${id}'s committed entries after ${k}`).toEqual(committedOnN3.slice(0, upTo - k));
    }
  });

  it('a TimeoutNow that arrives before the change is applied campaigns once it is', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.propose(1, 1);
    net.settle(3);
    net.node(1).proposeConfChange({ type: ConfChangeType.AddLearner, node: 4 });
    net.drain(1);
    const change = net.node(1).raft.log.lastIndex();
    // The change commits; the App telling n2 so is held back.
    net.deliverWhile((m) => m.to !== 4 && !(m.type === MsgType.App && m.to === 2 && m.commit >= change));
    expect(net.node(1).raft.log.committed).toBe(change);
    const [commitApp] = net.take((m) => m.type === MsgType.App && m.to === 2);
    net.take(() => true);
    // n2 learns the commit; while the Ready applying the change syncs, the leader's TimeoutNow arrives.
    const n2 = net.node(2);
    n2.step(commitApp);
    const rd = n2.ready();
    expect(rd.committedEntries.some((e) => e.index === change)).toBe(true);
    n2.step(emptyMessage(MsgType.TimeoutNow, 1, 2, n2.raft.term));
    expect(n2.raft.role).toBe(Role.Follower);
    // The sync completes: the change applies, then n2 campaigns.
    net.stores.get(2)!.sync(() => {});
    for (const m of rd.messages) net.queue.push(m);
    n2.advance(rd);
    expect(n2.raft.conf.learners).toEqual([4]);
    expect(n2.raft.role).toBe(Role.Candidate);
    net.drain(2);
    net.deliverWhile((m) => m.to !== 4);
    expect(net.leader()).toBe(2);
  });
});
