/**
 * Third review pass of the federation protocol (deltas, weights, acks). Each test reproduces one bug found on
 * the previous code.
 */
import { describe, expect, it } from 'vitest';
import { ByteWriter, fnv1a, ManualClock, SeededRng } from '../../src/core/index.js';
import {
  decodeDelta,
  ENVELOPE,
  emptyDelta,
  encodeDelta,
  envelope,
  FederatedQTable,
  federatedSync,
  identityFromRng,
  MapKeyring,
  signBytes,
} from '../../src/learning/index.js';
import { codeOf } from './error-code.js';
import { category, identityOf, key, s, settle } from './federation-fixtures.js';

/** A signed peer delta from `from` to `to` reporting one entry (state s(i), `action`) at `q` with `fresh` visits. */
function report(
  from: FederatedQTable,
  to: string,
  i: number,
  action: number,
  q: number,
  fresh: number,
  round: number,
) {
  const d = emptyDelta('peer', from.id, 1);
  d.to = to;
  d.term = from.term;
  d.round = round;
  // Its own seq, far above the member table's (crafted rounds are distinct): the receiver takes each once.
  d.epoch = from.epoch;
  d.seq = round;
  d.interactions = fresh;
  d.lo[0] = key(i);
  d.action[0] = action;
  d.q[0] = q;
  d.visits[0] = fresh;
  d.fresh[0] = fresh;
  return envelope(ENVELOPE.delta, encodeDelta(d, identityOf(from)));
}

describe('FederatedQTable review: weights, rows and limits', () => {
  it("one member's several deltas in a round weigh as one reporter: it cannot out-vote the others on an entry", async () => {
    const clock = new ManualClock(0);
    const { tables, network } = await category(['a', 'b', 'c', 'd'], { clock });
    await settle(tables, clock);
    const leader = tables.find((t) => t.consensus_state.kind === 'Leader')!;
    const [m1, m2, z] = tables.filter((t) => t !== leader);
    for (const m of [m1, m2, z]) expect(m.leader).toBe(leader.id);
    // An entry new to everyone: the two honest members learn it twice on reward 0.5 (0.05, then 0.095).
    for (const m of [m1, m2]) {
      m.learner.learn(s(90), 0, 0.5, null);
      m.learner.learn(s(90), 0, 0.5, null);
      clock.advance(500);
      await federatedSync(m);
    }
    // z (Byzantine, f = 1 of 4) sends four distinct deltas before the round, each a plausible, reachable
    // report of the entry (two TD steps towards the bottom of the target range). The backlog keeps four.
    for (let k = 0; k < 4; k++) network.send(z.id, leader.id, report(z, leader.id, 90, 0, -0.25, 2, 1e6 + k));
    await federatedSync(leader);
    // All four taken in (none refused): the point is what the round makes of them.
    for (const code of ['E_UNREACHABLE', 'E_DECODE', 'E_REPLAY'])
      expect(leader.refusals.get(code) ?? 0, code).toBe(0);
    const decided = leader.local_qtable.getQ(0, key(90), 0);
    // One report from each of three members: the trimmed mean keeps the honest side. Before, z's four deltas
    // were four rows of weight 2 (8 of 12: its value alone survived the trim, and it was the median reporter
    // trust scored the honest two against).
    expect(decided).toBeGreaterThan(0);
  });

  it('refuses a learning configuration with more actions than a delta can carry (sync threw E_ENCODE)', async () => {
    // The delta's action mask has 8 bits: a member learning action 8 or above could never sync again.
    expect(codeOf(() => new FederatedQTable({ learning: { actions: 9 } }))).toBe('E_CONFIG');
    expect(codeOf(() => new FederatedQTable({ learning: { actions: 8 }, seed: 1 }))).toBe('ok');
    const clock = new ManualClock(0);
    const { tables } = await category(['a', 'b'], { clock, config: { learning: { actions: 8 } } });
    tables[0].learner.learn(s(1), 7, 0.5, null);
    clock.advance(2000);
    await federatedSync(tables[0]);
    await federatedSync(tables[1]);
    expect(tables[1].local_qtable.getQ(0, key(1), 7)).toBeCloseTo(0.05, 6);
  });
});

