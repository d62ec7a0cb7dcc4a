import { describe, expect, it } from 'vitest';
import { runCampaign } from '../../src/sim/raft/campaign.js';
import { runFlapping } from '../../src/sim/raft/flapping.js';
import { MUTATIONS } from '../../src/sim/raft/mutations.js';

describe('raft campaign (small; the CLI runs the big ones)', () => {
  it('3 nodes, 30 runs: no violation, linearizable, no acknowledged write lost', () => {
    const r = runCampaign({ runs: 30, seed: 7, nodes: 3, durationMs: 3000 });
    expect(r.violations).toEqual([]);
    expect(r.linearizability_failures).toBe(0);
    expect(r.lost_acked_writes).toBe(0);
    expect(r.acked_writes).toBeGreaterThan(1000);
    expect(r.elections).toBeGreaterThan(30);
    expect(r.conf_changes_applied).toBeGreaterThan(0);
  });

  it('5 nodes, 8 runs: clean', () => {
    const r = runCampaign({ runs: 8, seed: 3, nodes: 5, durationMs: 3000 });
    expect(r.violations).toEqual([]);
    expect(r.linearizability_failures).toBe(0);
    expect(r.lost_acked_writes).toBe(0);
  });

  it('sessions expiring under load (4 clients, a bound of 3): each write executes once, none lost, linearizable', () => {
    const r = runCampaign({ runs: 12, seed: 5, nodes: 3, durationMs: 3000, clients: 4, maxSessions: 3 });
    // The exactly-once checker sees every execution: a retry in an expired session executing again is a violation.
    expect(r.violations).toEqual([]);
    expect(r.linearizability_failures).toBe(0);
    expect(r.lost_acked_writes).toBe(0);
    expect(r.session_refusals).toBeGreaterThan(100);
    expect(r.acked_writes).toBeGreaterThan(1000);
  });

  it('is deterministic: the same seed gives the same report', () => {
    const a = runCampaign({ runs: 3, seed: 11, nodes: 3, durationMs: 2000 });
    const b = runCampaign({ runs: 3, seed: 11, nodes: 3, durationMs: 2000 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  for (const m of MUTATIONS) {
    it(`catches the planted bug '${m}' within 100 runs`, () => {
      const r = runCampaign({
        runs: 100,
        seed: 1,
        nodes: 3,
        durationMs: 3000,
        mutation: m,
        stopOnCatch: true,
      });
      expect(r.caught).toBe(true);
      expect(r.caught_at_run).not.toBeNull();
      expect(r.caught_at_run!).toBeLessThanOrEqual(100);
    });
  }

  it('flapping member: PreVote + CheckQuorum start no election; without them the term churns', () => {
    const on = runFlapping({ seed: 1, nodes: 5, preVote: true, durationMs: 10_000 });
    expect(on.elections_while_leader_healthy).toBe(0);
    expect(on.term_after).toBe(on.term_before);
    const off = runFlapping({ seed: 1, nodes: 5, preVote: false, durationMs: 10_000 });
    expect(off.elections_while_leader_healthy).toBeGreaterThan(0);
    // The checker watched every Ready of both runs; its verdict is part of the report.
    expect(on.violations).toEqual([]);
    expect(off.violations).toEqual([]);
  });
});
