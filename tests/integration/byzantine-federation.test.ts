import { describe, expect, it } from 'vitest';
import { deriveSeed, ManualClock, SeededRng } from '../../src/core/index.js';
import {
  createFederatedQTable,
  encodeState,
  type FederatedQTable,
  federatedSync,
  InMemoryNetwork,
  MapKeyring,
  stateHi,
  stateLo,
} from '../../src/learning/index.js';
import {
  type AttackName,
  campaignRunConfig,
  type MdpName,
  type RunConfig,
  runCampaign,
  runFederation,
} from '../../src/sim/federation/index.js';

describe('ADR-115 integration snippet', () => {
  it('learning on one table reaches the other two through federatedSync', async () => {
    const network = new InMemoryNetwork();
    const keyring = new MapKeyring();
    const clock = new ManualClock(0);
    const ids = ['agent-1', 'agent-2', 'agent-3'];
    const tables: FederatedQTable[] = [];
    for (const id of ids) {
      tables.push(
        await createFederatedQTable({
          sync_interval_ms: 60000,
          min_peers_for_consensus: 3,
          byzantine_threshold: 0.33,
          id,
          peers: ids,
          network,
          keyring,
          clock,
          seed: 7,
        }),
      );
    }
    const [fqt, b, c] = tables;
    const s = encodeState({
      queryType: 'parameter',
      complexity: 'simple',
      confidence: 0.8,
      contextHash: 99n,
    });
    for (let i = 0; i < 10; i++) fqt.learner.learn(s, 1, 1, null);
    const result = await federatedSync(fqt);
    expect(result.updates_sent).toBeGreaterThan(0);
    expect(result.conflicts_resolved).toBeGreaterThanOrEqual(0);
    expect(typeof result.sync_time_ms).toBe('number');
    const learned = fqt.local_qtable.getQ(stateHi(s), stateLo(s), 1);
    expect(learned).toBeGreaterThan(0.5);
    for (const t of [b, c]) {
      expect(t.local_qtable.find(stateHi(s), stateLo(s), 1)).toBe(-1);
      const r = await federatedSync(t);
      expect(r.updates_received).toBeGreaterThan(0);
      expect(t.local_qtable.getQ(stateHi(s), stateLo(s), 1)).toBeCloseTo(learned, 6);
    }
  });
});

