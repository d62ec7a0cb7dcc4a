/**
 * the simulator's client checks the consistency barrier only for the queries the workload
 * labelled `cross`; the label is the workload's guess, not the route the coordinators take.
 */
import { describe, expect, it } from 'vitest';
import { type Rng, SeededRng } from '../../src/core/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { Simulator } from '../../src/sim/index.js';
import { SwarmClient } from '../../src/sim/swarm/client.js';
import type { ConflictSets } from '../../src/sim/swarm/conflict-sets.js';
import type { Invariants } from '../../src/sim/swarm/invariants.js';
import { type Msg, sendMsg } from '../../src/sim/swarm/messages.js';
import type { SwarmOptions } from '../../src/sim/swarm/options.js';
import { SwarmTopology } from '../../src/sim/swarm/topology.js';
import { Workload } from '../../src/sim/swarm/workload.js';
import type { AgentAnswer } from '../../src/swarm/agent/index.js';
import { extractTargets, routeKind } from '../../src/swarm/routing/index.js';

const catalog = defaultCatalog();
const topo = new SwarmTopology(catalog);

/** Replays the given draws: `int` and `next` each from their own list. */
function scripted(ints: number[], nexts: number[]): Rng {
  return {
    int: () => ints.shift()!,
    next: () => nexts.shift()!,
    u32: () => 0,
    fork: () => scripted([], []),
  };
}

describe('the workload and the client', () => {
  it('a text query the coordinators route across categories has its answers checked against the barrier', () => {
    // Two features share the name "Location Support" in two categories: "How do I tune <id> (<name>)?" names both.
    const f = catalog.features.findIndex((x) => {
      const t = extractTargets(catalog, {
        id: 0,
        type: 'general',
        text: `How do I tune ${x.id} (${x.name})?`,
      });
      return routeKind(t) === 'cross';
    });
    expect(f).toBeGreaterThanOrEqual(0);
    const sim = new Simulator({ seed: 1 });
    const sent: Array<Msg & { k: 'query' }> = [];
    // Coordinators that answer a cross query with an answer below the barrier they report.
    for (let c = 0; c < topo.C; c++)
      sim.addNode(`c${c}`, {
        deliver: (from, payload) => {
          const m = payload as Msg;
          if (m.k !== 'query') return;
          sent.push(m);
          const t = extractTargets(catalog, m.q);
          const answers = t.features.map(
            (id, i) =>
              ({
                feature: id,
                agent: `agent/${id}`,
                action: 'DirectAnswer',
                raftIndex: i === 0 ? 3 : 10,
              }) as unknown as AgentAnswer,
          );
          sendMsg(sim, c, from, { k: 'reply', id: m.q.id, ok: true, answers, raftIndex: 10 }, 64);
        },
      });
    // The agents (the client sends them its feedback), then the client: the scenario's node numbering.
    for (let i = 0; i < topo.F; i++) sim.addNode(topo.nodeName(topo.C + i), { deliver: () => {} });
    const violations: string[] = [];
    const invariants = { violate: (inv: string) => violations.push(inv) } as unknown as Invariants;
    const client = new SwarmClient(sim, topo, new SeededRng(1), 3000, invariants);
    const opts = { queryRate: 1, durationMs: 10_000 } as unknown as SwarmOptions;
    // Draws: type, complexity, u (a one-feature question), the feature, then "by text".
    const rng = scripted([0, 0, f], [0.5, 0.1]);
    const w = new Workload(sim, topo, client, rng, [], null as unknown as ConflictSets, opts);
    (w as unknown as { issueQuery(): void }).issueQuery();
    sim.runFor(1000);
    expect(sent).toHaveLength(1);
    expect(routeKind(extractTargets(catalog, sent[0].q))).toBe('cross');
    expect(client.answered).toBe(1);
    // Answered through a ReadIndex barrier (10), one answer at index 3: the barrier was not kept.
    expect(violations).toEqual(['consistency-barrier']);
  });
});
