import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { stateHi, stateLo } from '../../src/learning/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { type ControlView, FeatureAgent, hostedRound, OWN_STATES } from '../../src/swarm/agent/index.js';

const catalog = defaultCatalog();
const [cat, other] = catalog.categories;
const view: ControlView = { active: true, values: [], raftIndex: 1 };
const { state, type, complexity } = OWN_STATES[0];
const [hi, lo] = [stateHi(state), stateLo(state)];
const opts = { fanout: 3, maxInteractions: 100 };

function agentsOf(features: readonly string[], seed: number): FeatureAgent[] {
  return features.map((id, i) => new FeatureAgent(`agent-${id}`, catalog.get(id)!, new SeededRng(seed + i)));
}

/** `a` answers about its own feature `times` times and every answer is rated `rating`. */
function teach(a: FeatureAgent, times: number, rating: number, firstQuery = 1): void {
  for (let q = firstQuery; q < firstQuery + times; q++) {
    a.answer(q, type, complexity, a.feature, view);
    expect(a.feedback(q, rating, rating > 0, 0, a.feature.id)).toBe(true);
  }
}

describe('a federation round among co-hosted agents', () => {
  it('a confident state becomes a pattern that every other hosted agent, of any category, then acts on', () => {
    const mine = agentsOf(cat.features.slice(0, 4), 1);
    const theirs = agentsOf(other.features.slice(0, 2), 50);
    const [a] = mine;
    teach(a, 6, 1);
    const best = a.strictBest(state);
    expect(best).toBeGreaterThanOrEqual(0);
    for (const b of [...mine.slice(1), ...theirs]) expect(b.strictBest(state)).toBe(-1);
    const r = hostedRound(mine, [...mine, ...theirs], new SeededRng(9), opts);
    expect(r.patterns.map((p) => [p.origin, p.hi, p.lo, p.action])).toEqual([[a.id, hi, lo, best]]);
    for (const b of [...mine.slice(1), ...theirs]) {
      expect(b.strictBest(state)).toBe(best);
      expect(b.stats.patternsApplied).toBe(1);
    }
    // The next round learns nothing new: no pattern is published twice for the same best action.
    expect(hostedRound(mine, [...mine, ...theirs], new SeededRng(10), opts).patterns).toEqual([]);
  });

  it('deltas reach category peers and are merged at their next round into what they learned themselves', () => {
    const mine = agentsOf(cat.features.slice(0, 3), 100);
    const [a, b, c] = mine;
    // a and c learned the same answer in one state to be good; b learned it to be poor.
    const action = 2;
    for (let i = 0; i < 5; i++) {
      a.learner.learn(state, action, 1, null);
      c.learner.learn(state, action, 1, null);
      b.learner.learn(state, action, -0.5, null);
    }
    const before = b.table.getQ(hi, lo, action);
    const first = hostedRound(mine, mine, new SeededRng(1), opts);
    // Three agents, fanout 3: each delta goes to both others, to be merged at their next round.
    expect(first.deltas).toBe(6);
    expect(first.merged).toBe(0);
    expect(b.table.getQ(hi, lo, action)).toBe(before);
    const second = hostedRound(mine, mine, new SeededRng(2), opts);
    expect(second.merged).toBe(6);
    // The robust rule keeps b's own row but its two peers agree: b moves towards them, not past them.
    const after = b.table.getQ(hi, lo, action);
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThan(a.table.getQ(hi, lo, action));
  });

  it('a lone agent sends nothing, and a delta past the plausibility bound is refused', () => {
    const [solo] = agentsOf(cat.features.slice(0, 1), 7);
    teach(solo, 3, 1);
    expect(hostedRound([solo], [solo], new SeededRng(1), opts).deltas).toBe(0);
    const pair = agentsOf(cat.features.slice(0, 2), 8);
    teach(pair[0], 12, 1);
    const r = hostedRound(pair, pair, new SeededRng(1), { fanout: 3, maxInteractions: 10 });
    expect(r.deltas).toBe(0);
    expect([...pair[1].stats.refused.keys()]).toEqual(['E_IMPLAUSIBLE']);
  });
});
