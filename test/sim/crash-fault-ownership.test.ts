import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { installSchedule } from '../../src/sim/faults.js';
import { Simulator } from '../../src/sim/index.js';
import { type QueryOutcome, runSwarm } from '../../src/sim/swarm/scenario.js';

/**
 * Review (faults.ts crashFault): a crash fault's undo restarts every victim, including one that was already
 * down when the fault began (crashed by a scripted crash, or by `env.fail` on an assertion). The fault did
 * not take that node down, so its end must not bring it back.
 */
describe('crash faults only undo their own crashes', () => {
  it('a node crashed before a crash fault on it stays down when the fault ends', () => {
    const sim = new Simulator({ seed: 1 });
    let restarts = 0;
    sim.addNode('a', { deliver() {} });
    sim.addNode('b', { deliver() {}, restart: () => restarts++ });
    sim.crash(1); // down for good (a scripted crash)
    installSchedule(sim, [{ atMs: 10, kind: 'crash', durationMs: 50, nodes: [1], others: [], amount: 0 }]);
    sim.runFor(100);
    expect(restarts).toBe(0);
    expect(sim.status(1)).toBe('crashed');
  });

  it('swarm: a category crashed by crashCategories stays dead under random agent crash faults', () => {
    const catalog = defaultCatalog();
    const category = catalog.categories[3];
    const dead = new Set(category.features.map((x) => `agent/${x}`));
    const outcomes: QueryOutcome[] = [];
    runSwarm({
      seed: 1,
      durationMs: 30_000,
      queryRate: 10,
      faults: ['crash'],
      byzantine: 0,
      catalog,
      gossip: 'lite',
      crashCategories: [{ category: category.id, atMs: 1000 }],
      onQueryDone: (q) => outcomes.push(q),
    });
    // Every agent of the category crashed at 1 s and nothing scripted restarts them: none may answer later.
    const answeredByDead = outcomes
      .filter((o) => o.ok && o.atMs >= 2000)
      .flatMap((o) => o.agents.filter((a) => dead.has(a)));
    expect([...new Set(answeredByDead)]).toEqual([]);
  }, 20_000);
});