describe('delta decoder review', () => {
  const alice = identityFromRng('alice', new SeededRng(1));
  const keys = new MapKeyring().add('alice', alice.publicKey);
  /** A signed, well-formed one-entry delta whose term and round varints are the raw bytes given. */
  function withHeader(term: number[], round: number[]) {
    const body = new ByteWriter(32);
    body.u32(5).u32(0).u8(1).f32(0.25).varint(1).varint(1);
    const b = body.finish();
    const w = new ByteWriter(128);
    w.u16(0x5144).u8(2).u8(0).str('alice');
    w.raw(Uint8Array.from(term)).raw(Uint8Array.from(round));
    // interactions, epoch, seq, count, groups
    w.varint(1).varint(0).varint(1).varint(1).varint(1).u32(fnv1a(b)).raw(b);
    const unsigned = w.finish();
    const out = new Uint8Array(unsigned.length + 64);
    out.set(unsigned);
    out.set(signBytes(alice, unsigned), unsigned.length);
    return out;
  }

  it('refuses a term above MAX_TERM and a round that is not a safe integer (E_DECODE)', () => {
    expect(decodeDelta(withHeader([3], [17]), keys)).toMatchObject({ term: 3, round: 17, count: 1 });
    // 2^32: above MAX_TERM, which no election can certify (control messages refuse it at decode too).
    expect(codeOf(() => decodeDelta(withHeader([0x80, 0x80, 0x80, 0x80, 0x10], [1]), keys))).toBe('E_DECODE');
    // 2^56 - 1 as a round: past 2^53, it lost precision, and the receiver's ack of it could not be encoded.
    const huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    expect(codeOf(() => decodeDelta(withHeader([3], huge), keys))).toBe('E_DECODE');
    expect(codeOf(() => decodeDelta(withHeader(huge, [1]), keys))).toBe('E_DECODE');
  });

  it('a member refuses such a delta at decode (E_DECODE), before it is remembered or acked', async () => {
    const { tables, network } = await category(['a', 'b']);
    const [a, b] = tables;
    // b's signed delta to a with round 2^56 - 1: a's ack of that round could not be encoded (E_ENCODE, thrown
    // after the delta had been recorded as received).
    const body = new ByteWriter(32);
    body.u32(key(5)).u32(0).u8(1).f32(0.25).varint(1).varint(1);
    const bb = body.finish();
    const w = new ByteWriter(128);
    w.u16(0x5144).u8(2).u8(0x80).str(b.id).str(a.id).varint(0);
    w.raw(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    // interactions, epoch, seq, count, groups
    w.varint(1).varint(0).varint(1).varint(1).varint(1).u32(fnv1a(bb)).raw(bb);
    const unsigned = w.finish();
    const msg = new Uint8Array(unsigned.length + 64);
    msg.set(unsigned);
    msg.set(signBytes(identityOf(b), unsigned), unsigned.length);
    const ring = new MapKeyring().add(b.id, identityOf(b).publicKey);
    expect(() => decodeDelta(msg, ring)).toThrow(/above 2\^53/);
    network.send(b.id, a.id, envelope(ENVELOPE.delta, msg));
    await federatedSync(a);
    expect(a.refusals.get('E_DECODE')).toBe(1);
    expect(a.refusals.get('E_ENCODE')).toBeUndefined();
    expect(a.local_qtable.find(0, key(5), 0)).toBe(-1);
  });
});
describe('delta seqs', () => {
  it('a peer delta without a seq is refused at decode (E_DECODE), before it is acked or merged', async () => {
    const { tables, network } = await category(['a', 'b']);
    const [a, b] = tables;
    const d = emptyDelta('peer', b.id, 1);
    d.to = a.id;
    d.lo[0] = key(9);
    d.q[0] = 0.25;
    d.visits[0] = 1;
    d.fresh[0] = 1;
    d.interactions = 1;
    network.send(b.id, a.id, envelope(ENVELOPE.delta, encodeDelta(d, identityOf(b))));
    await federatedSync(a);
    expect(a.refusals.get('E_DECODE')).toBe(1);
    expect(a.local_qtable.find(0, key(9), 0)).toBe(-1);
  });
});
