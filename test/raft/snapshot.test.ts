import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/index.js';
import { Net } from './harness.js';

/**
 * Review (raftread): the leader streams only its *latest* snapshot, and restarts a follower's stream from byte 0
 * whenever it takes a newer one (`sendChunks`: `snap.meta.index !== pr.pendingSnapshot`). A stream of S bytes
 * takes S / (4 chunks) round trips; a leader that snapshots more often than that (sustained writes, a big
 * state, a slow link) restarts the stream before it ends, for ever, although it keeps enough log behind each
 * snapshot (`snapshotKeep`) for the follower to catch up from the snapshot it was receiving. etcd pins the
 * snapshot a follower is being sent (`pr.PendingSnapshot`) until the follower reports it applied or failed.
 */
const KEEP = 40;

/** Snapshots the leader at its applied index, keeping KEEP entries behind it (as RaftHost does). */
function snapshot(net: Net, id: number): number {
  const rn = net.node(id);
  const at = rn.raft.log.applied;
  rn.compact(at, new Uint8Array(net.snapBytes).fill(at & 0xff), KEEP);
  const st = net.stores.get(id)!;
  st.saveSnapshot(rn.raft.snapshot!);
  st.compactTo(rn.raft.log.offset);
  return at;
}

/** One network hop: delivers what is in flight now; what that produces waits for the next hop. */
function hop(net: Net): void {
  const now: Message[] = net.queue;
  net.queue = [];
  for (const m of now) net.step(m);
}

function run(snapshotEveryRounds: number): { n3: number; leader: number; installed: number } {
  // 16-byte chunks of a 400-byte snapshot: 25 chunks, four per round trip (two hops).
  const net = new Net([1, 2, 3], { snapshotChunkBytes: 16 }, Number.POSITIVE_INFINITY, 400);
  net.elect(1);
  net.propose(1, 5);
  net.deliverWhile(() => true);

  // n3 is cut off while the leader writes and compacts past its log.
  net.propose(1, 100);
  net.deliverWhile((m) => m.from !== 3 && m.to !== 3);
  net.take((m) => m.from === 3 || m.to === 3);
  snapshot(net, 1);
  expect(net.node(1).raft.log.offset).toBeGreaterThan(net.node(3).raft.log.lastIndex());

  // Healed. The leader takes 2 writes per hop, and snapshots every `snapshotEveryRounds` hops, keeping 40
  // entries: far more than what it writes while one stream is in flight.
  let installed = 0;
  for (let round = 1; round <= 400; round++) {
    net.propose(1, 2);
    if (round % snapshotEveryRounds === 0) snapshot(net, 1);
    for (const id of [1, 2, 3]) net.tick(id);
    hop(net);
    if (net.node(3).raft.snapshot !== null) installed++;
  }
  return {
    n3: net.node(3).raft.log.applied,
    leader: net.node(1).raft.log.applied,
    installed,
  };
}

describe('snapshot streaming under sustained writes', () => {
  it('a follower catches up although the leader snapshots while its stream is in flight', () => {
    // Control: with rare snapshots the same schedule lets the cut-off follower catch up.
    const control = run(400);
    expect(control.leader - control.n3).toBeLessThan(10);
    // A new snapshot every 6 hops (3 round trips); a stream needs 25 / 4 ≈ 7 round trips.
    const r = run(6);
    expect(r.installed, 'n3 never installed a snapshot').toBeGreaterThan(0);
    expect(r.leader - r.n3).toBeLessThan(10);
  });
});
