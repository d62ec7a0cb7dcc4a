import { describe, expect, it } from 'vitest';
import {
  ConfChangeType,
  type Entry,
  EntryType,
  emptyMessage,
  encodeConfChange,
  MsgType,
} from '../../src/raft/index.js';
import { Net } from './harness.js';

/**
 * Review (raftread): the one-change-at-a-time rule and the validity checks of a membership change live only in
 * `RawNode.proposeConfChange`. The leader's core appends whatever ConfChange entries a `Prop` carries, and a
 * `Prop` is a forwarded type that `networkRefusal` lets through from any peer (term 0 and all). etcd checks every
 * ConfChange entry of every MsgProp in `stepLeader` (pendingConfIndex, and refuses it as an empty entry).
 */
const cc = (type: ConfChangeType, node: number): Entry => ({
  index: 0,
  term: 0,
  type: EntryType.ConfChange,
  data: encodeConfChange({ type, node }),
});

describe('membership changes arriving as a forwarded proposal', () => {
  it('a Prop carrying several ConfChange entries is not appended as several changes at once', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.propose(1, 2);
    net.deliverWhile(() => true);
    const leader = net.node(1).raft;
    // What no correct peer sends: RawNode only proposes a change on the leader, one at a time.
    const m = emptyMessage(MsgType.Prop, 2, 1, 0);
    m.entries = [cc(ConfChangeType.Remove, 2), cc(ConfChangeType.Remove, 3)];
    const before = leader.log.lastIndex();
    try {
      net.step(m);
    } catch {
      // refused at the network check: fine
    }
    const appended = leader.log.entries.filter(
      (e) => e.index > before && e.type === EntryType.ConfChange,
    ).length;
    // At most one change may be pending (and none while the previous one is unapplied).
    expect(appended).toBeLessThanOrEqual(1);
  });

  it('a forwarded change that empties the configuration never takes effect: the group keeps a leader', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.propose(1, 2);
    net.deliverWhile(() => true);
    // validateConfChange refuses a configuration without voters, but only on RawNode.proposeConfChange.
    const m = emptyMessage(MsgType.Prop, 2, 1, 0);
    m.entries = [cc(ConfChangeType.Remove, 2), cc(ConfChangeType.Remove, 3), cc(ConfChangeType.Remove, 1)];
    try {
      net.step(m);
    } catch {
      // refused at the network check: fine
    }
    net.settle(200);
    for (const id of [1, 2, 3]) expect(net.node(id).raft.conf.voters.length).toBeGreaterThan(0);
    expect(net.leader()).not.toBeNull();
  });
});
