import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/index.js';
import { federatedSync } from '../../src/learning/index.js';
import { category, key, s, settle } from './federation-fixtures.js';

/**
 * The aggregator's own learning since its last aggregate is one report row, scored by trust like any member's
 * (session 15). A sync at which no round runs (fewer contributors than `min_peers_for_consensus`) used to take
 * its own visits anyway and drop them, so what it learned then stayed in its table unreported, unscored, and
 * went out in the next aggregate as consensus (found by a review in session 23).
 */
describe("the aggregator's own learning at a sync with no round", () => {
  it('waits for the next round as part of its report, instead of entering the table unscored', async () => {
    const clock = new ManualClock(0);
    const c = await category(['a', 'b', 'c', 'd'], { clock, config: { min_peers_for_consensus: 3 } });
    await settle(c.tables, clock);
    const leader = c.tables.find((t) => t.consensus_state.kind === 'Leader')!;
    const members = c.tables.filter((t) => t !== leader);
    await federatedSync(leader); // what is pending goes into a round first
    // The members are quiet; the aggregator learns a state nobody else has seen, and syncs: no round runs.
    for (let i = 0; i < 3; i++) leader.learner.learn(s(60), 1, -1, null);
    clock.advance(500);
    await federatedSync(leader);
    const e = leader.local_qtable.find(0, key(60), 1);
    expect(e).toBeGreaterThanOrEqual(0);
    // Still its own learning, for the next round's report.
    expect(leader.learner.peekOwnVisits().get(e)).toBe(3);
    // Two members report something; the round runs and takes the aggregator's learning as its report.
    for (const m of members.slice(0, 2)) {
      m.learner.learn(s(1), 0, 0.5, null);
      await federatedSync(m);
    }
    clock.advance(500);
    await federatedSync(leader);
    expect(leader.learner.peekOwnVisits().size).toBe(0);
    expect(leader.trust.ratioOf(leader.id)).not.toBeNull();
  });
});