describe('the shipped aggregator (FederatedQTable) with a Byzantine member', () => {
  // Honest members elect an aggregator while `z` is cut off; then `z` joins and learns on a flipped reward,
  // reporting honestly formatted, TD-reachable deltas through the real signed codec. The aggregate must stay
  // with the honest members' learning. (A Byzantine member that wins the election is not covered: the
  // aggregator is trusted, see docs/federation.md.) Each step every member learns the same entry once, then
  // syncs: in a seeded random order (`random`), or with `z` last, right after the aggregator (`timed`): then
  // every report of z reaches the aggregator after the honest reports of its entry were aggregated, and z is
  // the only reporter of each of its entries.
  async function run(withFlipper: boolean, order: 'random' | 'timed', rewardBase: number) {
    const network = new InMemoryNetwork();
    const keyring = new MapKeyring();
    const clock = new ManualClock(0);
    const rng = new SeededRng(5);
    const ids = withFlipper ? ['h1', 'h2', 'h3', 'z'] : ['h1', 'h2', 'h3'];
    const tables: FederatedQTable[] = [];
    for (const id of ids) {
      tables.push(
        await createFederatedQTable({
          id,
          peers: ids,
          network,
          keyring,
          clock,
          seed: 11,
          sync_interval_ms: 1000,
          min_peers_for_consensus: 2,
        }),
      );
    }
    const states = [0, 1, 2].map((i) =>
      encodeState({ queryType: 'kpi', complexity: 'simple', confidence: 0.5, contextHash: BigInt(i) }),
    );
    const rank = (t: FederatedQTable) =>
      order === 'random' ? rng.next() : t.id === 'z' ? 2 : t.consensus_state.kind === 'Leader' ? 1 : 0;
    network.isolated.add('z');
    for (let step = 0; step < 160; step++) {
      if (step === 40) network.isolated.delete('z');
      clock.advance(400);
      const ranked = tables.map((t) => [rank(t), t] as const).sort((a, b) => a[0] - b[0]);
      for (const [, t] of ranked) {
        const st = states[step % 3];
        const r = rewardBase + 0.1 * (step % 3);
        t.learner.learn(st, 1, t.id === 'z' ? -r : r, null);
        await federatedSync(t);
      }
    }
    const leader = tables.find((t) => t.consensus_state.kind === 'Leader');
    const q = states.map((st) => tables[0].local_qtable.getQ(stateHi(st), stateLo(st), 1));
    return { leader, q };
  }

  async function expectHonestKept(order: 'random' | 'timed', rewardBase: number) {
    const honest = await run(false, order, rewardBase);
    const attacked = await run(true, order, rewardBase);
    expect(attacked.leader?.id).toMatch(/^h/);
    // z's deltas reached the aggregator and were scored.
    expect(attacked.leader!.trust.ratioOf('z')).toBeDefined();
    expect(attacked.leader!.trust.trustOf('z')).toBeLessThan(0.5);
    for (let i = 0; i < 3; i++) {
      expect(honest.q[i]).toBeCloseTo(rewardBase + 0.1 * i, 2);
      // The flipper pulls towards −r; the aggregate stays within 10 % of the honest-only value.
      expect(Math.abs(attacked.q[i] - honest.q[i])).toBeLessThan(0.1 * honest.q[i]);
    }
  }

  it('keeps the honest value when a reward flipper contributes, and distrusts the flipper', async () => {
    await expectHonestKept('random', 0.2);
  });

  it("also when the flipper times every report to be its entry's only one, on values of 0.4 and more", async () => {
    await expectHonestKept('timed', 0.4);
  });

  it('known limit: timed that way, a flipper of values 0.2–0.4 stays within the trust floor and holds them near 0', async () => {
    // Its implied targets are −r, the consensus it drags is near 0, so it deviates by about r: under
    // 1.3 × the trust's scale floor (0.1 × the reward range = 0.3) it keeps its weight. Where it is an
    // entry's only reporter every other round, the entry ends midway between r and −r. docs/federation.md,
    // threat model. This test fails (and the docs must change) once that is defended.
    const attacked = await run(true, 'timed', 0.2);
    expect(attacked.leader!.trust.trustOf('z')).toBeGreaterThanOrEqual(0.5);
    for (let i = 0; i < 3; i++) expect(Math.abs(attacked.q[i])).toBeLessThan(0.05);
  });
});

