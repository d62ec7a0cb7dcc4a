import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { runSwarm, type SwarmOptions } from '../../src/sim/swarm/scenario.js';

const catalog = defaultCatalog();
const base: SwarmOptions = {
  seed: 3,
  durationMs: 10_000,
  queryRate: 20,
  faults: [],
  byzantine: 0.1,
  catalog,
};

describe('learning counters', () => {
  it('learning.feedbacks counts the feedbacks learned in the run, also by agents that crashed afterwards', () => {
    // The biggest category crashes 13.5 s in: after the last query (10 s) and its deadline (13 s), so both runs
    // are identical up to then and every feedback has been learned by then.
    const big = [...catalog.categories].sort((a, b) => b.features.length - a.features.length)[0];
    const a = runSwarm(base);
    const b = runSwarm({ ...base, crashCategories: [{ category: big.id, atMs: 13_500 }] });
    expect(b.queries).toEqual(a.queries);
    expect(a.learning.feedbacks).toBeGreaterThan(0);
    // The totals are the run's, not a sum over the agents running at the end (which a crash would shrink).
    expect(b.learning.feedbacks).toBe(a.learning.feedbacks);
    expect(b.learning.deltas_merged).toBe(a.learning.deltas_merged);
    expect(b.learning.patterns_applied).toBe(a.learning.patterns_applied);
    expect(b.learning.deltas_refused_by_reason).toEqual(a.learning.deltas_refused_by_reason);
  }, 60_000);
});
