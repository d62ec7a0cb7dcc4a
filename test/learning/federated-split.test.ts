/**
 * Deltas larger than one delta may be (`MAX_DELTA_ENTRIES` entries, `MAX_DELTA_BYTES` bytes, or the member's
 * `max_delta_entries` / `max_delta_bytes`) go out in parts, one per sync and recipient, oldest versions first.
 * Before, `encodeDelta` threw E_OVERSIZE out of every `sync()` (over 2^20 entries), or the receivers refused
 * every delta (over 16 MB): a new peer, or a new term's first aggregate, never got the table.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/index.js';
import {
  createFederatedQTable,
  type Delta,
  decodeDelta,
  ENVELOPE,
  FederatedQTable,
  type FederationConfig,
  federatedSync,
  InMemoryNetwork,
  MAX_DELTA_BYTES,
  MAX_DELTA_ENTRIES,
  MapKeyring,
} from '../../src/learning/index.js';
import { codeOf } from './error-code.js';
import { category, s, settle } from './federation-fixtures.js';

/** An in-memory network that also keeps every delta sent, decoded, with its size. */
class Tap extends InMemoryNetwork {
  readonly deltas: Array<{ from: string; to: string; bytes: number; d: Delta }> = [];
  constructor(private readonly keys: MapKeyring) {
    super();
  }
  override send(from: string, to: string, message: Uint8Array): void {
    if (message[0] === ENVELOPE.delta && !this.isolated.has(from) && !this.isolated.has(to)) {
      const d = decodeDelta(message.subarray(1), this.keys);
      this.deltas.push({ from, to, bytes: message.length - 1, d });
    }
    super.send(from, to, message);
  }
}

async function pair(config: Partial<FederationConfig> = {}) {
  const clock = new ManualClock(0);
  const keyring = new MapKeyring();
  const network = new Tap(keyring);
  const make = (id: string) =>
    createFederatedQTable({
      id,
      peers: ['a', 'b'],
      network,
      keyring,
      clock,
      seed: 42,
      sync_interval_ms: 1000,
      ...config,
    });
  const a = await make('a');
  const b = await make('b');
  return { clock, network, a, b };
}

/** Writes `n` entries of `t` (state i, action i mod 5: one action per state), with `visits` visits. */
function fill(t: FederatedQTable, n: number, visits = 1, first = 0): void {
  const q = t.local_qtable;
  for (let i = first; i < first + n; i++) q.write(q.slot(0, i, i % 5), 0.25, visits);
}

const keyOf = (d: Delta, i: number) => `${d.hi[i]}:${d.lo[i]}:${d.action[i]}`;

/** Syncs a then b, `times` times (a sends, b receives and acks, a takes the ack in). */
async function exchange(a: FederatedQTable, b: FederatedQTable, times: number): Promise<void> {
  for (let k = 0; k < times; k++) {
    await federatedSync(a);
    await federatedSync(b);
  }
}

