/**
 * the simulator's query serving (`src/sim/swarm/query-serving.ts`) driven message by message.
 * A real `Simulator` and `SwarmTopology` over the default catalogue; the coordinators' replicas are stubs (or,
 * for the ReadIndex test, three real `SimCoordinatorReplica`s); the agents are scripted; liveness is a function
 * of the node and the time the coordinator reads it at.
 */
import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import type { Message } from '../../src/raft/index.js';
import { Simulator } from '../../src/sim/index.js';
import { InvariantChecker } from '../../src/sim/raft/checkers.js';
import type { LivenessView } from '../../src/sim/swarm/liveness.js';
import { type Msg, sendMsg } from '../../src/sim/swarm/messages.js';
import { QueryServing } from '../../src/sim/swarm/query-serving.js';
import { SimCoordinatorReplica } from '../../src/sim/swarm/sim-replica.js';
import { SwarmTopology } from '../../src/sim/swarm/topology.js';
import type { AgentAnswer } from '../../src/swarm/agent/index.js';
import type { CoordinatorReplica } from '../../src/swarm/index.js';
import type { SwarmQuery } from '../../src/swarm/routing/index.js';

const catalog = defaultCatalog();
const topo = new SwarmTopology(catalog);
const C = topo.C;

/** A replica stub: always up, a fixed applied index, reads confirmed at once or when the test says. */
class StubReplica {
  up = true;
  incarnation = 1;
  appliedIndex = 5;
  manualReads = false;
  readonly reads: Array<(index: number) => void> = [];
  readonly machine = {
    isActive: () => false,
    valuesOf: () => [],
    agent: () => ({ feature: 'x' }),
  };
  readIndex(cb: (index: number) => void): boolean {
    if (this.manualReads) this.reads.push(cb);
    else cb(this.appliedIndex);
    return true;
  }
  readIndexOrForget(cb: (index: number) => void): (() => void) | false {
    return this.readIndex(cb) ? () => {} : false;
  }
  whenApplied(index: number, cb: (index: number) => void): () => void {
    if (this.appliedIndex >= index) cb(this.appliedIndex);
    return () => {};
  }
}

interface Delivered {
  to: number;
  at: number;
  m: Msg;
}

/**
 * The simulator nodes as the scenario numbers them (coordinators, agents, client). `alive(n, now)` is every
 * coordinator's failure detector; `answers(n)` whether agent n answers its asks; `realReplicas` replaces the
 * first stubs by the given replicas (their Raft messages go to them).
 */
function harness(o: {
  alive: (n: number, now: number) => boolean;
  answers?: (n: number) => boolean;
  realReplicas?: (sim: Simulator) => SimCoordinatorReplica[];
}) {
  const sim = new Simulator({ seed: 3 });
  const delivered: Delivered[] = [];
  const replies: Array<{ at: number; m: Msg & { k: 'reply' } }> = [];
  const liveness: LivenessView = { isAlive: (_c, n, now) => o.alive(n, now) };
  const replicas: Array<StubReplica | SimCoordinatorReplica> = [];
  let serving: QueryServing | null = null;
  for (let c = 0; c < C; c++)
    sim.addNode(topo.catalog.categories[c].coordinator, {
      deliver: (from, payload) => {
        const m = payload as Msg | Message;
        if (!('k' in m)) {
          (replicas[c] as SimCoordinatorReplica).deliver(m);
          return;
        }
        delivered.push({ to: c, at: sim.now, m });
        const s = serving!;
        if (m.k === 'query') s.query(c, from, m.q, m.complexity);
        else if (m.k === 'sub') s.sub(c, from, m);
        else if (m.k === 'sub-reply') s.subReply(c, m.key, m.part);
        else if (m.k === 'answer') s.answer(c, m.key, m.answer);
      },
    });
  for (let i = 0; i < topo.F; i++) {
    const n = C + i;
    sim.addNode(topo.nodeName(n), {
      deliver: (from, payload) => {
        const m = payload as Msg;
        delivered.push({ to: n, at: sim.now, m });
        if (m.k !== 'ask' || !(o.answers?.(n) ?? true)) return;
        const f = catalog.get(m.feature)!;
        const answer: AgentAnswer = {
          queryId: m.queryId,
          feature: m.feature,
          agent: topo.nodeName(n),
          action: 'DirectAnswer',
          confidence: 0.5,
          raftIndex: m.view.raftIndex,
          content: {
            feature: f.id,
            name: f.name,
            category: f.category,
            activationOrder: [],
            conflicts: [],
            parameters: [],
            safeZones: [],
            active: m.view.active,
          },
        };
        sendMsg(sim, n, from, { k: 'answer', key: m.key, answer }, 100);
      },
    });
  }
  const client = sim.addNode('client', {
    deliver: (_from, payload) => {
      const m = payload as Msg;
      if (m.k === 'reply') replies.push({ at: sim.now, m });
    },
  });
  const real = o.realReplicas?.(sim) ?? [];
  for (let c = 0; c < C; c++) replicas.push(real[c] ?? new StubReplica());
  serving = new QueryServing(sim, topo, replicas as unknown as CoordinatorReplica[], liveness);
  const ask = (to: number, q: SwarmQuery) =>
    sendMsg(sim, client, to, { k: 'query', q, complexity: 'simple' }, 64);
  const asks = () => delivered.filter((d) => d.m.k === 'ask');
  return { sim, replicas, replies, delivered, asks, ask, client };
}

