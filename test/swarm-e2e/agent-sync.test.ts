/**
 * The swarm harness's early sync (ADR-115: after 10 interactions, whichever comes first with the interval):
 * what counts as an interaction, and that a restarted agent, a fresh one, starts counting from zero.
 */
import { describe, expect, it, vi } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { Simulator } from '../../src/sim/index.js';
import { SwarmAgents } from '../../src/sim/swarm/agents.js';
import { agentSlots, DirectFederation, learningTraffic } from '../../src/sim/swarm/federation.js';
import type { Msg } from '../../src/sim/swarm/messages.js';
import { swarmSettings } from '../../src/sim/swarm/options.js';
import { SwarmTopology } from '../../src/sim/swarm/topology.js';
import type { ControlView } from '../../src/swarm/agent/index.js';

const catalog = defaultCatalog();
const view: ControlView = { active: true, values: [], raftIndex: 1 };

/** Agent 0 of a swarm with no other running part: lite gossip, an interval sync that never comes. */
function oneAgent() {
  const sim = new Simulator({ seed: 3 });
  const topo = new SwarmTopology(catalog);
  for (let c = 0; c < topo.C; c++) sim.addNode(`coordinator-${c}`, { deliver: () => {} });
  const slots = agentSlots(topo.F);
  const direct = new DirectFederation(sim, topo, slots, learningTraffic());
  const publish = vi.spyOn(direct, 'publish');
  const settings = swarmSettings({
    catalog,
    seed: 3,
    durationMs: 60_000,
    queryRate: 0,
    faults: [],
    byzantine: 0,
    gossip: 'lite',
    syncIntervalMs: 1e9,
  });
  const agents = new SwarmAgents(sim, topo, settings, 0, { slots, direct, gossip: null });
  agents.start(0);
  const node = topo.C;
  const coord = topo.agentCategory[0];
  const feature = catalog.features[0].id;
  let query = 0;
  const send = (m: Msg) => {
    sim.send(coord, node, m, m.k, 64);
    sim.runFor(50);
  };
  /** One question answered and rated: one interaction. */
  const interact = () => {
    const queryId = ++query;
    send({ k: 'ask', key: queryId, queryId, type: 'kpi', complexity: 'simple', feature, view });
    send({ k: 'feedback', queryId, feature, rating: 1, resolved: true, latencyMs: 5 });
  };
  /** A feedback the agent refuses: no answer of its is pending for the query. */
  const strayFeedback = () =>
    send({ k: 'feedback', queryId: 10_000 + ++query, feature, rating: 1, resolved: true, latencyMs: 5 });
  return { sim, node, publish, interact, strayFeedback, slots };
}

describe('swarm agents sync after 10 interactions', () => {
  it('syncs at the 10th rated answer, and feedback the agent refuses is no interaction', () => {
    const a = oneAgent();
    for (let k = 0; k < 12; k++) a.strayFeedback();
    expect(a.publish).not.toHaveBeenCalled();
    for (let k = 0; k < 9; k++) a.interact();
    expect(a.publish).not.toHaveBeenCalled();
    a.interact();
    expect(a.publish).toHaveBeenCalledTimes(1);
  });

  it('a restarted agent counts its interactions from zero (it is a fresh agent)', () => {
    const a = oneAgent();
    for (let k = 0; k < 7; k++) a.interact();
    a.sim.crash(a.node);
    a.sim.restart(a.node);
    a.sim.runFor(10);
    expect(a.slots.agents[0]?.learner.interactions).toBe(0);
    for (let k = 0; k < 9; k++) a.interact();
    expect(a.publish).not.toHaveBeenCalled();
    a.interact();
    expect(a.publish).toHaveBeenCalledTimes(1);
  });
});