describe('FederatedQTable: deltas over the limits go out in parts', () => {
  it('more changed entries than MAX_DELTA_ENTRIES: sync does not throw and a new peer gets all of them', async () => {
    const { a, b, network } = await pair();
    const n = MAX_DELTA_ENTRIES + 1000;
    fill(a, n);
    // Before: E_OVERSIZE ("1049576 entries exceed 1048576") out of this sync, and every later one.
    await exchange(a, b, 2);
    const sent = network.deltas.filter((x) => x.from === 'a');
    expect(sent.length).toBe(2);
    for (const x of sent) {
      expect(x.d.count).toBeLessThanOrEqual(MAX_DELTA_ENTRIES);
      expect(x.bytes).toBeLessThanOrEqual(MAX_DELTA_BYTES);
    }
    expect(sent[0].d.count).toBe(MAX_DELTA_ENTRIES);
    expect(sent[0].d.count + sent[1].d.count).toBe(n);
    // The first part is acknowledged up to its cut (its round), not to the clock.
    expect(sent[0].d.round).toBeLessThan(a.local_qtable.clock);
    expect(sent[1].d.round).toBe(a.local_qtable.clock);
    expect(b.refusals.size).toBe(0);
    // Nothing more to send once both parts are acknowledged.
    await exchange(a, b, 1);
    expect(network.deltas.filter((x) => x.from === 'a').length).toBe(2);
  });

  it('a sparse delta over MAX_DELTA_BYTES (under the entry limit) is split by its encoded size', async () => {
    // One action per state and lifetime visits of 2^30 (5-byte varints): 19 bytes per entry, 17.1 MB.
    const { a, b, network } = await pair();
    const n = 900_000;
    fill(a, n, 2 ** 30);
    await exchange(a, b, 2);
    // Before: one 17.1 MB delta, refused by every receiver (E_OVERSIZE), every sync.
    expect(b.refusals.get('E_OVERSIZE') ?? 0).toBe(0);
    const sent = network.deltas.filter((x) => x.from === 'a');
    expect(sent.length).toBe(2);
    for (const x of sent) expect(x.bytes).toBeLessThanOrEqual(MAX_DELTA_BYTES);
    // The first part fills the limit to within a few entries.
    expect(sent[0].bytes).toBeGreaterThan(MAX_DELTA_BYTES - 300);
    expect(
      new Set(sent.flatMap((x) => Array.from({ length: x.d.count }, (_, i) => keyOf(x.d, i)))).size,
    ).toBe(n);
    expect(b.refusals.size).toBe(0);
  });

  it('refuses limits it cannot keep', () => {
    for (const bad of [0, 1.5, MAX_DELTA_ENTRIES + 1, Number.NaN])
      expect(codeOf(() => new FederatedQTable({ max_delta_entries: bad }))).toBe('E_CONFIG');
    for (const bad of [1023, MAX_DELTA_BYTES + 1, 4096.5])
      expect(codeOf(() => new FederatedQTable({ max_delta_bytes: bad }))).toBe('E_CONFIG');
    expect(codeOf(() => new FederatedQTable({ max_delta_entries: 1, max_delta_bytes: 1024, seed: 1 }))).toBe(
      'ok',
    );
  });

  it('one part per sync, oldest versions first; an ack covers only its part; a lost part is sent again', async () => {
    const { a, b, network } = await pair({ max_delta_entries: 100 });
    const n = 250;
    fill(a, n);
    const versionOf = (d: Delta, i: number) =>
      a.local_qtable.version[a.local_qtable.find(d.hi[i], d.lo[i], d.action[i])];
    // a syncs twice before b: the same first part twice (no ack yet), never the second.
    await federatedSync(a);
    await federatedSync(a);
    let sent = network.deltas.filter((x) => x.from === 'a');
    expect(sent.map((x) => x.d.count)).toEqual([100, 100]);
    expect(sent[1].d.round).toBe(sent[0].d.round);
    const first = sent[0].d;
    for (let i = 0; i < first.count; i++) expect(versionOf(first, i)).toBeLessThanOrEqual(first.round);
    expect(first.round).toBe(100);
    await federatedSync(b);
    // The second part is lost on the way.
    network.isolated.add('b');
    await federatedSync(a);
    network.isolated.delete('b');
    await federatedSync(b);
    // Not acknowledged: sent again, from the first part's cut.
    await exchange(a, b, 3);
    sent = network.deltas.filter((x) => x.from === 'a');
    expect(sent.map((x) => [x.d.count, x.d.round])).toEqual([
      [100, 100],
      [100, 100],
      [100, 200],
      [50, 250],
    ]);
    const got = new Set(sent.flatMap((x) => Array.from({ length: x.d.count }, (_, i) => keyOf(x.d, i))));
    expect(got.size).toBe(n);
    // The repeated first part is a new delta (its own seq), not a replay: b takes it. It carries no fresh
    // visits (they went out once, with the first), so nothing is counted twice.
    expect(sent[1].d.seq).toBe(sent[0].d.seq + 1);
    expect(sent[1].d.fresh.reduce((x, y) => x + y, 0)).toBe(0);
    expect([...b.refusals]).toEqual([]);
  });

  it('own visits go out with the sync they happened in, once, whatever part the entry is due in', async () => {
    const { a, b, network } = await pair({ max_delta_entries: 100 });
    fill(a, 250, 1, 1000);
    const own = new Map<string, number>();
    for (let step = 0; step < 6; step++) {
      // Five interactions per sync on a few states: new entries, and repeats, always the newest versions.
      for (let k = 0; k < 5; k++) {
        const state = s((step + k) % 4);
        a.learner.learn(state, k % 2, 0.5, null);
        const key = `${Number(state >> 32n)}:${Number(state & 0xffffffffn)}:${k % 2}`;
        own.set(key, (own.get(key) ?? 0) + 1);
      }
      await exchange(a, b, 1);
    }
    await exchange(a, b, 3);
    const sent = network.deltas.filter((x) => x.from === 'a');
    const fresh = new Map<string, number>();
    for (const { d } of sent) {
      let sum = 0;
      for (let i = 0; i < d.count; i++) {
        fresh.set(keyOf(d, i), (fresh.get(keyOf(d, i)) ?? 0) + d.fresh[i]);
        sum += d.fresh[i];
      }
      expect(d.count).toBeLessThanOrEqual(100);
      // Each sync's part carries that sync's 5 interactions and their visits (none in the catch-up syncs).
      expect(sum).toBe(d.interactions);
    }
    for (const [key, visits] of own) expect(fresh.get(key)).toBe(visits);
    for (const [key, visits] of fresh) expect(visits).toBe(own.get(key) ?? 0);
    // Every entry reached b at its current value.
    const last = new Map<string, number>();
    for (const { d } of sent) for (let i = 0; i < d.count; i++) last.set(keyOf(d, i), d.q[i]);
    const t = a.local_qtable;
    expect(last.size).toBe(t.size);
    for (let e = 0; e < t.size; e++) expect(last.get(`${t.hi[e]}:${t.lo[e]}:${t.action[e]}`)).toBe(t.q[e]);
    expect(b.refusals.size).toBe(0);
  });

  it('as aggregator: a round too large for one aggregate goes out over rounds, news first', async () => {
    const clock = new ManualClock(0);
    const keyring = new MapKeyring();
    const network = new Tap(keyring);
    const { tables } = await category(['a', 'b', 'c'], {
      clock,
      network,
      keyring,
      config: { max_delta_entries: 60 },
    });
    await settle(tables, clock);
    const leader = tables.find((t) => t.consensus_state.kind === 'Leader')!;
    expect(leader).toBeDefined();
    const followers = tables.filter((t) => t !== leader);
    // 400 entries new to the members in the leader's table: the next aggregates carry them 60 at a time.
    fill(leader, 400, 3, 5000);
    const news = s(777);
    const before = network.deltas.length;
    for (let step = 0; step < 12; step++) {
      clock.advance(500);
      for (const t of tables) {
        if (t !== leader) t.learner.learn(s(step % 7), step % 5, 0.5, null);
        // After the first split aggregate, a member learns a state no one had.
        if (step === 2 && t === followers[0]) t.learner.learn(news, 2, 1, null);
        await federatedSync(t);
      }
    }
    const aggregates = network.deltas.slice(before).filter((x) => x.d.kind === 'aggregate');
    expect(aggregates.length).toBeGreaterThan(0);
    for (const x of aggregates) expect(x.d.count).toBeLessThanOrEqual(60);
    const has = (d: Delta, lo: number, action: number) => {
      for (let i = 0; i < d.count; i++)
        if (d.hi[i] === 0 && d.lo[i] === lo && d.action[i] === action) return true;
      return false;
    };
    // What a round merged goes out with that round's aggregate, ahead of the older changes still due.
    const carrying = aggregates.findIndex((x) => has(x.d, Number(news & 0xffffffffn), 2));
    const backlogDone = aggregates.findIndex((x) => has(x.d, 5399, 5399 % 5));
    expect(carrying).toBeGreaterThanOrEqual(0);
    expect(backlogDone).toBeGreaterThan(carrying);
    // Oldest first: the first aggregate after the fill starts the backlog at its oldest entry.
    expect(has(aggregates[0].d, 5000, 0)).toBe(true);
    // Every member ends with the leader's 400 entries, at the leader's values.
    for (const f of followers) {
      for (let i = 5000; i < 5400; i++) {
        const e = leader.local_qtable.find(0, i, i % 5);
        expect(f.local_qtable.getQ(0, i, i % 5)).toBe(leader.local_qtable.q[e]);
      }
      expect(f.refusals.get('E_OVERSIZE') ?? 0).toBe(0);
    }
  });

  it('a table that fits sends exactly what it sent before (one delta, round = clock)', async () => {
    const { a, b, network } = await pair({ max_delta_entries: 100 });
    fill(a, 100);
    await exchange(a, b, 2);
    const sent = network.deltas.filter((x) => x.from === 'a');
    expect(sent.map((x) => [x.d.count, x.d.round])).toEqual([[100, 100]]);
  });
});