const cat0 = topo.categoryAgents[0];
const feature0 = catalog.categories[0].features[0];
const feature1 = catalog.categories[1].features[0];

describe('the simulator serves queries', () => {
  it('an agent the detector declared dead while the first agent was silent is not the replacement (liveness read at retry time)', () => {
    const own = topo.featureNode.get(feature0)!;
    expect(own).toBe(cat0[0]);
    const q: SwarmQuery = { id: 1, type: 'general', text: '', features: [feature0] };
    // The replacement scan starts at (id + attempt) mod n: agent cat0[2] comes first.
    const peer = cat0[(q.id + 1) % cat0.length];
    expect(peer).not.toBe(own);
    const t0 = 1000;
    const h = harness({
      // The peer's failure detector verdict turns to dead 100 ms after the query arrives; the rest are alive.
      alive: (n, now) => (n === peer ? now < t0 + 100 : true),
      // The own agent is live by the detector but does not answer (a pause): after 300 ms it is replaced.
      answers: (n) => n !== own,
    });
    h.sim.runUntil(t0);
    h.ask(0, q);
    h.sim.runFor(2000);
    const asked = h.asks().map((d) => ({ to: d.to, at: d.at }));
    expect(asked[0].to).toBe(own);
    expect(asked.length).toBe(2);
    // Asked at t0 + 300 ms or later, when the detector already called it dead.
    expect(asked[1].at).toBeGreaterThan(t0 + 300);
    expect(asked[1].to).not.toBe(peer);
  });

  it('a coordinator the detector calls dead by the time the ReadIndex returns gets no part: COORDINATOR_DOWN at once, not SUB_TIMEOUT', () => {
    const t0 = 1000;
    const h = harness({
      // Coordinator 1 crashes at t0 + 50; its detector verdict turns to dead at t0 + 100.
      alive: (n, now) => (n === 1 ? now < t0 + 100 : true),
    });
    const entry = h.replicas[0] as StubReplica;
    entry.manualReads = true;
    h.sim.runUntil(t0);
    h.ask(0, { id: 7, type: 'general', text: '', features: [feature0, feature1] });
    h.sim.runFor(50);
    h.sim.crash(1);
    h.sim.runFor(450);
    // The ReadIndex is confirmed at t0 + 500: the detector has called coordinator 1 dead for 400 ms.
    expect(entry.reads).toHaveLength(1);
    entry.reads[0](entry.appliedIndex);
    h.sim.runFor(3000);
    expect(h.replies).toHaveLength(1);
    const r = h.replies[0];
    expect([r.m.ok, r.m.reason]).toEqual([false, 'COORDINATOR_DOWN']);
    expect(r.at).toBeLessThan(t0 + 600);
  });

  it('a cross query whose own part failed at once (NO_LIVE_AGENT) sends no part to the other categories', () => {
    const cat0Agents = new Set(cat0);
    const h = harness({ alive: (n) => !cat0Agents.has(n) });
    h.sim.runUntil(1000);
    h.ask(0, { id: 9, type: 'general', text: '', features: [feature0, feature1] });
    h.sim.runFor(3000);
    expect(h.replies).toHaveLength(1);
    expect([h.replies[0].m.ok, h.replies[0].m.reason]).toEqual([false, 'NO_LIVE_AGENT']);
    // The client has its failure: no other coordinator should still run, and no agent answer, this query.
    const subs = h.delivered.filter((d) => d.m.k === 'sub');
    const asked = h.asks().map((d) => topo.nodeName(d.to));
    expect({ subs: subs.length, asked }).toEqual({ subs: 0, asked: [] });
  });

  it("a cross query's ReadIndex given up at READ_INDEX_TIMEOUT is forgotten by the replica (no pending read left)", () => {
    const voters = [0, 1, 2];
    let real: SimCoordinatorReplica[] = [];
    const h = harness({
      alive: () => true,
      realReplicas: (sim) => {
        const checker = new InvariantChecker(sim, 3, 3);
        const opts = {
          raft: { heartbeatMs: 50, electionTimeoutMs: 150, preVote: true, checkQuorum: true },
          voters,
          tickMs: 10,
          snapshotEvery: 500,
          snapshotKeep: 100,
        };
        real = voters.map((i) => new SimCoordinatorReplica(sim, i, catalog, opts, checker, { onApply() {} }));
        for (const r of real) r.start();
        const tick = () => {
          for (const r of real) r.tick();
          sim.after(10, tick);
        };
        sim.after(10, tick);
        return real;
      },
    });
    expect(h.sim.runUntilTrue(() => real.some((r) => r.isLeader()), 5000)).toBe(true);
    h.sim.runFor(500);
    const leader = real.find((r) => r.isLeader())!;
    const others = voters.filter((v) => v !== leader.id);
    // The leader is cut off from the other voters (not from the client): its reads are never confirmed.
    const p = h.sim.partition({ kind: 'symmetric', sides: [[leader.id], others] });
    for (let id = 1; id <= 5; id++)
      h.ask(leader.id, { id, type: 'general', text: '', features: [feature0, feature1] });
    h.sim.runFor(1500);
    expect(h.replies.map((r) => r.m.reason)).toEqual(Array(5).fill('READ_INDEX_TIMEOUT'));
    h.sim.heal(p);
    h.sim.runFor(3000);
    // Every one of those reads was given up by the query serving: none should still be kept by the replica.
    const pending = (leader as unknown as { reads: Map<number, unknown> }).reads.size;
    expect(pending).toBe(0);
  });
});
