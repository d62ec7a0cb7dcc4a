import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import type { Message } from '../../src/raft/index.js';
import { Simulator } from '../../src/sim/index.js';
import { InvariantChecker } from '../../src/sim/raft/checkers.js';
import { SimCoordinatorReplica } from '../../src/sim/swarm/sim-replica.js';
import { type CommandResult, encodeCommand } from '../../src/swarm/index.js';

/** Three coordinator replicas on the simulator, wired as the swarm scenario wires them. */
function group() {
  const sim = new Simulator({ seed: 5 });
  const catalog = defaultCatalog();
  const checker = new InvariantChecker(sim, 5, 3);
  const opts = {
    raft: { heartbeatMs: 50, electionTimeoutMs: 150, preVote: true, checkQuorum: true },
    voters: [0, 1, 2],
    tickMs: 10,
    snapshotEvery: 500,
    snapshotKeep: 100,
  };
  const replicas: SimCoordinatorReplica[] = [];
  for (let i = 0; i < 3; i++) sim.addNode(`c${i}`, { deliver: (_f, m) => replicas[i].deliver(m as Message) });
  for (let i = 0; i < 3; i++)
    replicas.push(new SimCoordinatorReplica(sim, i, catalog, opts, checker, { onApply() {} }));
  for (const r of replicas) r.start();
  // The scenario ticks every replica from one shared 10 ms timer; so does this test.
  const tick = () => {
    for (const r of replicas) r.tick();
    sim.after(10, tick);
  };
  sim.after(10, tick);
  return { sim, catalog, checker, replicas };
}

describe('coordinator replica', () => {
  it('a client command proposed twice (a retry) applies once and both copies get the same answer', () => {
    const { sim, catalog, checker, replicas } = group();
    sim.runUntilTrue(() => replicas.some((r) => r.isLeader()), 5_000);
    const leader = replicas.find((r) => r.isLeader())!;
    expect(leader).toBeDefined();
    const feature = catalog.features.find((f) => f.requires.length === 0)!;
    const cmd = encodeCommand({ op: 'activate', feature: feature.id, at_ms: 1 });
    const answers: Array<CommandResult | null> = [];
    expect(leader.propose(cmd, (r) => answers.push(r), 77)).toBe(true);
    sim.runFor(500);
    // The retry arrives after the first copy applied (its reply was lost, say).
    expect(leader.propose(cmd, (r) => answers.push(r), 77)).toBe(true);
    sim.runFor(500);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatchObject({ ok: true });
    // Same answer, not ALREADY_ACTIVE from a second execution.
    expect(answers[1]).toEqual(answers[0]);
    expect(leader.duplicatesSkipped).toBe(1);
    expect(checker.violations).toEqual([]);
  });
});
