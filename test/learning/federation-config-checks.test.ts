import { describe, expect, it } from 'vitest';
import { learning } from '../../src/index.js';

const { createFederatedQTable, federatedSync, InMemoryNetwork, MapKeyring, encodeState, stateHi, stateLo } =
  learning;

const STATE = encodeState({
  queryType: 'parameter',
  complexity: 'simple',
  confidence: 0.8,
  contextHash: 99n,
});

/** The README's flow (learn on one table, sync all), on `n` members with `extra` config. */
async function category(n: number, extra: Record<string, unknown>) {
  const network = new InMemoryNetwork();
  const keyring = new MapKeyring();
  const ids = Array.from({ length: n }, (_, i) => `agent-${i + 1}`);
  const tables: learning.FederatedQTable[] = [];
  for (const id of ids)
    tables.push(await createFederatedQTable({ id, peers: ids, network, keyring, seed: 7, ...extra }));
  for (let i = 0; i < 10; i++) tables[0].learner.learn(STATE, 1, 1, null);
  const first = await federatedSync(tables[0]);
  for (const t of tables.slice(1)) await federatedSync(t);
  const learned = tables
    .slice(1)
    .filter((t) => t.local_qtable.getQ(stateHi(STATE), stateLo(STATE), 1) > 0.1).length;
  return { first, learned };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'accepted',
    (e: { code?: string }) => e.code ?? `untyped ${String(e)}`,
  );
}

describe('createFederatedQTable refuses nonsense protocol settings with E_CONFIG (as it does for learning.*)', () => {
  it('refuses gossip_fanout NaN with E_CONFIG (accepted: every peer-to-peer sync then sends nothing)', async () => {
    // The consequence on the current code: the member's learning never leaves it.
    const r = await category(4, { gossip_fanout: Number.NaN }).then(
      (x) => `sent ${x.first.updates_sent}, learned by ${x.learned}`,
      (e: { code?: string }) => e.code,
    );
    expect(r).toBe('E_CONFIG');
  });

  it('refuses gossip_fanout -1 with E_CONFIG (accepted: it gossips to every peer but one)', async () => {
    const r = await category(11, { gossip_fanout: -1 }).then(
      (x) => `sent to ${x.first.updates_sent} peers`,
      (e: { code?: string }) => e.code,
    );
    expect(r).toBe('E_CONFIG');
  });

  it('refuses weight_cap NaN or -1 with E_CONFIG (accepted: peers silently merge nothing)', async () => {
    for (const weight_cap of [Number.NaN, -1]) {
      const r = await category(4, { weight_cap }).then(
        (x) => `learned by ${x.learned} of 3`,
        (e: { code?: string }) => e.code,
      );
      expect(r, `weight_cap ${weight_cap}`).toBe('E_CONFIG');
    }
  });

  it('refuses min_peers_for_consensus NaN / -1 / 1.5 with E_CONFIG (NaN: an aggregator never runs a round)', async () => {
    for (const min_peers_for_consensus of [Number.NaN, -1, 1.5])
      expect(
        await codeOf(createFederatedQTable({ min_peers_for_consensus })),
        String(min_peers_for_consensus),
      ).toBe('E_CONFIG');
  });

  it('refuses sync_after_interactions NaN / -1 with E_CONFIG (NaN: syncDue never fires on interactions)', async () => {
    for (const sync_after_interactions of [Number.NaN, -1])
      expect(
        await codeOf(createFederatedQTable({ sync_after_interactions })),
        String(sync_after_interactions),
      ).toBe('E_CONFIG');
  });

  it('refuses max_interactions_per_delta NaN with E_CONFIG (NaN disables the E_IMPLAUSIBLE check)', async () => {
    expect(await codeOf(createFederatedQTable({ max_interactions_per_delta: Number.NaN }))).toBe('E_CONFIG');
  });

  it('refuses conflict_tolerance NaN / -1 with E_CONFIG', async () => {
    for (const conflict_tolerance of [Number.NaN, -1])
      expect(await codeOf(createFederatedQTable({ conflict_tolerance })), String(conflict_tolerance)).toBe(
        'E_CONFIG',
      );
  });

  it('refuses an unknown config key (a misspelt ADR-115 key) with E_CONFIG instead of ignoring it', async () => {
    // `syncIntervalMs` for `sync_interval_ms`: silently runs with the 60 s default today.
    const config = { syncIntervalMs: 1000, gossipFanout: 1 } as unknown as learning.FederationConfig;
    expect(await codeOf(createFederatedQTable(config))).toBe('E_CONFIG');
  });
});

describe('a member created without an identity', () => {
  it('is refused (E_CONFIG): its key would derive from a default seed, the same for every member of that id', async () => {
    // Neither identity nor seed given: the key came from SeededRng(1).fork(id), public knowledge, so anyone
    // could sign deltas and votes as this member on a real network.
    expect(await codeOf(createFederatedQTable({ id: 'agent-1', keyring: new MapKeyring() }))).toBe(
      'E_CONFIG',
    );
    const k1 = new MapKeyring();
    const k2 = new MapKeyring();
    await createFederatedQTable({ id: 'agent-1', keyring: k1, seed: 1 });
    await createFederatedQTable({ id: 'agent-1', keyring: k2, seed: 2 });
    const pem = (k: learning.MapKeyring) =>
      (k.publicKey('agent-1') as import('node:crypto').KeyObject).export({ type: 'spki', format: 'pem' });
    expect(pem(k1)).not.toEqual(pem(k2));
  });
});
