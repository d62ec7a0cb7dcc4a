import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { ACTIONS, stateHi, stateLo } from '../../src/learning/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { agentState, type ControlView, FeatureAgent } from '../../src/swarm/agent/index.js';

const catalog = defaultCatalog();
const view: ControlView = { active: true, values: [], raftIndex: 1 };
const own = catalog.features[0];
const peer = catalog.features.find((f) => f.id !== own.id && f.category === own.category)!;

const visits = (a: FeatureAgent, state: bigint, action: number) =>
  a.table.getVisits(stateHi(state), stateLo(state), action);
const act = (name: string) => ACTIONS.indexOf(name as (typeof ACTIONS)[number]);

describe('feature agent feedback goes to the answer it is about', () => {
  it('one agent answering two features of one query learns from both feedbacks, each on its own state', () => {
    const a = new FeatureAgent(`agent/${own.id}`, own, new SeededRng(7));
    const x = a.answer(1, 'kpi', 'simple', own, view);
    const y = a.answer(1, 'kpi', 'simple', peer, view);
    const sx = agentState('kpi', 'simple', true);
    const sy = agentState('kpi', 'simple', false);
    expect(a.feedback(1, 1, true, 5, own.id)).toBe(true);
    expect(visits(a, sx, act(x.action))).toBe(1);
    expect(visits(a, sy, act(y.action))).toBe(0);
    expect(a.feedback(1, -1, false, 5, peer.id)).toBe(true);
    expect(visits(a, sy, act(y.action))).toBe(1);
    expect(a.stats.feedbacks).toBe(2);
    // Each answer takes one feedback.
    expect(a.feedback(1, 1, true, 5, own.id)).toBe(false);
  });

  it('a feedback naming no feature is refused when the query has several pending answers (never misattributed)', () => {
    const a = new FeatureAgent(`agent/${own.id}`, own, new SeededRng(8));
    a.answer(2, 'kpi', 'simple', own, view);
    a.answer(2, 'kpi', 'simple', peer, view);
    expect(a.feedback(2, 1, true, 5)).toBe(false);
    expect(a.stats.feedbacks).toBe(0);
    expect(a.learner.interactions).toBe(0);
    // With one pending answer the query id alone is enough (the scenario's feedback names no feature).
    a.answer(3, 'kpi', 'simple', own, view);
    expect(a.feedback(3, 1, true, 5)).toBe(true);
    expect(a.feedback(2, 1, true, 5, peer.id)).toBe(true);
  });

  it('a repeated question (duplicated message) gets the same answer, so the feedback credits the action rated', () => {
    let differed = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const a = new FeatureAgent(`agent/${own.id}`, own, new SeededRng(seed));
      const first = a.answer(9, 'procedure', 'complex', own, view);
      const again = a.answer(9, 'procedure', 'complex', own, { ...view, raftIndex: 2 });
      if (again.action !== first.action) differed++;
      expect(again.raftIndex).toBe(2);
      // The client rates the answer it got (the first to arrive) and the agent must credit that action.
      expect(a.feedback(9, 1, true, 5, own.id)).toBe(true);
      expect(visits(a, agentState('procedure', 'complex', true), act(first.action))).toBe(1);
    }
    expect(differed).toBe(0);
  });
});
