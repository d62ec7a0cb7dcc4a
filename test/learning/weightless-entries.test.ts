/**
 * A member's delta whose entries carry no weight (0 fresh visits, 0 interactions: "no report" under a robust
 * rule, and not TD-checked for that reason) used to insert every one of its keys into the aggregator's table,
 * where `restateUndecided` stamped them with a new version, so the next aggregate broadcast them to every
 * member, whose tables grew by as much. One Byzantine member could grow every honest table by up to 4 × 2^20
 * entries a round for nothing it reported, until `QTable` refused to grow past 2^26 entries (E_CAPACITY out of
 * `sync()`). Found by a review in session 23; the aggregator now drops weightless entries it does not hold.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/index.js';
import { ENVELOPE, emptyDelta, encodeDelta, envelope, federatedSync } from '../../src/learning/index.js';
import { category, identityOf, settle } from './federation-fixtures.js';

describe('weightless entries from one member', () => {
  it("a delta with no fresh visits and no interactions does not grow the aggregator's or the honest members' tables", async () => {
    const clock = new ManualClock(0);
    const c = await category(['a', 'b', 'c', 'd'], { clock });
    await settle(c.tables, clock);
    const leader = c.tables.find((t) => t.consensus_state.kind === 'Leader')!;
    const [z, ...honest] = c.tables.filter((t) => t !== leader);
    for (const m of [z, ...honest]) expect(m.leader).toBe(leader.id);
    // The aggregator takes in what is pending first: the delta below is its next round's only one.
    await federatedSync(leader);
    const before = [leader, ...honest].map((t) => t.local_qtable.size);
    // z (Byzantine) reports 5,000 keys nobody has, each at q 0 with 0 visits and 0 fresh visits: it claims no
    // interaction at all, so the delta passes validation and weighs nothing.
    const N = 5000;
    const d = emptyDelta('peer', z.id, N);
    d.to = leader.id;
    d.term = z.term;
    d.round = 1e6;
    d.epoch = z.epoch;
    d.seq = 1e6;
    d.interactions = 0;
    for (let i = 0; i < N; i++) {
      d.hi[i] = 0x7000 + i;
      d.lo[i] = i;
    }
    c.network.send(z.id, leader.id, envelope(ENVELOPE.delta, encodeDelta(d, identityOf(z))));
    await federatedSync(leader);
    clock.advance(500);
    for (const m of honest) await federatedSync(m);
    // Nothing was reported, so nothing should be stored or broadcast. On the current code every table is 5,000
    // entries larger (the aggregator's and, through its aggregate, each honest member's).
    expect([leader, ...honest].map((t) => t.local_qtable.size)).toEqual(before);
  });
});
