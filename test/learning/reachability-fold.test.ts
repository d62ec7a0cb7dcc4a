/**
 * The aggregator's TD-reachability check runs per delta, before a member's several deltas of one round are
 * folded into one report row (`oneRowPerOrigin`). A report with 0 fresh visits is not checked; before session 23
 * it still supplied the folded row's value while the member's other deltas supplied the weight, so an
 * unreachable value was accepted with weight (found by a review). Now a weightless report never replaces a
 * value that came with fresh visits.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/index.js';
import {
  ENVELOPE,
  emptyDelta,
  encodeDelta,
  envelope,
  type FederatedQTable,
  federatedSync,
} from '../../src/learning/index.js';
import { category, identityOf, key, settle } from './federation-fixtures.js';

function report(from: FederatedQTable, to: string, i: number, q: number, fresh: number, round: number) {
  const d = emptyDelta('peer', from.id, 1);
  d.to = to;
  d.term = from.term;
  d.round = round;
  d.epoch = from.epoch;
  d.seq = round;
  d.interactions = fresh;
  d.lo[0] = key(i);
  d.action[0] = 0;
  d.q[0] = q;
  d.visits[0] = fresh;
  d.fresh[0] = fresh;
  return envelope(ENVELOPE.delta, encodeDelta(d, identityOf(from)));
}

async function setUp() {
  const clock = new ManualClock(0);
  const c = await category(['a', 'b', 'c', 'd'], { clock });
  await settle(c.tables, clock);
  const leader = c.tables.find((t) => t.consensus_state.kind === 'Leader')!;
  // The member the aggregator trusts most (reporter trust is not what this test is about).
  const z = c.tables
    .filter((t) => t !== leader)
    .sort((x, y) => (leader.trust.ratioOf(x.id) ?? 0) - (leader.trust.ratioOf(y.id) ?? 0))[0];
  expect(z.leader).toBe(leader.id);
  // The aggregator takes in the round's pending deltas first: the reports below are its next round's only ones.
  await federatedSync(leader);
  return { ...c, leader, z };
}

describe("TD reachability of a member's folded deltas", () => {
  it('control: one delta reporting an unreachable value with a fresh visit is refused (E_UNREACHABLE)', async () => {
    const { leader, z, network } = await setUp();
    network.send(z.id, leader.id, report(z, leader.id, 91, 3, 1, 1e6));
    await federatedSync(leader);
    expect(leader.refusals.get('E_UNREACHABLE') ?? 0).toBe(1);
    expect(leader.local_qtable.getQ(0, key(91), 0)).toBeLessThan(0.5);
  });

  it('a reachable delta with 1 fresh visit plus a 0-fresh delta carrying an unreachable value does not set the entry to it', async () => {
    const { leader, z, network } = await setUp();
    // Delta 1: a plausible one-step report (reachable from 0). Delta 2, newer round: the same entry at 3.0
    // (15 is the Q bound), with 0 fresh visits, so the check skips it.
    network.send(z.id, leader.id, report(z, leader.id, 91, 0.05, 1, 1e6));
    network.send(z.id, leader.id, report(z, leader.id, 91, 3, 0, 1e6 + 1));
    await federatedSync(leader);
    // One TD step (two with the warm-up slack) from 0 with targets below ~3 cannot reach 3: the value must not
    // be adopted. On the current code the folded row has q = 3 (from delta 2) and weight 1 (from delta 1).
    expect(leader.local_qtable.getQ(0, key(91), 0)).toBeLessThan(0.5);
  });
});
