import { describe, expect, it } from 'vitest';
import { RaftCluster } from '../../src/sim/raft/cluster.js';

describe('the simulator Raft host serves each ReadIndex read once', () => {
  it('when a read callback issues another read synchronously (a re-entrant Ready)', () => {
    // A single voter answers a read in the Ready that the read request itself produces, so the inner request
    // finishes a Ready, and serves reads, while the outer one is still serving.
    const cluster = new RaftCluster({ seed: 3, nodes: 1 });
    cluster.sim.runFor(2_000);
    const leader = cluster.leader();
    expect(leader).not.toBeNull();
    const served = { outer: 0, inner: 0 };
    const fail = () => expect.unreachable('read refused');
    leader!.clientRead(
      'k',
      () => {
        served.outer++;
        leader!.clientRead('k', () => served.inner++, fail);
      },
      fail,
    );
    cluster.sim.runFor(1_000);
    expect(served).toEqual({ outer: 1, inner: 1 });
  });
});
