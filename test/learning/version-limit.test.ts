/**
 * Table versions are a u32 column: "what changed since the peer last acknowledged" must keep working when the
 * clock passes 2^32 − 1 (a busy aggregator stamps a version per merged entry and gets there in weeks).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import {
  type Control,
  type Delta,
  ENVELOPE,
  emptyDelta,
  encodeControl,
  envelope,
  type FederatedQTable,
  federatedSync,
  type Identity,
  QTable,
  VERSION_REBASE,
} from '../../src/learning/index.js';
import { mergeVisitWeightedDirect, mergeVisitWeightedOrdered } from '../../src/learning/slot-order.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { type ControlView, FeatureAgent, OWN_STATES } from '../../src/swarm/agent/index.js';
import { key, s, withAggregator } from './federation-fixtures.js';

const U32_MAX = 0xffffffff;

/** A delta of `keys` (low words, action 0) at value q with one visit each. */
function delta(keys: readonly number[], q: number): Delta {
  const d = emptyDelta('peer', 'p', keys.length);
  d.lo.set(keys);
  d.q.fill(q);
  d.visits.fill(1);
  return d;
}

describe('table versions at the u32 limit', () => {
  it("a member's learning keeps reaching the aggregator after its clock passes 2^32 − 1", async () => {
    const { clock, leader, m, other } = await withAggregator();
    m.local_qtable.clock = U32_MAX - 3;
    // Three batches of new entries, synced one after another: the clock crosses the limit in the first (before
    // the fix the fourth entry got version 0, "never written", and every later one a version below the ack).
    for (const batch of [1000, 1100, 1200]) {
      for (let i = 0; i < 8; i++) m.learner.learn(s(batch + i), 1, 1, null);
      clock.advance(500);
      other.learner.learn(s(3), 1, 0.5, null);
      await federatedSync(m);
      await federatedSync(other);
      await federatedSync(leader);
      for (let i = 0; i < 8; i++)
        expect(leader.local_qtable.getQ(0, key(batch + i), 1), `${batch + i}`).toBeCloseTo(0.1, 6);
    }
    expect(m.local_qtable.generation).toBe(1);
  });

  it('an ack of a version the member never stamped (from before a restart) does not hold its changes back', async () => {
    const { clock, leader, m, other, network } = await withAggregator();
    const identity = (t: FederatedQTable) => (t as unknown as { identity: Identity }).identity;
    const ack: Control = { type: 'ack', from: leader.id, to: m.id, term: leader.term, value: 1e9 };
    network.inject(m.id, envelope(ENVELOPE.control, encodeControl(ack, identity(leader))));
    await federatedSync(m);
    m.learner.learn(s(1300), 1, 1, null);
    clock.advance(500);
    other.learner.learn(s(3), 1, 0.5, null);
    await federatedSync(m);
    await federatedSync(other);
    await federatedSync(leader);
    expect(leader.local_qtable.getQ(0, key(1300), 1)).toBeCloseTo(0.1, 6);
  });

  it("a feature agent's deltas keep carrying its feedback after its table's clock passes 2^32 − 1", () => {
    const feature = defaultCatalog().categories[0].features[0];
    const a = new FeatureAgent(`agent-${feature}`, defaultCatalog().get(feature)!, new SeededRng(1));
    const view: ControlView = { active: true, values: [], raftIndex: 1 };
    a.table.clock = U32_MAX - 1;
    for (let i = 0; i < 4; i++) {
      const { type, complexity } = OWN_STATES[i];
      a.answer(i + 1, type, complexity, a.feature, view);
      expect(a.feedback(i + 1, 1, true, 0, feature)).toBe(true);
      // Each delta carries exactly the state rated since the last one.
      expect(a.takeDelta()?.count, `rating ${i}`).toBe(1);
    }
  });

  it('property: across rebases, every change after a kept version is still "changed since" it, in order', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('write' as const),
        keys: fc.array(fc.nat(40), { minLength: 1, maxLength: 8 }),
      }),
      fc.record({
        kind: fc.constantFrom('direct' as const, 'ordered' as const),
        keys: fc.array(fc.nat(40), { minLength: 1, maxLength: 30 }),
      }),
      fc.record({ kind: fc.constant('mark' as const), keys: fc.constant([]) }),
      fc.record({ kind: fc.constant('jump' as const), keys: fc.constant([]), by: fc.nat(VERSION_REBASE) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: U32_MAX - 60, max: U32_MAX }),
        fc.array(op, { maxLength: 40 }),
        (start, ops) => {
          const t = new QTable(16);
          for (let k = 0; k < 41; k++) t.write(t.slot(0, k, 0), 0, 0);
          t.clock = start;
          // Kept versions, each with the entries changed after it was read.
          const marks: { since: number; gen: number; after: Set<number> }[] = [];
          let n = 0;
          for (const o of ops) {
            const changed: number[] = [];
            if (o.kind === 'mark') marks.push({ since: t.clock, gen: t.generation, after: new Set() });
            else if (o.kind === 'jump') {
              // Time passes: the clock moves on, as if other entries had been written.
              t.reserveVersions(Math.min(o.by, VERSION_REBASE / 2));
              t.clock = Math.min(U32_MAX, t.clock + Math.min(o.by, VERSION_REBASE / 2));
            } else if (o.kind === 'write') {
              for (const k of o.keys) {
                const e = t.slot(0, k, 0);
                t.write(e, ++n / 1000, 1);
                changed.push(e);
              }
            } else {
              const [c0, g0] = [t.clock, t.generation];
              const merge = o.kind === 'direct' ? mergeVisitWeightedDirect : mergeVisitWeightedOrdered;
              merge(t, delta(o.keys, ++n / 1000));
              // The merge's changes: versions above the clock before it (in today's numbering).
              const base = t.sinceNow(c0, g0);
              for (let e = 0; e < t.size; e++) if (t.version[e] > base) changed.push(e);
            }
            for (const mk of marks) for (const e of changed) mk.after.add(e);
            expect(t.clock).toBeLessThanOrEqual(U32_MAX);
            for (let e = 0; e < t.size; e++) {
              expect(t.version[e]).toBeGreaterThanOrEqual(1);
              expect(t.version[e]).toBeLessThanOrEqual(t.clock);
            }
            for (const mk of marks) {
              const since = t.sinceNow(mk.since, mk.gen);
              for (const e of mk.after) expect(t.version[e]).toBeGreaterThan(since);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
