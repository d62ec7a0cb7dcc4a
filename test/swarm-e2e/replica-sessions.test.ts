import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { ConfChangeType, type Message } from '../../src/raft/index.js';
import { Simulator } from '../../src/sim/index.js';
import { InvariantChecker } from '../../src/sim/raft/checkers.js';
import { SimCoordinatorReplica } from '../../src/sim/swarm/sim-replica.js';
import type { Catalog, ReplicaOptions } from '../../src/swarm/index.js';
import { type Command, type CommandResult, encodeCommand } from '../../src/swarm/index.js';

/**
 * Client sessions of the coordinator replica (exactly-once across snapshot/restore, bounded state). Three
 * replicas wired as the swarm scenario wires them, with crash/restart handlers; snapshots every 20 entries so
 * a short log is compacted. `fresh` restarts a replica as a new process (a new object: nothing volatile
 * survives), otherwise the same object restarts (as the scenario does).
 */
function group(fresh = false) {
  const sim = new Simulator({ seed: 11 });
  const catalog = defaultCatalog();
  const checker = new InvariantChecker(sim, 11, 3);
  const opts: ReplicaOptions = {
    raft: { heartbeatMs: 50, electionTimeoutMs: 150, preVote: true, checkQuorum: true },
    voters: [0, 1, 2],
    tickMs: 10,
    snapshotEvery: 20,
    snapshotKeep: 5,
  };
  const applied = new Map<number, number>();
  const hooks = {
    onApply(_r: SimCoordinatorReplica, e: { index: number }, reqId: number, result: CommandResult | null) {
      if (result !== null && !applied.has(reqId)) applied.set(reqId, e.index);
    },
  };
  const replicas: SimCoordinatorReplica[] = [];
  const make = (i: number) => new SimCoordinatorReplica(sim, i, catalog, opts, checker, hooks);
  for (let i = 0; i < 3; i++)
    sim.addNode(`c${i}`, {
      deliver: (_f, m) => replicas[i].deliver(m as Message),
      crash: () => replicas[i].crash(),
      restart: () => {
        if (fresh) replicas[i] = make(i);
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
  sim.runFor(300); // every follower has heard from the leader (it forwards proposals)
  const leader = () => replicas.find((r) => r.isLeader())!;
  expect(leader()).toBeDefined();
  return { sim, catalog, checker, replicas, leader, applied };
}

/** A command the machine refuses (UNKNOWN_AGENT): the machine's state, and so its snapshot, never changes. */
const noop = (at_ms: number): Command => ({ op: 'deregister_agent', agent: 'agent/nobody', at_ms });

/** Machine-independent part of a replica's latest Raft snapshot: the driver's own bytes. */
function driverBytes(r: SimCoordinatorReplica): number {
  const snap = r.raft!.snapshot!;
  return snap.data.length - r.machine.snapshot().length;
}

const CLIENT = 2 ** 40;

/**
 * While follower `f` is down the leader's log moves on and is compacted; `f` comes back, installs the
 * snapshot, and the client retries request `reqId` (`cmd`) on it: it must get the answer it got first.
 */
function retryAfterSnapshotCatchUp(
  g: Pick<ReturnType<typeof group>, 'sim' | 'checker' | 'replicas' | 'leader'>,
  f: number,
  cmd: Uint8Array,
  reqId: number,
  answers: Array<CommandResult | null>,
  atMs: number,
): void {
  const { sim, checker, replicas, leader } = g;
  for (let i = 0; i < 45; i++) leader().propose(encodeCommand(noop(atMs + i)), () => {}, 10_000 + i);
  sim.runFor(1_000);
  const lead = leader();
  expect(lead.raft!.log.offset).toBeGreaterThan(0);
  sim.restart(f);
  sim.runUntilTrue(() => replicas[f].appliedIndex >= lead.appliedIndex, 5_000);
  expect(replicas[f].raft!.snapshot!.meta.index).toBeGreaterThan(0);
  expect(replicas[f].propose(cmd, (r) => answers.push(r), reqId)).toBe(true);
  sim.runFor(1_000);
  expect(answers).toHaveLength(2);
  expect(answers[1]).toEqual(answers[0]);
  expect(checker.violations).toEqual([]);
}

/** A new replica (not started: restore only) restored from `bytes` taken at `index`. */
function restoredCopy(
  sim: Simulator,
  catalog: Catalog,
  bytes: Uint8Array,
  index: number,
): SimCoordinatorReplica {
  const opts = {
    raft: { heartbeatMs: 50, electionTimeoutMs: 150 },
    voters: [0],
    tickMs: 10,
    snapshotEvery: 20,
    snapshotKeep: 5,
  };
  const copy = new SimCoordinatorReplica(sim, 0, catalog, opts, new InvariantChecker(sim, 1, 1), {
    onApply() {},
  });
  (copy as unknown as { restoreSnapshot(d: Uint8Array, i: number): void }).restoreSnapshot(bytes, index);
  return copy;
}

describe('coordinator replica: client sessions', () => {
  it('a retried, already-applied command gets its original answer from a replica restarted from its snapshot', () => {
    const { sim, catalog, checker, replicas, leader, applied } = group(true);
    const f = replicas.find((r) => !r.isLeader())!.id;
    const feature = catalog.features.find((x) => x.requires.length === 0)!;
    const cmd = encodeCommand({ op: 'activate', feature: feature.id, at_ms: 1000 });
    const answers: Array<CommandResult | null> = [];
    expect(replicas[f].propose(cmd, (r) => answers.push(r), 77)).toBe(true);
    sim.runFor(500);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ ok: true, op: 'activate' });
    // Enough later entries that the command is inside every replica's snapshot and out of its log.
    for (let i = 0; i < 45; i++) leader().propose(encodeCommand(noop(1000 + i)), () => {}, 1000 + i);
    sim.runFor(1_000);
    // A later Ready's sync makes the snapshot (written after the last one) durable.
    for (let i = 45; i < 50; i++) leader().propose(encodeCommand(noop(1000 + i)), () => {}, 1000 + i);
    sim.runFor(1_000);
    const xIndex = applied.get(CLIENT + 77)!;
    expect(replicas[f].storage.snapshot()!.meta.index).toBeGreaterThan(xIndex);

    // The follower's process restarts (volatile memory lost) and restores from its own snapshot.
    sim.crash(f);
    sim.runFor(200);
    sim.restart(f);
    sim.runFor(1_000);
    expect(replicas[f].snapshotsTaken).toBe(0); // a new process: it restored, and has not re-taken, its snapshot
    expect(replicas[f].appliedIndex).toBeGreaterThan(xIndex);
    expect(replicas[f].raft!.log.offset).toBeGreaterThanOrEqual(xIndex);

    // The client's retry of command 77 (its first reply was lost) reaches the restarted replica.
    expect(replicas[f].propose(cmd, (r) => answers.push(r), 77)).toBe(true);
    sim.runFor(1_000);
    expect(answers).toHaveLength(2);
    expect(answers[1]).toEqual(answers[0]);
    expect(replicas[f].machine.isActive(feature.id)).toBe(true);
    expect(checker.violations).toEqual([]);
  });

  it('a replica that caught up by InstallSnapshot answers a retry with the original result', () => {
    const { sim, catalog, checker, replicas, leader } = group(false);
    const f = replicas.find((r) => !r.isLeader())!.id;
    sim.crash(f);
    const feature = catalog.features.find((x) => x.requires.length === 0)!;
    const cmd = encodeCommand({ op: 'activate', feature: feature.id, at_ms: 1000 });
    const answers: Array<CommandResult | null> = [];
    expect(leader().propose(cmd, (r) => answers.push(r), 77)).toBe(true);
    sim.runFor(500);
    expect(answers[0]).toMatchObject({ ok: true, op: 'activate' });
    retryAfterSnapshotCatchUp({ sim, checker, replicas, leader }, f, cmd, 77, answers, 1000);
  });

  it('the driver state in the snapshot stays bounded as one client issues thousands of commands', () => {
    const { sim, checker, leader } = group(false);
    // One command every 20 ms, 1 s of leader clock apart (so the log's time advances 1 s per command).
    let n = 0;
    const overhead: number[] = [];
    const issue = (upTo: number) => {
      const step = () => {
        if (n >= upTo) return;
        n++;
        leader().propose(encodeCommand(noop(n * 1000)), () => {}, n);
        sim.after(20, step);
      };
      step();
      sim.runFor((upTo - n) * 20 + 1_000);
    };
    issue(600);
    overhead.push(driverBytes(leader()));
    issue(1800);
    overhead.push(driverBytes(leader()));
    // Before: 8 bytes per request id ever applied (about 4.8 KB, then 14.4 KB).
    expect(overhead[1]).toBeLessThanOrEqual(overhead[0] + 64);
    expect(overhead[1]).toBeLessThan(8_000);
    expect(checker.violations).toEqual([]);
  });

  it('many one-off clients (distinct sessions) do not grow the snapshot without bound', () => {
    const { sim, checker, leader } = group(false);
    let n = 0;
    const overhead: number[] = [];
    const issue = (upTo: number) => {
      const step = () => {
        if (n >= upTo) return;
        n++;
        // Client n's first (and only) request: session n, sequence 1.
        leader().propose(encodeCommand(noop(n * 1000)), () => {}, n * 2 ** 32 + 1);
        sim.after(20, step);
      };
      step();
      sim.runFor((upTo - n) * 20 + 1_000);
    };
    issue(1200);
    overhead.push(driverBytes(leader()));
    issue(2400);
    overhead.push(driverBytes(leader()));
    // Sessions silent for 10 minutes of log time are forgotten: about 600 live ones either time (the numbers
    // in them gain a digit or so). Before: 8 bytes per request id ever applied (9.6 KB, then 19.2 KB).
    expect(overhead[1]).toBeLessThan(overhead[0] * 1.1);
    expect(checker.violations).toEqual([]);
  });

  it('a copy arriving after its answer expired (30 s of log time) is not executed again', () => {
    const { sim, catalog, checker, leader } = group(false);
    const feature = catalog.features.find((x) => x.requires.length === 0)!;
    const activate = encodeCommand({ op: 'activate', feature: feature.id, at_ms: 1_000 });
    const answers: Array<CommandResult | null> = [];
    leader().propose(activate, (r) => answers.push(r), 5);
    sim.runFor(500);
    expect(answers[0]).toMatchObject({ ok: true });
    leader().propose(encodeCommand({ op: 'deactivate', feature: feature.id, at_ms: 2_000 }), () => {}, 6);
    // Log time moves past the retention (the leader's clock, not the simulator's).
    leader().propose(encodeCommand(noop(40_000)), () => {}, 7);
    sim.runFor(500);
    expect(leader().machine.isActive(feature.id)).toBe(false);
    // A very late copy of request 5: executing it would activate the feature again.
    leader().propose(activate, (r) => answers.push(r), 5);
    sim.runFor(500);
    expect(answers[1]).toBeNull();
    expect(leader().machine.isActive(feature.id)).toBe(false);
    expect(leader().settledSkipped).toBe(1);
    expect(checker.violations).toEqual([]);
  });

  it('a pipelined client: a lower sequence number committed after a higher one still executes, once', () => {
    const { sim, checker, leader } = group(false);
    const got = new Map<number, CommandResult | null>();
    for (const seq of [9, 8, 7, 9, 3, 8])
      leader().propose(encodeCommand(noop(1_000 + seq)), (r) => got.set(seq, r), seq);
    sim.runFor(500);
    expect([...got.keys()].sort((a, b) => a - b)).toEqual([3, 7, 8, 9]);
    for (const r of got.values()) expect(r).toMatchObject({ ok: false, code: 'UNKNOWN_AGENT' });
    expect(leader().duplicatesSkipped).toBe(2);
    expect(checker.violations).toEqual([]);
  });

  it('the session table is a function of the log: replicas at the same index hold the same bytes, restore is exact', () => {
    const { sim, catalog, replicas, leader } = group(false);
    const take = (r: SimCoordinatorReplica) =>
      (r as unknown as { takeSnapshot(): Uint8Array }).takeSnapshot();
    const feature = catalog.features.find((x) => x.requires.length === 0)!;
    leader().propose(encodeCommand({ op: 'activate', feature: feature.id, at_ms: 500 }), () => {}, 1);
    for (let i = 2; i < 80; i++) leader().propose(encodeCommand(noop(i * 1_000)), () => {}, i);
    sim.runFor(2_000);
    const index = leader().appliedIndex;
    expect(replicas.every((r) => r.appliedIndex === index)).toBe(true);
    const bytes = replicas.map(take);
    expect(bytes[1]).toEqual(bytes[0]);
    expect(bytes[2]).toEqual(bytes[0]);
    // Restored into a new replica (not started: restore only), it snapshots byte-identically.
    const copy = restoredCopy(sim, catalog, bytes[0], index);
    expect(take(copy)).toEqual(bytes[0]);
  });
});

describe('coordinator replica: the machine sees every applied index', () => {
  it('a skipped copy still advances the applied index the dependency check reports, as on a restored replica', () => {
    const { sim, catalog, replicas, leader } = group(false);
    const feature = catalog.features.find((x) => x.requires.length === 0)!;
    const cmd = encodeCommand({ op: 'activate', feature: feature.id, at_ms: 1_000 });
    leader().propose(cmd, () => {}, 5);
    sim.runFor(500);
    // The client's retry commits as a second entry: it does not execute again, but it is applied.
    leader().propose(cmd, () => {}, 5);
    sim.runFor(500);
    const lead = leader();
    expect(lead.duplicatesSkipped).toBe(1);
    const index = lead.appliedIndex;
    const check = lead.machine.dependencyCheck(feature.id);
    expect(check).toMatchObject({ ok: true, applied_index: index });
    // A replica restored from a snapshot at that index answers the same read the same way.
    const take = (r: SimCoordinatorReplica) =>
      (r as unknown as { takeSnapshot(): Uint8Array }).takeSnapshot();
    const copy = restoredCopy(sim, catalog, take(lead), index);
    expect(copy.machine.dependencyCheck(feature.id)).toEqual(check);
    expect(replicas.every((r) => r.machine.applied === index)).toBe(true);
  });

  it('a configuration change entry advances it too', () => {
    const { sim, catalog, replicas, leader } = group(false);
    const feature = catalog.features.find((x) => x.requires.length === 0)!;
    leader().propose(encodeCommand({ op: 'activate', feature: feature.id, at_ms: 1_000 }), () => {}, 5);
    sim.runFor(500);
    const lead = leader();
    const follower = replicas.find((r) => !r.isLeader())!.id;
    lead.guard(() => lead.rn!.proposeConfChange({ type: ConfChangeType.AddLearner, node: follower }));
    sim.runFor(500);
    expect(lead.raft!.log.lastIndex()).toBe(lead.appliedIndex);
    expect(lead.machine.dependencyCheck(feature.id)).toMatchObject({ applied_index: lead.appliedIndex });
  });
});

describe('coordinator replica: answers kept for retries', () => {
  it('a cooldown that never ends is answered the same to a retry on a replica that caught up by snapshot', () => {
    const { sim, catalog, checker, replicas, leader } = group(false);
    const f = replicas.find((r) => !r.isLeader())!.id;
    sim.crash(f);
    const feature = catalog.features.find((x) => x.requires.length === 0)!.id;
    const parameter = catalog.globalZones[0].parameter;
    const z = catalog.zone(parameter)!;
    const mid = (z.safe_min + z.safe_max) / 2;
    const zone = {
      absolute_min: z.absolute_min,
      absolute_max: z.absolute_max,
      safe_min: z.safe_min,
      safe_max: z.safe_max,
      change_limit_percent: z.change_limit_percent,
      cooldown_seconds: 1e306, // a valid (finite) zone: 1e309 ms overflows
    };
    const setTo = (value: number, at_ms: number) =>
      encodeCommand({ op: 'set_parameter', feature, parameter, value, at_ms });
    leader().propose(encodeCommand({ op: 'activate', feature, at_ms: 1_000 }), () => {}, 1);
    leader().propose(encodeCommand({ op: 'update_safe_zone', parameter, zone, at_ms: 1_001 }), () => {}, 2);
    leader().propose(setTo(mid, 1_002), () => {}, 3);
    sim.runFor(500);
    const answers: Array<CommandResult | null> = [];
    const retried = setTo(mid * 1.001, 2_000);
    expect(leader().propose(retried, (r) => answers.push(r), 4)).toBe(true);
    sim.runFor(500);
    expect(answers[0]).toMatchObject({ ok: false, code: 'COOLDOWN' });
    retryAfterSnapshotCatchUp({ sim, checker, replicas, leader }, f, retried, 4, answers, 3_000);
  });
});

describe('coordinator replica: its own request ids', () => {
  it('a replica restarted as a new process executes its new commands, not the answers of its previous life', () => {
    const { sim, catalog, checker, replicas } = group(true);
    const roots = catalog.features.filter((x) => x.requires.length === 0 && x.conflicts.length === 0);
    const [a, b] = [roots[0].id, roots[1].id];
    const f = replicas.find((r) => !r.isLeader())!.id;
    const answers: Array<CommandResult | null> = [];
    // The node's own API proposes without a client id (`CoordinatorNode.command`).
    expect(
      replicas[f].propose(encodeCommand({ op: 'activate', feature: a, at_ms: 1_000 }), (r) =>
        answers.push(r),
      ),
    ).toBe(true);
    sim.runFor(500);
    expect(answers[0]).toMatchObject({ ok: true, activated: [a] });

    // The process restarts (a new object: nothing volatile survives) and proposes another command.
    sim.crash(f);
    sim.runFor(200);
    sim.restart(f);
    sim.runFor(1_000);
    const next = encodeCommand({ op: 'activate', feature: b, at_ms: 2_000 });
    const propose = () => replicas[f].propose(next, (r) => answers.push(r));
    // Refused at most until the new life's number is on disk (a client retries, as after E_NO_LEADER).
    if (!propose()) {
      sim.runFor(100);
      expect(propose()).toBe(true);
    }
    sim.runFor(1_000);
    expect(answers[1]).toMatchObject({ ok: true, activated: [b] });
    expect(replicas[f].machine.isActive(b)).toBe(true);
    expect(checker.violations).toEqual([]);
  });

  it("a life that used up its 2^22 own seqs takes the next number instead of spilling into the next life's ids", () => {
    const { sim, catalog, checker, replicas } = group(true);
    const roots = catalog.features.filter((x) => x.requires.length === 0 && x.conflicts.length === 0);
    const f = replicas.find((r) => !r.isLeader())!;
    const inner = f as unknown as { nextSeq: number; life: number };
    const life = inner.life;
    inner.nextSeq = 2 ** 22; // as after 4,194,303 own proposals
    const answers: Array<CommandResult | null> = [];
    const cmd = encodeCommand({ op: 'activate', feature: roots[0].id, at_ms: 1_000 });
    // Refused until the new number is durable, then proposed as (id, life + 1, 1).
    if (!f.propose(cmd, (r) => answers.push(r))) {
      sim.runFor(100);
      expect(f.propose(cmd, (r) => answers.push(r))).toBe(true);
    }
    expect([inner.life, inner.nextSeq]).toEqual([life + 1, 2]);
    sim.runFor(1_000);
    expect(answers[0]).toMatchObject({ ok: true, activated: [roots[0].id] });
    expect(checker.violations).toEqual([]);
  });

  it('a replica that used its last life refuses to start (E_EXHAUSTED) instead of reusing ids', () => {
    const { sim, replicas } = group(true);
    const f = replicas.find((r) => !r.isLeader())!;
    sim.crash(f.id);
    f.env.disk.write('coordinator/life', 2 ** 10 - 1);
    expect(() => f.start()).toThrow(expect.objectContaining({ code: 'E_EXHAUSTED' }));
  });
});

/**
 * Against a log time that jumps (session 24, from a review): an entry refused as MALFORMED moved it, and
 * sessions silent for 10 minutes of it were forgotten, so one coordinator's clock running ahead made copies
 * execute twice.
 */
const text = new TextEncoder();

describe('client sessions keep exactly-once', () => {
  it('a retry after its session was forgotten (log time jumped 11 min: a leader clock ahead) is not executed again', () => {
    const { sim, catalog, checker, leader } = group();
    const feature = catalog.features.find((x) => x.requires.length === 0)!;
    const activate = encodeCommand({ op: 'activate', feature: feature.id, at_ms: 1_000 });
    const answers: Array<CommandResult | null> = [];
    // Client session 0 (request ids 2^40 + seq): activate (seq 5), then deactivate (seq 6).
    leader().propose(activate, (r) => answers.push(r), 5);
    leader().propose(encodeCommand({ op: 'deactivate', feature: feature.id, at_ms: 2_000 }), () => {}, 6);
    sim.runFor(500);
    expect(answers[0]).toMatchObject({ ok: true });
    // Another client's command stamped by a coordinator whose clock runs 11 minutes ahead.
    leader().propose(encodeCommand(noop(2_000 + 660_000)), () => {}, 2 ** 33 + 1);
    sim.runFor(500);
    // The first client's retry of seq 5 (its reply was lost) commits again: the session (and its floor) is gone.
    leader().propose(activate, (r) => answers.push(r), 5);
    sim.runFor(500);
    expect(leader().machine.isActive(feature.id)).toBe(false);
    expect(answers[1] ?? null).toBeNull();
    expect(checker.violations).toEqual([]);
  }, 20_000);

  it('an entry the machine refuses as MALFORMED still moves the session clock: the next copy of a request executes twice', () => {
    const { sim, catalog, checker, leader } = group();
    const feature = catalog.features.find((x) => x.requires.length === 0)!;
    // Refused by the machine (unknown op): it must change nothing.
    const junk = text.encode('{"op":"nope","at_ms":1e300}');
    const r0: Array<CommandResult | null> = [];
    leader().propose(junk, (r) => r0.push(r), 1);
    sim.runFor(500);
    expect(r0[0]).toMatchObject({ ok: false, code: 'MALFORMED' });
    // Now an ordinary command and, right after it, its retry (same request id): one execution, same answer.
    const activate = encodeCommand({ op: 'activate', feature: feature.id, at_ms: 1_000 });
    const answers: Array<CommandResult | null> = [];
    leader().propose(activate, (r) => answers.push(r), 2);
    sim.runFor(500);
    leader().propose(activate, (r) => answers.push(r), 2);
    sim.runFor(500);
    expect(answers[0]).toMatchObject({ ok: true, op: 'activate' });
    expect(answers[1]).toEqual(answers[0]);
    expect(checker.violations).toEqual([]);
  }, 20_000);

  it('a command stamped at_ms 1e22 is refused as MALFORMED and moves no clock: copies still execute once', () => {
    const { sim, catalog, checker, leader } = group();
    const feature = catalog.features.find((x) => x.requires.length === 0)!;
    const r0: Array<CommandResult | null> = [];
    leader().propose(encodeCommand(noop(1e22)), (r) => r0.push(r), 1);
    sim.runFor(500);
    expect(r0[0]).toMatchObject({ ok: false, code: 'MALFORMED' });
    const register = encodeCommand({
      op: 'register_agent',
      agent: 'agent/x',
      feature: feature.id,
      at_ms: 1_000,
    });
    const answers: Array<CommandResult | null> = [];
    leader().propose(register, (r) => answers.push(r), 2);
    sim.runFor(500);
    leader().propose(register, (r) => answers.push(r), 2);
    sim.runFor(500);
    expect(answers[0]).toMatchObject({ ok: true, replaced: false });
    expect(answers[1]).toEqual(answers[0]);
    expect(checker.violations).toEqual([]);
  }, 20_000);
});
