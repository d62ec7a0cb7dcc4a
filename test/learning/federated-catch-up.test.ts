import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/index.js';
import {
  createFederatedQTable,
  type FederatedQTable,
  type FederationConfig,
  federatedSync,
  QTable,
} from '../../src/learning/index.js';
import { sweepSlice, withSwept } from '../../src/learning/outgoing-delta.js';
import { category, key, s, settle } from './federation-fixtures.js';

/** 30 rounds in which every member learns and syncs, on states other than s(50). */
async function rounds(tables: readonly FederatedQTable[], clock: ManualClock, n = 30): Promise<void> {
  for (let step = 0; step < n; step++) {
    clock.advance(500);
    for (const t of tables) {
      t.learner.learn(s(step % 5), step % 3, 0.5, null);
      await federatedSync(t);
    }
  }
}

/** A category learns s(50) (b learns it alone); c restarts with an empty table; 30 more rounds elsewhere. */
async function restartAfterLearning(config: Partial<FederationConfig> = {}) {
  const clock = new ManualClock(0);
  const { tables, network, member } = await category(['a', 'b', 'c'], { clock, config });
  await settle(tables, clock);
  for (let i = 0; i < 10; i++) tables[1].learner.learn(s(50), 1, 1, null);
  await rounds(tables, clock, 10);
  for (const t of tables) expect(t.local_qtable.find(0, key(50), 1), t.id).toBeGreaterThanOrEqual(0);
  const learned = tables[0].local_qtable.getQ(0, key(50), 1);
  // c restarts: the same identity, an empty table.
  network.drain('c');
  const c2 = await member('c');
  await rounds([tables[0], tables[1], c2], clock);
  return { learned, c2 };
}

describe('a member that starts with an empty table catches up with the category', () => {
  it('a restarted member receives entries that no longer change (the aggregates’ anti-entropy slices)', async () => {
    const { learned, c2 } = await restartAfterLearning();
    expect(c2.local_qtable.find(0, key(50), 1)).toBeGreaterThanOrEqual(0);
    expect(c2.local_qtable.getQ(0, key(50), 1)).toBeCloseTo(learned, 6);
  });

  it('without them (anti_entropy_entries 0) it never does: aggregates carry only what changed', async () => {
    const { c2 } = await restartAfterLearning({ anti_entropy_entries: 0 });
    expect(c2.local_qtable.find(0, key(50), 1)).toBe(-1);
  });

  it('refuses an anti_entropy_entries outside 0..4096', async () => {
    for (const n of [-1, 1.5, 4097, Number.NaN]) {
      await expect(createFederatedQTable({ anti_entropy_entries: n }), String(n)).rejects.toThrow(
        expect.objectContaining({ code: 'E_CONFIG' }),
      );
    }
  });
});

describe('sweepSlice / withSwept', () => {
  const table = (n: number) => {
    const t = new QTable();
    for (let i = 0; i < n; i++) t.slot(0, i, 0);
    return t;
  };
  it('takes n entries in table order from a slot, skipping what the delta holds, and wraps once', () => {
    const t = table(5);
    const odd = (e: number) => e % 2 === 1;
    expect(sweepSlice(t, 3, 3, odd)).toEqual({
      keys: [
        [0, 4, 0],
        [0, 0, 0],
        [0, 2, 0],
      ],
      next: 3,
    });
    // Fewer entries than asked: each once.
    expect(sweepSlice(t, 0, 10, () => false).keys.length).toBe(5);
    expect(sweepSlice(t, 9, 1, () => false)).toEqual({ keys: [[0, 0, 0]], next: 1 });
    expect(sweepSlice(new QTable(), 0, 4, () => false)).toEqual({ keys: [], next: 0 });
  });
  it('lists an entry once when it is both to resend and swept', () => {
    const merged = withSwept(
      [[0, 1, 0]],
      [
        [0, 1, 0],
        [0, 2, 0],
      ],
    );
    expect(merged).toEqual([
      [0, 1, 0],
      [0, 2, 0],
    ]);
    expect(withSwept(undefined, [])).toBeUndefined();
  });
});
