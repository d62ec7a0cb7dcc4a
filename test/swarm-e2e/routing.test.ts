import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { ACTIONS } from '../../src/learning/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { FeatureAgent, OWN_STATES } from '../../src/swarm/agent/index.js';
import { aggregateByConfidence, chooseAgent, extractTargets } from '../../src/swarm/routing/index.js';

const catalog = defaultCatalog();

describe('routing (pure)', () => {
  it('never picks a dead agent while a live one exists; null only when none is live', () => {
    const rng = new SeededRng(3);
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + rng.int(12);
      const agents = [...Array(n).keys()];
      const alive = new Set(agents.filter(() => rng.next() < 0.4));
      const own = agents[rng.int(n)];
      const c = chooseAgent(own, agents, (a) => alive.has(a), rng.int(1000));
      if (alive.size === 0) expect(c).toBeNull();
      else {
        expect(c).not.toBeNull();
        expect(alive.has(c!.agent)).toBe(true);
        expect(c!.own).toBe(c!.agent === own);
        if (alive.has(own)) expect(c!.agent).toBe(own);
      }
    }
  });

  it('extracts targets from ids, FAJ codes and names, and splits intra from cross', () => {
    const a = catalog.features[0];
    const b = catalog.features.find((f) => f.category !== a.category)!;
    const one = extractTargets(catalog, { id: 1, type: 'general', text: `What does ${a.faj_code} do?` });
    expect(one.features).toEqual([a.id]);
    expect(one.categories).toEqual([a.category]);
    const two = extractTargets(catalog, { id: 2, type: 'general', text: `${a.id} and ${b.id}` });
    expect(two.categories.length).toBe(2);
    const given = extractTargets(catalog, {
      id: 3,
      type: 'general',
      text: 'x',
      features: [a.id, 'FAJ_000_0000'],
    });
    expect(given.features).toEqual([a.id]);
    expect(given.unknown).toEqual(['FAJ_000_0000']);
    expect(extractTargets(catalog, { id: 4, type: 'general', text: 'nothing here' }).features).toEqual([]);
  });

  it('a listed feature may be named as GET /features/<ref> names it: id, FAJ code in any spacing, acronym or name', () => {
    const a = catalog.features.find((f) => catalog.byAcronym(f.acronym).length === 1)!;
    const shared = catalog.features.find((f) => catalog.byAcronym(f.acronym).length > 1)!;
    const sharing = catalog.byAcronym(shared.acronym).map((f) => f.id);
    const t = extractTargets(catalog, {
      id: 5,
      type: 'general',
      text: 'x',
      features: [
        a.faj_code.replace(/_/g, ' ').toLowerCase(),
        a.acronym.toLowerCase(),
        shared.acronym,
        'NO-SUCH',
      ],
    });
    // An acronym that several features share means all of them, as in a text.
    expect(t.features).toEqual([...new Set([a.id, ...sharing])].sort());
    expect(t.unknown).toEqual(['NO-SUCH']);
  });

  it('aggregates by confidence per feature and keeps the lowest Raft index', () => {
    const agg = aggregateByConfidence([
      { feature: 'A', agent: 'x', action: 'DirectAnswer', confidence: 0.4, raftIndex: 9 },
      { feature: 'A', agent: 'y', action: 'Escalate', confidence: 0.8, raftIndex: 7 },
      { feature: 'B', agent: 'z', action: 'ContextAnswer', confidence: 0.6, raftIndex: 8 },
    ]);
    expect(agg.answers.map((a) => a.agent)).toEqual(['y', 'z']);
    expect(agg.raftIndex).toBe(7);
    expect(agg.confidence).toBeCloseTo(0.7);
  });
});

describe('feature agent federation', () => {
  it('a poisoned delta among honest ones does not flip the learned best action (robust merge)', () => {
    const f = catalog.features[0];
    const mk = (i: number, malicious = false) =>
      new FeatureAgent(`agent/${i}`, f, new SeededRng(100 + i), { malicious });
    const honest = [mk(0), mk(1), mk(2), mk(3)];
    const bad = mk(9, true);
    const s = OWN_STATES[0];
    // Everyone learns that action 1 is good in state s.
    let qid = 1;
    for (const a of [...honest, bad]) {
      for (let k = 0; k < 30; k++) {
        const ans = a.answer(qid, s.type, s.complexity, f, { active: false, values: [], raftIndex: 1 });
        const good = ans.action === ACTIONS[1];
        a.feedback(qid++, good ? 1 : -1, good, 10);
      }
    }
    const target = honest[0];
    const before = target.strictBest(s.state);
    expect(before).toBe(1);
    for (let round = 0; round < 5; round++) {
      for (const p of [honest[1], honest[2], bad]) {
        const d = p.takeDelta();
        if (d !== null) expect(target.receiveDelta(d, 10_000)).toBe(true);
      }
      target.mergePending();
    }
    expect(target.strictBest(s.state)).toBe(1);
  });

  it('refuses a delta with out-of-bounds values', () => {
    const f = catalog.features[0];
    const a = new FeatureAgent('agent/a', f, new SeededRng(1));
    const b = new FeatureAgent('agent/b', f, new SeededRng(2));
    const ans = b.answer(1, 'kpi', 'simple', f, { active: true, values: [], raftIndex: 3 });
    expect(ans.raftIndex).toBe(3);
    b.feedback(1, 1, true, 5);
    const d = b.takeDelta()!;
    d.q[0] = 1e9;
    expect(a.receiveDelta(d, 10_000)).toBe(false);
    expect(a.stats.refused.get('E_OUT_OF_BOUNDS')).toBe(1);
  });
});
