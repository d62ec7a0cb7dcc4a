import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { stateHi, stateLo } from '../../src/learning/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import {
  agentSnapshotSchema,
  type ControlView,
  FeatureAgent,
  hostedRound,
  OWN_STATES,
} from '../../src/swarm/agent/index.js';
import { thrownElexError } from '../support/errors.js';

const catalog = defaultCatalog();
const [cat] = catalog.categories;
const view: ControlView = { active: true, values: [], raftIndex: 1 };
const agentOf = (id: string, seed: number) =>
  new FeatureAgent(`agent-${id}`, catalog.get(id)!, new SeededRng(seed));
/** Through JSON, as the coordinator stores it, and validated, as it loads it. */
const roundTrip = (a: FeatureAgent) => agentSnapshotSchema.parse(JSON.parse(JSON.stringify(a.snapshot())));

/** Answers and rates `n` questions in the own states picked by `picks` (index, rating in [−1, 1]). */
function experience(a: FeatureAgent, picks: ReadonlyArray<[number, number]>, firstQuery = 1): void {
  picks.forEach(([s, rating], i) => {
    const { type, complexity } = OWN_STATES[s % OWN_STATES.length];
    a.answer(firstQuery + i, type, complexity, a.feature, view);
    expect(a.feedback(firstQuery + i, rating, rating > 0.5, 0, a.feature.id)).toBe(true);
  });
}

describe("a feature agent's snapshot", () => {
  it('restores what the agent learned exactly: table, ε, own experience, what it published', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(17), fc.double({ min: -1, max: 1, noNaN: true })), { maxLength: 60 }),
        fc.nat(1000),
        (picks, seed) => {
          const [f1, f2, f3] = cat.features;
          const mine = [agentOf(f1, seed), agentOf(f2, seed + 1), agentOf(f3, seed + 2)];
          experience(mine[0], picks);
          experience(mine[1], picks.slice(0, 10), 500);
          // A round: patterns published and applied, deltas sent (merged at the next one).
          hostedRound(mine, mine, new SeededRng(seed), { fanout: 3, maxInteractions: 1000 });
          hostedRound(mine, mine, new SeededRng(seed + 1), { fanout: 3, maxInteractions: 1000 });
          for (const a of mine) {
            const b = agentOf(a.feature.id, seed + 99);
            b.restore(roundTrip(a));
            // Compared as stored (JSON writes −0 as 0, the same value to every comparison the agent makes).
            expect(JSON.stringify(b.snapshot())).toBe(JSON.stringify(a.snapshot()));
            expect(b.learner.epsilon()).toBe(a.learner.epsilon());
            // Nothing restored is reported as fresh learning, and nothing is published again.
            expect(b.takeDelta()).toBe(null);
            expect(b.newPatterns()).toEqual(a.newPatterns());
            for (const { state } of OWN_STATES) expect(b.strictBest(state)).toBe(a.strictBest(state));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a restored agent answers with the confidence its experience earned, and learns on', () => {
    const a = agentOf(cat.features[0], 1);
    experience(a, [
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
    const b = agentOf(cat.features[0], 2);
    b.restore(roundTrip(a));
    const { type, complexity, state } = OWN_STATES[0];
    const before = b.answer(10, type, complexity, b.feature, view).confidence;
    expect(before).toBe(a.answer(10, type, complexity, a.feature, view).confidence);
    expect(b.feedback(10, 1, true, 0, b.feature.id)).toBe(true);
    expect(b.answer(11, type, complexity, b.feature, view).confidence).toBeGreaterThan(before);
    // Its next delta carries exactly the new feedback.
    const d = b.takeDelta()!;
    expect(d.count).toBe(1);
    expect([d.hi[0], d.lo[0], d.fresh[0]]).toEqual([stateHi(state), stateLo(state), 1]);
  });

  it("a restored standby still keeps patterns off the states its primary's mirror brought experience of", () => {
    const { state } = OWN_STATES[0];
    const [hi, lo] = [stateHi(state), stateLo(state)];
    const standby = agentOf(cat.features[0], 1);
    expect(standby.mirror([[hi, lo, 2, 0.4, 3]])).toBe(1);
    const pattern = { origin: 'agent-other', hi, lo, action: 1, q: 0.9 };
    const restored = agentOf(cat.features[0], 2);
    restored.restore(roundTrip(standby));
    expect(standby.applyPattern(pattern)).toBe(false);
    expect(restored.applyPattern(pattern)).toBe(false);
    expect(JSON.stringify(restored.snapshot())).toBe(JSON.stringify(standby.snapshot()));
  });

  it('reads a snapshot written before mirrored states were kept (no `mirrored` field)', () => {
    const a = agentOf(cat.features[0], 1);
    experience(a, [[0, 1]]);
    const { mirrored: _, ...old } = a.snapshot();
    const b = agentOf(cat.features[0], 2);
    b.restore(agentSnapshotSchema.parse(old));
    expect(b.snapshot().entries).toEqual(a.snapshot().entries);
  });

  it('refuses a snapshot of another feature, with an entry twice, or into an agent that has learned', () => {
    const [f1, f2] = cat.features;
    const a = agentOf(f1, 1);
    experience(a, [[0, 1]]);
    const s = roundTrip(a);
    expect(thrownElexError(() => agentOf(f2, 1).restore(s)).code).toBe('E_DECODE');
    const twice = { ...s, entries: [...s.entries, s.entries[0]] };
    expect(thrownElexError(() => agentOf(f1, 1).restore(twice)).code).toBe('E_DECODE');
    expect(thrownElexError(() => a.restore(s)).code).toBe('E_STATE');
  });

  it('the schema refuses values no agent can hold', () => {
    const a = agentOf(cat.features[0], 1);
    experience(a, [[0, 1]]);
    const s = a.snapshot();
    const [hi, lo, action, , visits] = s.entries[0];
    for (const bad of [
      { ...s, entries: [[hi, lo, action, 1.6, visits]] },
      { ...s, entries: [[hi, lo, action, null, visits]] },
      { ...s, entries: [[hi, lo, 5, 0, visits]] },
      { ...s, entries: [[2 ** 32, lo, action, 0, visits]] },
      { ...s, own: [[hi, lo, 0]] },
      { ...s, interactions: -1 },
      { ...s, extra: 1 },
    ])
      expect(agentSnapshotSchema.safeParse(bad).success).toBe(false);
  });
});
