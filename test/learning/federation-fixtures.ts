/** Shared set-up for the FederatedQTable tests: a category of members on one in-memory network. */
import { ManualClock } from '../../src/core/index.js';
import {
  createFederatedQTable,
  encodeState,
  type FederatedQTable,
  type FederationConfig,
  federatedSync,
  type Identity,
  InMemoryNetwork,
  MapKeyring,
} from '../../src/learning/index.js';

export const s = (i: number) =>
  encodeState({ queryType: 'kpi', complexity: 'moderate', confidence: 0.5, contextHash: BigInt(i) });
/** The low word of state `s(i)` (its high word is 0), for `QTable.find` / `getQ`. */
export const key = (i: number) => Number(s(i) & 0xffffffffn);

/** A member's signing identity (private to it), for tests that forge or craft its deltas. */
export const identityOf = (t: FederatedQTable) => (t as unknown as { identity: Identity }).identity;

/**
 * Members `ids` (seed 42, sync every 1 s, rounds of 2 members); `round(k)` advances 500 ms k times, each
 * member learning one interaction and syncing.
 */
export async function category(
  ids: readonly string[],
  opts: {
    clock?: ManualClock;
    network?: InMemoryNetwork;
    keyring?: MapKeyring;
    config?: Partial<FederationConfig>;
  } = {},
) {
  const clock = opts.clock ?? new ManualClock(0);
  const network = opts.network ?? new InMemoryNetwork();
  const keyring = opts.keyring ?? new MapKeyring();
  /** A member of the category as configured here (again under the same id: a restart with an empty table). */
  const member = (id: string, restart: Partial<FederationConfig> = {}) =>
    createFederatedQTable({
      id,
      peers: [...ids],
      network,
      keyring,
      clock,
      seed: 42,
      sync_interval_ms: 1000,
      min_peers_for_consensus: 2,
      ...opts.config,
      ...restart,
    });
  const tables: FederatedQTable[] = [];
  for (const id of ids) tables.push(await member(id));
  const round = async (rounds: number, who: readonly FederatedQTable[] = tables) => {
    for (let step = 0; step < rounds; step++) {
      clock.advance(500);
      for (const t of who) {
        t.learner.learn(s(step % 5), step % 3, 0.5, null);
        await federatedSync(t);
      }
    }
  };
  return { clock, network, keyring, tables, round, member };
}

/** 20 s of learning and syncing (every member, every 500 ms): time enough to elect an aggregator. */
export async function settle(tables: readonly FederatedQTable[], clock: ManualClock): Promise<void> {
  for (let step = 0; step < 40; step++) {
    clock.advance(500);
    for (const t of tables) {
      t.learner.learn(s(step % 7), step % 5, 0.5, null);
      await federatedSync(t);
    }
  }
}

/** Three members a, b, c after `settle`: the aggregator, one member `m` and the `other`. */
export async function withAggregator() {
  const c = await category(['a', 'b', 'c']);
  await settle(c.tables, c.clock);
  const leader = c.tables.find((t) => t.consensus_state.kind === 'Leader');
  if (!leader) throw new Error('no aggregator elected');
  const [m, other] = c.tables.filter((t) => t !== leader);
  return { ...c, leader, m, other };
}
