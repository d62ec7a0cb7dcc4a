import { describe, expect, it } from 'vitest';
import { core, learning } from '../../src/index.js';

const { createFederatedQTable, federatedSync, InMemoryNetwork, MapKeyring, encodeState, stateHi, stateLo } =
  learning;
const STATE = encodeState({
  queryType: 'parameter',
  complexity: 'simple',
  confidence: 0.8,
  contextHash: 99n,
});
const q = (t: learning.FederatedQTable) => t.local_qtable.getQ(stateHi(STATE), stateLo(STATE), 1);

/**
 * `n` members on one in-memory network; every 500 ms of simulated time m0 learns reward 1 on STATE/1, the
 * others reward 0 (a little learning each), then all sync. Returns the tables after `steps`, or the typed code
 * the configuration was refused with.
 */
async function run(n: number, extra: learning.FederationConfig, steps: number) {
  const network = new InMemoryNetwork();
  const keyring = new MapKeyring();
  const clock = new core.ManualClock(0);
  const ids = Array.from({ length: n }, (_, i) => `m${i}`);
  const tables: learning.FederatedQTable[] = [];
  try {
    for (const id of ids)
      tables.push(
        await createFederatedQTable({
          id,
          peers: ids,
          network,
          keyring,
          clock,
          seed: 3,
          sync_interval_ms: 1000,
          ...extra,
        }),
      );
  } catch (e) {
    return { refused: (e as { code?: string }).code ?? 'untyped', tables };
  }
  for (let step = 0; step < steps; step++) {
    clock.advance(500);
    for (let i = 0; i < n; i++) tables[i].learner.learn(STATE, i === 0 ? 1 : 0, 1, null);
    for (const t of tables) await federatedSync(t);
  }
  return { refused: null, tables };
}

describe('federatedSync where min_peers_for_consensus exceeds the category', () => {
  it("spreads the aggregator's learning in a two-member category on default settings (or refuses the config with E_CONFIG)", async () => {
    // Observed: m0 is elected aggregator, min_peers_for_consensus (3) can never be met by 2 members, so no round
    // ever runs; the follower sends its deltas only to the aggregator and merges nothing: after 60 s the
    // follower is still at its own 0.12 while the aggregator holds 1.0, for ever, with no error anywhere.
    const { refused, tables } = await run(2, {}, 120);
    if (refused !== null) {
      expect(refused).toBe('E_CONFIG');
      return;
    }
    const [leader, follower] = tables;
    expect(leader.consensus_state.kind).toBe('Leader');
    expect(Math.abs(q(follower) - q(leader))).toBeLessThan(0.1);
  });

  it('refuses min_peers_for_consensus 4 in a three-member category with E_CONFIG (accepted: no round ever runs)', async () => {
    const { refused, tables } = await run(3, { min_peers_for_consensus: 4 }, 120);
    expect(
      `${refused ?? 'accepted'}: follower gap ${refused ? '-' : Math.abs(q(tables[2]) - q(tables[0])).toFixed(2)}`,
    ).toBe('E_CONFIG: follower gap -');
  });
});

describe('createFederatedQTable peers', () => {
  it('counts a peer listed twice once (members), or refuses the list with E_CONFIG', async () => {
    // A duplicate inflates `members`, the election quorum computed from it, and CheckQuorum counts the
    // duplicated peer's heartbeat acks twice.
    const r = await createFederatedQTable({ id: 'a', peers: ['a', 'b', 'b', 'c'], seed: 1 }).then(
      (t) => `members ${t.members}`,
      (e: { code?: string }) => e.code ?? 'untyped',
    );
    expect(['members 3', 'E_CONFIG']).toContain(r);
  });
});
