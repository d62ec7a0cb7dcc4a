import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { AgentFederation } from '../../src/node/agent-federation.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { type ControlView, FeatureAgent, OWN_STATES } from '../../src/swarm/agent/index.js';

const catalog = defaultCatalog();
const [cat] = catalog.categories;
const view: ControlView = { active: true, values: [], raftIndex: 1 };
const { type, complexity } = OWN_STATES[0];

describe("a coordinator's hosted agents sync after 10 interactions, not only on the timer (ADR-115)", () => {
  it('the tenth rated answer since its last sync sends the agent its delta at once; nine do not', () => {
    const agents = cat.features
      .slice(0, 3)
      .map((id, i) => new FeatureAgent(`agent-${id}`, catalog.get(id)!, new SeededRng(i + 1)));
    const [a, ...peers] = agents;
    // An hour between timed rounds: only the interaction count can trigger a sync in this test.
    const fed = new AgentFederation({
      categories: new Map([[cat.name, agents]]),
      peers: [],
      intervalMs: 3_600_000,
      seed: 1,
    });
    const sent = () => a.stats.deltasSent;
    for (let q = 1; q <= 10; q++) {
      a.answer(q, type, complexity, a.feature, view);
      expect(a.feedback(q, 1, true, 0, a.feature.id)).toBe(true);
      fed.interacted(a);
      expect(sent(), `after ${q} interactions`).toBe(q < 10 ? 0 : 1);
    }
    expect(fed.stats.earlySyncs).toBe(1);
    expect(fed.stats.deltas).toBe(2);
    // Its category peers hold the delta for their next round (its entries are new to them: held until a
    // quorum of reporters confirms them, so counted as unconfirmed).
    for (const b of peers) {
      expect(b.stats.unconfirmed).toBe(0);
      b.mergePending();
      expect(b.stats.unconfirmed).toBeGreaterThan(0);
    }
    // The count starts again: nine more are not enough.
    for (let q = 11; q <= 19; q++) {
      a.answer(q, type, complexity, a.feature, view);
      a.feedback(q, 1, true, 0, a.feature.id);
      fed.interacted(a);
    }
    expect(fed.stats.earlySyncs).toBe(1);
  });

  it('a host without federation rounds (interval 0) syncs nothing early either', () => {
    const agents = cat.features
      .slice(0, 2)
      .map((id, i) => new FeatureAgent(`agent-${id}`, catalog.get(id)!, new SeededRng(i + 9)));
    const fed = new AgentFederation({
      categories: new Map([[cat.name, agents]]),
      peers: [],
      intervalMs: 0,
      seed: 1,
    });
    for (let q = 1; q <= 12; q++) {
      agents[0].answer(q, type, complexity, agents[0].feature, view);
      agents[0].feedback(q, 1, true, 0, agents[0].feature.id);
      fed.interacted(agents[0]);
    }
    expect(agents[0].stats.deltasSent).toBe(0);
  });
});
