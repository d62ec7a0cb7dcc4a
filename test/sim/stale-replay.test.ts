import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../src/learning/replay-guard.js';
import { campaignRunConfig, campaignSeed, runFederation } from '../../src/sim/federation/index.js';

// The stale-replay attacker also replays an honest member's signed delta of 20 rounds ago, bytes unchanged.
// The library refuses that as a replay (ReplayGuard: a seq its origin used already, E_REPLAY);
// nothing in src/learning checks a peer delta's round against its origin's last one, and E_STALE is its code
// for an aggregate whose (term, round) already passed. Before, the evaluation counted these as E_STALE.
describe('stale replay in the evaluation', () => {
  it("counts the replayed honest deltas under the library's code for a replay", () => {
    const r = runFederation(
      campaignRunConfig('elex-query', {
        agents: 10,
        byzantine: 3,
        attack: 'stale-replay',
        seed: campaignSeed(1, 0),
        episodes: 100,
      }),
    );
    expect(r.refused.E_STALE).toBeUndefined();
    expect(r.refused.E_REPLAY).toBeGreaterThan(0);
  });

  it('the library refuses a delta replayed 20 deltas later from the same origin', () => {
    const guard = new ReplayGuard();
    for (let seq = 1; seq <= 21; seq++) expect(guard.refusal('agent-0', 1, seq)).toBeNull();
    expect(guard.refusal('agent-0', 1, 1)).toMatch(/already received/);
  });
});
