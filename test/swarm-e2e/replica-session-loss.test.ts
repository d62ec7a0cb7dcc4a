/**
 * Exactly-once of the coordinator replica's client sessions against a log time that jumps (session 24, review). docs/swarm.md: "every command
 * executes exactly once on every replica"; DESIGN §2.5: a malformed message "never changes state".
 */
import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import type { Message } from '../../src/raft/index.js';
import { Simulator } from '../../src/sim/index.js';
import { InvariantChecker } from '../../src/sim/raft/checkers.js';
import { SimCoordinatorReplica } from '../../src/sim/swarm/sim-replica.js';
import type { ReplicaOptions } from '../../src/swarm/index.js';
import { type Command, type CommandResult, encodeCommand } from '../../src/swarm/index.js';

function group() {
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
  const replicas: SimCoordinatorReplica[] = [];
  const make = (i: number) => new SimCoordinatorReplica(sim, i, catalog, opts, checker, { onApply() {} });
  for (let i = 0; i < 3; i++)
    sim.addNode(`c${i}`, {
      deliver: (_f, m) => replicas[i].deliver(m as Message),
      crash: () => replicas[i].crash(),
      restart: () => replicas[i].start(),
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
  expect(leader()).toBeDefined();
  return { sim, catalog, checker, replicas, leader };
}

const noop = (at_ms: number): Command => ({ op: 'deregister_agent', agent: 'agent/nobody', at_ms });
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
