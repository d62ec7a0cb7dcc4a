import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import type { Message } from '../../src/raft/index.js';
import { Simulator } from '../../src/sim/index.js';
import { InvariantChecker } from '../../src/sim/raft/checkers.js';
import { SimCoordinatorReplica } from '../../src/sim/swarm/sim-replica.js';
import type { CommandResult, ReplicaOptions } from '../../src/swarm/index.js';
import { encodeCommand } from '../../src/swarm/index.js';

/** Three coordinator replicas on the simulator; `restart` builds a new object (a new process). */
function group() {
  const sim = new Simulator({ seed: 11 });
  const catalog = defaultCatalog();
  const checker = new InvariantChecker(sim, 11, 3);
  const opts: ReplicaOptions = {
    raft: { heartbeatMs: 50, electionTimeoutMs: 150, preVote: true, checkQuorum: true },
    voters: [0, 1, 2],
    tickMs: 10,
    snapshotEvery: 1_000,
    snapshotKeep: 5,
  };
  const executed: Array<{ reqId: number; result: CommandResult }> = [];
  const hooks = {
    onApply(r: SimCoordinatorReplica, _e: unknown, reqId: number, result: CommandResult | null) {
      if (result !== null && r.isLeader()) executed.push({ reqId, result });
    },
  };
  const replicas: SimCoordinatorReplica[] = [];
  const make = (i: number) => new SimCoordinatorReplica(sim, i, catalog, opts, checker, hooks);
  for (let i = 0; i < 3; i++)
    sim.addNode(`c${i}`, {
      deliver: (_f, m) => replicas[i].deliver(m as Message),
      crash: () => replicas[i].crash(),
      restart: () => {
        replicas[i] = make(i);
        replicas[i].start();
      },
    });
  for (let i = 0; i < 3; i++) replicas.push(make(i));
  for (const r of replicas) r.start();
  const tick = () => {
    for (const r of replicas) r.tick();
    sim.after(10, tick);
  };
  sim.after(10, tick);
  sim.runUntilTrue(() => replicas.some((r) => r.isLeader()), 5_000);
  sim.runFor(300);
  const leader = () => replicas.find((r) => r.isLeader())!;
  return { sim, catalog, checker, replicas, leader, executed };
}

type Inner = { nextSeq: number; life: number; lifeDurable: boolean; syncing: boolean };

describe('coordinator replica: a new life number after 2^22 own seqs', () => {
  it('own ids of the next life are used only once that life number is durable (a Ready sync issued before the write does not count)', () => {
    const { sim, catalog, replicas, leader } = group();
    const roots = catalog.features.filter((x) => x.requires.length === 0 && x.conflicts.length === 0);
    const fid = replicas.find((r) => !r.isLeader())!.id;
    const f = replicas[fid];
    const inner = f as unknown as Inner;
    // The leader replicates an entry: the follower's Ready with it is being synced.
    leader().propose(encodeCommand({ op: 'deregister_agent', agent: 'agent/none', at_ms: 500 }), () => {}, 1);
    // A slow device (50 ms per fsync), as a loaded disk: the rollover happens while that sync is in flight.
    (sim.disk(fid) as unknown as { syncLatencyMs: number }).syncLatencyMs = 50;
    expect(sim.runUntilTrue(() => inner.syncing, 2_000)).toBe(true);
    sim.runFor(10);
    expect(inner.syncing).toBe(true);
    // Now the follower's life has used all its seqs: the next number is written (after that sync was issued).
    const life = inner.life;
    inner.nextSeq = 2 ** 22;
    const answers: Array<CommandResult | null> = [];
    const x = encodeCommand({ op: 'activate', feature: roots[0].id, at_ms: 1_000 });
    expect(f.propose(x, (r) => answers.push(r))).toBe(false); // refused until life + 1 is durable
    expect(inner.life).toBe(life + 1);
    // The Ready's sync (issued before the write) completes first.
    expect(sim.runUntilTrue(() => inner.lifeDurable, 2_000)).toBe(true);
    const durable = (f.env.disk as unknown as { readDurable(k: string): unknown }).readDurable(
      'coordinator/life',
    );
    // Expected: lifeDurable only once life + 1 is on disk for good.
    expect(durable).toBe(life + 1);
  });

  it('a restarted process never reuses an own request id of a command that committed (a different new command executes)', () => {
    const { sim, catalog, replicas, leader, executed } = group();
    const roots = catalog.features.filter((x) => x.requires.length === 0 && x.conflicts.length === 0);
    const fid = replicas.find((r) => !r.isLeader())!.id;
    const inner = () => replicas[fid] as unknown as Inner;
    leader().propose(encodeCommand({ op: 'deregister_agent', agent: 'agent/none', at_ms: 500 }), () => {}, 1);
    (sim.disk(fid) as unknown as { syncLatencyMs: number }).syncLatencyMs = 50;
    expect(sim.runUntilTrue(() => inner().syncing, 2_000)).toBe(true);
    sim.runFor(10);
    expect(inner().syncing).toBe(true);
    inner().nextSeq = 2 ** 22;
    const x = encodeCommand({ op: 'activate', feature: roots[0].id, at_ms: 1_000 });
    expect(replicas[fid].propose(x, () => {})).toBe(false);
    expect(sim.runUntilTrue(() => inner().lifeDurable, 2_000)).toBe(true);
    // Proposed under (id, life + 1, 1) and forwarded to the leader; the process dies at once.
    expect(replicas[fid].propose(x, () => {})).toBe(true);
    sim.crash(fid);
    sim.runFor(1_000);
    expect(leader().machine.isActive(roots[0].id)).toBe(true);
    sim.restart(fid);
    sim.runFor(1_000);
    // The new process proposes a different command.
    const y = encodeCommand({ op: 'activate', feature: roots[1].id, at_ms: 2_000 });
    const answers: Array<CommandResult | null> = [];
    if (!replicas[fid].propose(y, (r) => answers.push(r))) {
      sim.runFor(200);
      expect(replicas[fid].propose(y, (r) => answers.push(r))).toBe(true);
    }
    sim.runFor(1_000);
    expect(answers[0]).toMatchObject({ ok: true, activated: [roots[1].id] });
    expect(leader().machine.isActive(roots[1].id)).toBe(true);
    expect(new Set(executed.map((e) => e.reqId)).size).toBe(executed.length);
  });
});
