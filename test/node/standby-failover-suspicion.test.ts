/**
 * Which coordinator answers for a category when the failure detector and the memory of down coordinators
 * disagree with what actually answers (fixed in session 25).
 */
import { describe, expect, it } from 'vitest';
import { ask, coordinators, featureOf, query, stopApi } from './coordinators.js';

describe('a primary the failure detector suspects, whose standby is down too', () => {
  it('is still asked before the query fails: a false suspicion costs freshness, not the answer', async () => {
    // Coordinator 1's gossip suspects coordinator 2 (UDP between them lost), though 2 answers HTTP.
    const { url, servers, services } = await coordinators(undefined, 0, (id) =>
      id === 1 ? { suspected: (c: number) => c === 2 } : {},
    );
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    // Coordinator 3 (the standby) is down, and coordinator 1 has seen it not answer.
    await stopApi(servers, 2);
    const other = featureOf(2); // hosted by coordinator 3: its failed part marks 3 down at coordinator 1
    await query(url(1), ask(1, [other.id]));
    expect(services[0].failover.down.isDown(3)).toBe(true);
    const r = await query(url(1), ask(2, [a.id]));
    // Before session 25: 502 COORDINATOR_DOWN — the suspected primary is skipped without a request, and the standby is
    // remembered down, so no one is asked, though coordinator 2 is up and would have answered.
    expect([r.status, r.body.ok, r.body.reason]).toEqual([200, true, undefined]);
  });
});
