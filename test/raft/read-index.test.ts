import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import {
  ConfChangeType,
  DiskStorage,
  MemoryDisk,
  RawNode,
  type ReadState,
  Role,
} from '../../src/raft/index.js';
import { isType, MsgType, Net } from './harness.js';

/** Runs every Ready of `rn` against `st` in the contract's order; returns what was applied and read. */
function drive(rn: RawNode, st: DiskStorage): { applied: number[]; reads: ReadState[] } {
  const applied: number[] = [];
  const reads: ReadState[] = [];
  while (rn.hasReady()) {
    const rd = rn.ready();
    if (rd.snapshot !== null) st.resetTo(rd.snapshot);
    st.append(rd.entries);
    if (rd.hardState !== null) st.setHardState(rd.hardState);
    if (rd.mustSync) st.sync(() => {});
    for (const e of rd.committedEntries) applied.push(e.index);
    reads.push(...rd.readStates);
    rn.advance(rd);
  }
  return { applied, reads };
}

const boot = (st: DiskStorage) => ({
  hardState: st.hardState(),
  snapshot: st.snapshot(),
  entries: st.entries(),
});

describe('ReadIndex', () => {
  it('a single-voter leader waits for an entry of its term before answering a read', () => {
    const disk = new MemoryDisk();
    const st = new DiskStorage(disk);
    const cfg = { id: 1, voters: [1], rng: new SeededRng(3) };
    let rn = new RawNode(cfg, boot(st));
    rn.campaign();
    drive(rn, st);
    rn.propose(new Uint8Array([42]));
    const { applied } = drive(rn, st);
    const write = rn.raft.log.lastIndex();
    // The write is applied (and would be acknowledged to its client).
    expect(applied).toContain(write);

    // The commit index is not synced on its own: a crash loses it, but the entry itself is durable.
    disk.crash();
    rn = new RawNode(cfg, boot(st));
    expect(rn.raft.log.lastIndex()).toBe(write);
    expect(rn.raft.log.committed).toBeLessThan(write);
    rn.campaign();
    expect(rn.raft.role).toBe(Role.Leader);
    rn.readIndex(7);
    const reads: ReadState[] = [];
    // A driver serves a read once its state machine has applied the read's index, so that index must cover
    // the acknowledged write.
    for (let i = 0; i < 5; i++) reads.push(...drive(rn, st).reads);
    expect(reads.map((r) => r.context)).toEqual([7]);
    expect(reads[0].index).toBeGreaterThanOrEqual(write);
  });
});

describe('ReadIndex across a membership change', () => {
  it('a read waiting for heartbeat acks is answered once the group shrinks to the leader alone', () => {
    const net = new Net([1, 2]);
    net.elect(1);
    net.propose(1, 1);
    net.deliverWhile(() => true);
    const leader = net.node(1);
    leader.readIndex(7);
    net.drain(1);
    // Node 2 never answers the read's heartbeat round.
    net.take(isType(MsgType.Heartbeat, 1, 2));
    leader.proposeConfChange({ type: ConfChangeType.Remove, node: 2 });
    net.drain(1);
    net.deliverWhile((m) => m.type !== MsgType.Heartbeat);
    expect(leader.raft.conf.voters).toEqual([1]);
    // No voter is left to acknowledge a heartbeat: the leader's own ack is now a quorum.
    for (let i = 0; i < 20; i++) {
      net.tick(1);
      net.deliverWhile((m) => m.type !== MsgType.Heartbeat);
    }
    expect((net.reads.get(1) ?? []).map((r) => r.context)).toEqual([7]);
  });
});
