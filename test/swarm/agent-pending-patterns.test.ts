/**
 * `AgentOptions.maxPending` is documented as "Most recent peer deltas kept until the
 * next merge", and `applyPattern` as "Returns whether it changed anything".
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { emptyDelta, REWARD_MIN, stateHi, stateLo } from '../../src/learning/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { FeatureAgent, OWN_STATES } from '../../src/swarm/agent/index.js';

const catalog = defaultCatalog();
const f = catalog.features[0];
const s = OWN_STATES[0].state;
const hi = stateHi(s);
const lo = stateLo(s);

/** A valid one-entry peer delta reporting (s, action) at the reward minimum, from `origin`. */
function report(origin: string, action: number) {
  const d = emptyDelta('peer', origin, 1);
  d.hi[0] = hi;
  d.lo[0] = lo;
  d.action[0] = action;
  d.q[0] = REWARD_MIN;
  // Ten fresh visits (the weighting's cap): weight enough not to be trimmed away against the local anchor.
  d.visits[0] = 10;
  d.fresh[0] = 10;
  d.interactions = 10;
  return d;
}

describe('FeatureAgent pending deltas', () => {
  it('control: with room for both, each peer delta moves the entry it reports', () => {
    const a = new FeatureAgent('agent/a', f, new SeededRng(1), { maxPending: 2 });
    expect(a.replay({ state: s, action: 2, reward: 1 })).toBe(true);
    expect(a.replay({ state: s, action: 3, reward: 1 })).toBe(true);
    const q2 = a.table.getQ(hi, lo, 2);
    const q3 = a.table.getQ(hi, lo, 3);
    expect(a.receiveDelta(report('agent/old', 2), 20)).toBe(true);
    expect(a.receiveDelta(report('agent/new', 3), 20)).toBe(true);
    a.mergePending();
    expect(a.table.getQ(hi, lo, 2)).toBeLessThan(q2);
    expect(a.table.getQ(hi, lo, 3)).toBeLessThan(q3);
  });

  it('keeps the most recent peer delta when its pending buffer is full (maxPending)', () => {
    const a = new FeatureAgent('agent/a', f, new SeededRng(1), { maxPending: 1 });
    // Own experience of (s, 2) and (s, 3), so a single peer's report of either is merged (no quorum needed).
    expect(a.replay({ state: s, action: 2, reward: 1 })).toBe(true);
    expect(a.replay({ state: s, action: 3, reward: 1 })).toBe(true);
    const q2 = a.table.getQ(hi, lo, 2);
    const q3 = a.table.getQ(hi, lo, 3);
    expect(a.receiveDelta(report('agent/old', 2), 20)).toBe(true);
    const tookNew = a.receiveDelta(report('agent/new', 3), 20);
    a.mergePending();
    // The most recent delta (agent/new, about action 3) is the one kept and merged...
    expect(a.table.getQ(hi, lo, 3)).toBeLessThan(q3);
    // ...and the older one (agent/old) is the one dropped.
    expect(a.table.getQ(hi, lo, 2)).toBe(q2);
    expect(tookNew).toBe(true);
  });

  it('a delta that is dropped for want of room is not reported as taken', () => {
    const a = new FeatureAgent('agent/a', f, new SeededRng(1), { maxPending: 1 });
    expect(a.replay({ state: s, action: 3, reward: 1 })).toBe(true);
    const q3 = a.table.getQ(hi, lo, 3);
    a.receiveDelta(report('agent/old', 2), 20);
    const took = a.receiveDelta(report('agent/new', 3), 20);
    a.mergePending();
    // Either the new delta is kept (its entry moves) or receiveDelta must say it was not taken.
    expect(took && a.table.getQ(hi, lo, 3) === q3).toBe(false);
  });
});

describe('FeatureAgent.applyPattern', () => {
  it('applying the same pattern a second time changes nothing and says so', () => {
    const a = new FeatureAgent('agent/a', f, new SeededRng(1));
    const p = { origin: 'agent/b', hi, lo, action: 1, q: 0.7 };
    expect(a.applyPattern(p)).toBe(true);
    const clock = a.table.clock;
    const q = a.table.getQ(hi, lo, 1);
    // The table holds fround(0.7); comparing it with the f64 0.7 makes every re-application a "change".
    expect(a.applyPattern({ ...p })).toBe(false);
    expect(a.table.getQ(hi, lo, 1)).toBe(q);
    expect(a.table.clock).toBe(clock);
    expect(a.stats.patternsApplied).toBe(1);
  });
});