describe('Byzantine evaluation (reduced: 10 agents, 3 attackers, 2 seeds)', () => {
  it('the plain ADR-115 merge falls below ρ = 0.5 under visit inflation on FrozenLake', () => {
    const r = runCampaign({
      mdp: 'frozen-lake',
      agents: 10,
      byzantine: 3,
      attacks: ['visit-inflation'],
      rules: ['visit-weighted'],
      seeds: 2,
      seed: 1,
      episodes: 1500,
    });
    expect(r.results[0].rho_mean).toBeLessThan(0.5);
    expect(r.results[0].non_finite_stored).toBe(0);
    // Paired with the baseline on the same seeds: worse on each, by more than 0.3 on average.
    expect(r.results[0].vs_baseline.worse_seeds).toBe(2);
    expect(r.results[0].vs_baseline.mean_diff).toBeLessThan(-0.3);
  });

  it('the default rule with validation keeps ρ under refused and bounded attacks, and never stores NaN', () => {
    const attacks: AttackName[] = [
      'noise',
      'invalid',
      'sign-flip',
      'alie',
      'ipm',
      'stale-replay',
      'equivocation',
      'forged-origin',
    ];
    const r = runCampaign({
      mdp: 'elex-query',
      agents: 10,
      byzantine: 3,
      attacks,
      rules: ['trimmed-mean'],
      seeds: 2,
      seed: 1,
    });
    expect(r.baseline.rho_mean).toBeGreaterThan(0.85);
    for (const row of r.results) {
      expect(row.rho_mean, row.attack).toBeGreaterThanOrEqual(0.95 * r.baseline.rho_mean);
      expect(row.rho_min, row.attack).toBeGreaterThanOrEqual(0.9 * r.baseline.rho_mean);
      expect(row.non_finite_stored).toBe(0);
    }
    // Refused outright, the invalid attack leaves the honest agents where the baseline leaves them on every
    // seed (paired difference exactly 0).
    const invalid = r.results.find((x) => x.attack === 'invalid')!;
    expect(invalid.vs_baseline).toEqual({ mean_diff: 0, ci95: 0, worse_seeds: 0, equal_seeds: 2 });
    const forged = r.results.find((x) => x.attack === 'forged-origin')!;
    expect(forged.refused.E_SIGNATURE).toBeGreaterThan(0);
    expect(forged.refused.ACCEPTED_FORGERY).toBeUndefined();
    // Ten federated honest agents need at most a quarter of the episodes one agent needs.
    expect(r.federated_10_honest.episodes_to_0_9).not.toBeNull();
    expect(r.single_agent.episodes_to_0_9).not.toBeNull();
    expect(r.federated_10_honest.episodes_to_0_9! * 4).toBeLessThanOrEqual(r.single_agent.episodes_to_0_9!);
  });

  it('visit inflation and reward flip break the per-round rule alone; reporter trust restores ρ', () => {
    const o = {
      mdp: 'elex-query' as const,
      agents: 10,
      byzantine: 3,
      attacks: ['visit-inflation', 'reward-flip'] as AttackName[],
      rules: ['trimmed-mean' as const],
      seeds: 3,
      seed: 1,
    };
    // The previous behaviour (capped-visit trimmed mean, no trust across rounds) fails the targets...
    const old = runCampaign({ ...o, trust: false });
    for (const row of old.results) {
      expect(row.rho_mean, row.attack).toBeLessThan(0.95 * old.baseline.rho_mean);
    }
    // ...the default pipeline meets them, and its no-attack baseline is unchanged.
    const now = runCampaign(o);
    expect(now.baseline.rho_mean).toBeGreaterThanOrEqual(0.98 * old.baseline.rho_mean);
    for (const row of now.results) {
      expect(row.rho_mean, row.attack).toBeGreaterThanOrEqual(0.95 * now.baseline.rho_mean);
      expect(row.rho_min, row.attack).toBeGreaterThanOrEqual(0.9 * now.baseline.rho_mean);
      expect(row.non_finite_stored).toBe(0);
    }
  });

  it('random MDP (off-policy agents): visit inflation, ALIE, reward flip within the targets; 4x speed-up', () => {
    const r = runCampaign({
      mdp: 'random',
      agents: 10,
      byzantine: 3,
      attacks: ['visit-inflation', 'alie', 'reward-flip'],
      rules: ['trimmed-mean'],
      seeds: 3,
      seed: 1,
    });
    expect(r.behaviour).toBe('off-policy');
    for (const row of r.results) {
      expect(row.rho_mean, row.attack).toBeGreaterThanOrEqual(0.95 * r.baseline.rho_mean);
      expect(row.rho_min, row.attack).toBeGreaterThanOrEqual(0.9 * r.baseline.rho_mean);
      expect(row.non_finite_stored).toBe(0);
    }
    expect(r.single_agent.reached_0_9).toBe(3);
    expect(r.federated_10_honest.reached_0_9).toBe(3);
    expect(r.federated_10_honest.episodes_to_0_9! * 4).toBeLessThanOrEqual(r.single_agent.episodes_to_0_9!);
  });

  it('is deterministic: same seed, same report', () => {
    const o = {
      mdp: 'elex-query' as const,
      agents: 6,
      byzantine: 2,
      attacks: ['sign-flip' as const],
      rules: ['median' as const],
      seeds: 1,
      seed: 5,
    };
    expect(JSON.stringify(runCampaign(o))).toBe(JSON.stringify(runCampaign(o)));
  });
});

