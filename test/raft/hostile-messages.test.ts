import { describe, expect, it } from 'vitest';
import { EntryType, emptyMessage, type Message, MsgType } from '../../src/raft/index.js';
import { RaftCluster } from '../../src/sim/raft/cluster.js';

/**
 * DESIGN §2.5: a malformed or hostile message never crashes a node. The codec checks each field on its own; a
 * message whose fields are each in range but that no correct peer sends used to reach the core, where an
 * assertion (or a typed refusal) stopped the node: the host treats anything thrown from `step` as fatal.
 */
describe('messages no correct peer sends are dropped, and the node runs on', () => {
  const cluster = () => {
    const c = new RaftCluster({ seed: 5, nodes: 3 });
    c.sim.runFor(2_000);
    const leader = c.leader();
    expect(leader).not.toBeNull();
    const follower = c.nodes.find((n) => n !== leader)!;
    return { c, leader: leader!, follower };
  };
  const entry = (index: number, term: number) => ({
    index,
    term,
    type: EntryType.Normal,
    data: new Uint8Array([1]),
  });

  const cases: Array<
    [string, (from: number, to: number, term: number, last: number, lastTerm: number) => Message]
  > = [
    [
      'an App whose entries are not contiguous',
      (from, to, term, last, lastTerm) => {
        const m = emptyMessage(MsgType.App, from, to, term);
        m.index = last;
        m.logTerm = lastTerm;
        m.entries = [entry(last + 1, term), entry(last + 3, term)];
        return m;
      },
    ],
    [
      'an App whose first entry does not follow index',
      (from, to, term, last, lastTerm) => {
        const m = emptyMessage(MsgType.App, from, to, term);
        m.index = last;
        m.logTerm = lastTerm;
        m.entries = [entry(last + 5, term)];
        return m;
      },
    ],
    [
      'an App carrying an entry of a later term than its own',
      (from, to, term, last, lastTerm) => {
        const m = emptyMessage(MsgType.App, from, to, term);
        m.index = last;
        m.logTerm = lastTerm;
        m.entries = [entry(last + 1, term + 5)];
        return m;
      },
    ],
    [
      'an App of term 0 (only local requests have no term)',
      (from, to, term, last, lastTerm) => {
        const m = emptyMessage(MsgType.App, from, to, 0);
        m.index = last;
        m.logTerm = lastTerm;
        m.entries = [entry(last + 1, term)];
        m.commit = last + 1;
        return m;
      },
    ],
    ['an election request from the network', (from, to, term) => emptyMessage(MsgType.Hup, from, to, term)],
  ];

  it.each(cases)('%s', (_name, make) => {
    const { c, leader, follower } = cluster();
    const term = leader.raft!.term;
    const log = follower.raft!.log;
    const commit = log.committed;
    const last = log.lastIndex();
    follower.deliver(make(leader.id, follower.id, term, last, log.term(last)));
    c.sim.runFor(10);
    // Still running, nothing changed by the message.
    expect(follower.raft).not.toBeNull();
    expect(follower.raft!.log.committed).toBe(commit);
    expect(follower.raft!.log.lastIndex()).toBe(last);
    expect(follower.refusedMessages).toBe(1);
    c.sim.runFor(1_000);
    expect(c.checker.violations).toEqual([]);
  });
});