describe('Byzantine evaluation: single runs that once failed', () => {
  const config = (
    mdp: MdpName,
    attack: AttackName,
    seed: number,
    extra: Partial<RunConfig> = {},
  ): RunConfig =>
    campaignRunConfig(mdp, {
      agents: 10,
      byzantine: 3,
      attack,
      rule: 'trimmed-mean',
      seed,
      episodes: mdp === 'frozen-lake' ? 3000 : 1000,
      ...extra,
    });

  it('members re-anchor on the consensus: no honest delta refused, no trust collapse (stale replay)', () => {
    // Before the fix, with one pseudo-round of newcomer prior: honest reports the trust weighed out were
    // never adopted back, the members drifted, were refused as unreachable from round 13 on, and every honest
    // member ended distrusted (ratios 3.2–3.7) while the stale replayers were trusted (0.05): ρ 0.30–0.49.
    const r = runFederation(
      config('elex-query', 'stale-replay', deriveSeed(101, 'seed-8') >>> 0, {
        trustOptions: { newcomerRounds: 1 },
      }),
    );
    expect(r.refused.HONEST_UNREACHABLE).toBeUndefined();
    expect(Math.min(...r.rho)).toBeGreaterThan(0.9);
    for (let i = 0; i < 7; i++) expect(r.trustRatios[i]!, `agent-${i}`).toBeLessThan(1.3);
  });

  it('FrozenLake: quiet visit inflation is not forgiven between its pushes (one smoothing rate was)', () => {
    const seed = deriveSeed(1, 'seed-1') >>> 0;
    // Under the reachability check it was found with (one step of slack, no window), where it pushed hardest.
    const check = { tdWindow: 1, tdSlack: 1 };
    const alone = runFederation(config('frozen-lake', 'none', seed, { agents: 7, byzantine: 0, ...check }));
    const mean = alone.rho.reduce((a, b) => a + b, 0) / alone.rho.length;
    const now = runFederation(config('frozen-lake', 'visit-inflation-quiet', seed, check));
    const symmetric = runFederation(
      config('frozen-lake', 'visit-inflation-quiet', seed, { ...check, trustOptions: { forgiveness: 0.1 } }),
    );
    // Its deltas pass validation (half the push the check allows): only trust can stop it.
    expect(now.refused.E_UNREACHABLE).toBeUndefined();
    expect(Math.min(...now.rho)).toBeGreaterThanOrEqual(0.9 * mean);
    expect(Math.min(...symmetric.rho)).toBeLessThan(0.5);
  });

  it('FrozenLake: reward flippers have no weight from their first scored round (trusted newcomers had)', () => {
    const seed = deriveSeed(1, 'seed-6') >>> 0;
    const alone = runFederation(config('frozen-lake', 'none', seed, { agents: 7, byzantine: 0 }));
    const now = runFederation(config('frozen-lake', 'reward-flip', seed));
    const before = runFederation(
      config('frozen-lake', 'reward-flip', seed, { trustOptions: { newcomer: 'trusted' } }),
    );
    // The honest agents' trajectory is the one they have without the flippers, to the last bit.
    expect(now.rho).toEqual(alone.rho);
    const mean = alone.rho.reduce((a, b) => a + b, 0) / alone.rho.length;
    expect(Math.min(...before.rho)).toBeLessThan(0.9 * mean);
  });
});
