/**
 * Adversarial review of the aggregator election and aggregate acceptance (Raft / BFT view). Each test
 * reproduces one bug found on the previous code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter, type ManualClock } from '../../src/core/index.js';
import { MAX_TERM } from '../../src/learning/control.js';
import {
  type Control,
  createFederatedQTable,
  decodeControl,
  ENVELOPE,
  encodeCertificate,
  encodeControl,
  envelope,
  type FederatedQTable,
  federatedSync,
  signBytes,
  verifyCertificate,
} from '../../src/learning/index.js';
import { category, identityOf, key, s } from './federation-fixtures.js';

const control = (t: FederatedQTable, c: Omit<Control, 'from'>) =>
  envelope(ENVELOPE.control, encodeControl({ ...c, from: t.id }, identityOf(t)));

async function settled(n = 4) {
  const c = await category(['a', 'b', 'c', 'd'].slice(0, n));
  await c.round(40);
  const leader = c.tables.find((t) => t.consensus_state.kind === 'Leader')!;
  expect(leader).toBeDefined();
  return { ...c, leader };
}

describe('FederatedQTable election review', () => {
  it('a refused vote carrying a higher term does not depose a live aggregator or its followers', async () => {
    const { tables, network, leader, round } = await settled();
    const rogue = tables.find((t) => t !== leader)!;
    const term = leader.term;
    // Leader stickiness covers vote requests; a 'vote' (value 0) with a far higher term must not bypass it.
    for (const t of tables) {
      if (t === rogue) continue;
      network.send(rogue.id, t.id, control(rogue, { type: 'vote', to: t.id, term: term + 50, value: 0 }));
    }
    await round(
      1,
      tables.filter((t) => t !== rogue),
    );
    expect(leader.consensus_state).toEqual({ kind: 'Leader', term });
    for (const t of tables) if (t !== rogue) expect(t.term, t.id).toBe(term);
    await round(6);
    expect(leader.consensus_state).toEqual({ kind: 'Leader', term });
    for (const t of tables) if (t !== leader) expect(t.leader, t.id).toBe(leader.id);
  });

  it('a control message with a huge term neither breaks a member nor strands its elections', async () => {
    const { tables, network, round } = await category(['a', 'b', 'c']);
    const [a, b, rogue] = tables;
    // A vote request whose term needs all 8 varint bytes (2^56 - 1, not a safe integer) or is 2^53 - 1
    // (term + 1 is no longer a safe integer): signed by a member, so only the range can refuse it.
    const raw = (term: number[]) => {
      const w = new ByteWriter(96);
      w.u16(0x4351).u8(2).u8(1).str(rogue.id).str(b.id);
      w.raw(Uint8Array.from(term)).varint(0);
      const unsigned = w.finish();
      const out = new Uint8Array(1 + unsigned.length + 64);
      out[0] = 2;
      out.set(unsigned, 1);
      out.set(signBytes(identityOf(rogue), unsigned), 1 + unsigned.length);
      return out;
    };
    network.send(rogue.id, a.id, raw([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    network.send(rogue.id, b.id, raw([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    // The two honest members go on learning and must elect one of them (2 of 3) without sync throwing.
    await round(40, [a, b]);
    for (const t of [a, b]) {
      expect(Number.isSafeInteger(t.term), t.id).toBe(true);
      expect(t.term, t.id).toBeLessThan(1000);
    }
    const leader = [a, b].find((t) => t.consensus_state.kind === 'Leader');
    expect(leader).toBeDefined();
    expect([a, b].find((t) => t !== leader)!.leader).toBe(leader!.id);
  });

  it('votes and certificates from members of another category (same keyring) elect no one here', async () => {
    // Category {a, b, c}; x and y are another category's members whose keys are in the shared keyring.
    const { clock, network, keyring, tables } = await category(['a', 'b', 'c']);
    const b = tables[1];
    const opts = { network, keyring, clock, seed: 42, sync_interval_ms: 1000, min_peers_for_consensus: 2 };
    // x is Byzantine: it counts b as a peer, so y's vote (2 of 3 in b's category size) "elects" it for b.
    const x = await createFederatedQTable({ ...opts, id: 'x', peers: ['y', 'b'] });
    const y = await createFederatedQTable({ ...opts, id: 'y', peers: ['x'] });
    const poison = s(77);
    for (let step = 0; step < 40; step++) {
      clock.advance(500);
      x.learner.learn(poison, 2, -1.5, null);
      y.learner.learn(s(step % 5), step % 3, 0.5, null);
      for (const t of [x, y, b]) await federatedSync(t);
    }
    expect(x.consensus_state.kind).toBe('Leader');
    expect(b.leader).not.toBe('x');
    expect(b.local_qtable.find(0, key(77), 2)).toBe(-1);
  });

  it('a pre-vote counts only for the candidate it names and the campaign (term) it was asked in', async () => {
    {
      // A cut-off member a asks for pre-votes; b relays c's pre-vote that names b, not a.
      const { network, tables } = await category(['a', 'b', 'c']);
      const [a, b, c] = tables;
      a.election.tick(1e9);
      network.send(b.id, a.id, control(c, { type: 'pre-vote', to: b.id, term: a.term + 1, value: 1 }));
      await federatedSync(a);
      expect(a.term).toBe(0);
      expect(a.consensus_state.kind).toBe('Follower');
    }
    {
      // a gets b's pre-vote for term 1, then moves to term 1 by voting for c; a pre-vote for term 2 must not
      // be counted together with b's pre-vote from the abandoned campaign.
      const { network, tables } = await category(['a', 'b', 'c', 'd']);
      const [a, b, c] = tables;
      a.election.tick(1e9);
      network.send(b.id, a.id, control(b, { type: 'pre-vote', to: a.id, term: 1, value: 1 }));
      network.send(c.id, a.id, control(c, { type: 'vote-request', to: a.id, term: 1, value: 0 }));
      network.send(c.id, a.id, control(c, { type: 'pre-vote', to: a.id, term: 2, value: 1 }));
      await federatedSync(a);
      expect(a.votedFor).toBe('c');
      expect(a.term).toBe(1);
      expect(a.consensus_state.kind).toBe('Follower');
    }
  });

  it("a pre-vote refusal carries the refuser's own term: one from below the asked term moves no candidate up", async () => {
    const { tables, network, keyring } = await category(['a', 'b', 'c']);
    const [a, b] = tables;
    // b is fresher than a and at term 0: it refuses a's pre-vote for term 1 (a has applied less).
    b.election.assume({ lastAggregate: { term: 1, round: 5 } });
    network.send(a.id, b.id, control(a, { type: 'pre-vote-request', to: b.id, term: a.term + 1, value: 0 }));
    await federatedSync(b);
    const replies = network
      .drain(a.id)
      .filter((m) => m[0] === ENVELOPE.control)
      .map((m) => decodeControl(m.subarray(1), keyring))
      .filter((c) => c.type === 'pre-vote' && c.from === b.id);
    expect(replies.map((c) => [c.value, c.term])).toEqual([[0, b.term]]);
    // Carrying the asked term instead, every refused candidate took term + 1 and asked again above it: terms
    // ratcheted one per pre-vote round and the one member fresh enough to win never caught up (Byzantine scan,
    // 5 members, seed 11: no aggregator for 78 s after the heal).
    expect(b.term).toBe(0);
  });

  it('a member moved to a higher term by a failed candidacy rejoins the live aggregator (not stranded)', async () => {
    const { tables, network, leader, round } = await settled();
    const [loner, rogue] = tables.filter((t) => t !== leader);
    const term = leader.term;
    // The loner is cut off long enough that its aggregator expires, then returns; before the next aggregate
    // reaches it, a member asks it for a vote at term + 1 and goes no further (a Byzantine member, or a
    // candidate whose election failed). The others still follow the live aggregator.
    network.isolated.add(loner.id);
    await round(
      10,
      tables.filter((t) => t !== loner),
    );
    network.isolated.delete(loner.id);
    network.send(
      rogue.id,
      loner.id,
      control(rogue, { type: 'vote-request', to: loner.id, term: term + 1, value: 0 }),
    );
    await round(1, [loner]);
    expect(loner.term).toBe(term + 1);
    await round(20);
    expect(leader.consensus_state).toEqual({ kind: 'Leader', term });
    // Before: the loner refused every aggregate of term `term` (E_FENCED) and every member refused its
    // pre-votes (they follow a live aggregator): cut off from the consensus for as long as the aggregator lives.
    expect(loner.leader).toBe(leader.id);
    expect(loner.lastAggregate.term).toBe(term);
    expect(loner.lastAggregate.round).toBe(leader.lastAggregate.round);
  });

  it('a new aggregator announces its certificate on winning: its voters fence the old one before its first round', async () => {
    const { clock, tables, network, leader } = await settled();
    const followers = tables.filter((t) => t !== leader);
    network.isolated.add(leader.id);
    let winner: FederatedQTable | undefined;
    // The winner must not aggregate yet (its first round waits for contributions).
    for (const f of followers) (f.config as { min_peers_for_consensus: number }).min_peers_for_consensus = 99;
    for (let step = 0; step < 40 && !winner; step++) {
      clock.advance(500);
      for (const f of followers) {
        await federatedSync(f);
        winner = followers.find((t) => t.consensus_state.kind === 'Leader');
        if (winner) break;
      }
    }
    expect(winner).toBeDefined();
    expect(winner!.lastAggregate.round).toBe(0);
    network.isolated.delete(leader.id);
    (leader.config as { min_peers_for_consensus: number }).min_peers_for_consensus = 1;
    leader.learner.learn(s(99), 1, 1, null);
    expect((await federatedSync(leader)).updates_sent).toBeGreaterThan(0);
    for (const f of followers) {
      if (f === winner || f.votedFor !== winner!.id) continue;
      const fenced = f.refusals.get('E_FENCED') ?? 0;
      await federatedSync(f);
      expect(f.refusals.get('E_FENCED') ?? 0, f.id).toBe(fenced + 1);
      expect(f.local_qtable.find(0, key(99), 1), f.id).toBe(-1);
    }
  });

  it('a deposed aggregator that returns steps down, so the new one reaches min_peers_for_consensus', async () => {
    // Three members, every one needed for a round (min_peers_for_consensus 3, the library's default).
    const { network, tables, round } = await category(['a', 'b', 'c'], {
      config: { min_peers_for_consensus: 3 },
    });
    await round(40);
    const old = tables.find((t) => t.consensus_state.kind === 'Leader')!;
    expect(old).toBeDefined();
    // The aggregator is cut off; the other two elect one of them (2 of 3), which cannot aggregate alone.
    network.isolated.add(old.id);
    await round(
      20,
      tables.filter((t) => t !== old),
    );
    const next = tables.find((t) => t !== old && t.consensus_state.kind === 'Leader')!;
    expect(next).toBeDefined();
    expect(next.term).toBeGreaterThan(old.term);
    network.isolated.delete(old.id);
    await round(20);
    // Before: both stayed Leader for ever; the old one never heard of the new term (no aggregate carried the
    // certificate), the new one never had 3 contributors, and the third member's pre-votes met two leaders.
    expect(tables.filter((t) => t.consensus_state.kind === 'Leader').length).toBe(1);
    const leader = tables.find((t) => t.consensus_state.kind === 'Leader')!;
    for (const t of tables) {
      if (t === leader) continue;
      expect(t.leader, t.id).toBe(leader.id);
      expect(t.lastAggregate.term, t.id).toBe(leader.term);
      expect(t.lastAggregate.round, t.id).toBeGreaterThan(0);
    }
  });

  it("a candidate's own vote request replayed to it does not put a self vote into its certificate", async () => {
    const { network, keyring, tables } = await category(['a', 'b', 'c', 'd']);
    const [a, b, c] = tables;
    a.election.campaign();
    expect(a.term).toBe(1);
    // b replays a's own signed vote request back to a; a used to grant itself a signed vote.
    network.send(b.id, a.id, control(a, { type: 'vote-request', to: b.id, term: 1, value: 0 }));
    await federatedSync(a);
    network.send(b.id, a.id, control(b, { type: 'vote', to: a.id, term: 1, value: 1 }));
    network.send(c.id, a.id, control(c, { type: 'vote', to: a.id, term: 1, value: 1 }));
    await federatedSync(a);
    expect(a.consensus_state).toEqual({ kind: 'Leader', term: 1 });
    const cert = a.election.certificate!;
    // Before: the certificate held a's vote for itself and every member refused it ("counted twice").
    expect(verifyCertificate(cert, keyring, new Set(['a', 'b', 'c', 'd']))).toEqual({ leader: 'a', term: 1 });
  });

  it('sync survives any mix of hostile bytes, signed controls and certificates from members (typed refusals only)', async () => {
    const { network, tables, round } = await category(['a', 'b', 'c', 'd']);
    await round(10);
    const [victim, ...others] = tables;
    const types = ['vote-request', 'vote', 'ack', 'pre-vote-request', 'pre-vote'] as const;
    const signed = fc.record({
      who: fc.nat(others.length - 1),
      type: fc.constantFrom(...types),
      to: fc.oneof(fc.constantFrom('a', 'b', 'c', 'd', 'x', ''), fc.string({ maxLength: 20 })),
      term: fc.oneof(fc.nat(8), fc.nat(0xffff_ffff)),
      value: fc.oneof(fc.nat(2), fc.nat()),
    });
    const message = fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 200 }))
        .map(([k, b]) => Uint8Array.of(k, ...b)),
      signed.map((c) => control(others[c.who], c)),
      fc.array(signed, { minLength: 1, maxLength: 4 }).map((cs) => {
        const cert = encodeCertificate(
          cs.map((c) => encodeControl({ ...c, from: others[c.who].id }, identityOf(others[c.who]))),
        );
        return Uint8Array.of(3, ...cert);
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 12 }), async (msgs) => {
        for (const m of msgs) network.inject(victim.id, m);
        await federatedSync(victim);
        expect(Number.isSafeInteger(victim.term)).toBe(true);
        expect(victim.term).toBeLessThanOrEqual(0xffff_ffff);
      }),
      { numRuns: 150 },
    );
  });

  it('a member that missed rounds (stale table) is not elected: its first aggregate would roll the consensus back', async () => {
    const { clock, tables, network, leader, round } = await settled();
    const [stale, ...rest] = tables.filter((t) => t !== leader);
    const term = leader.term;
    const before = stale.learner.q(s(3), 1);
    expect(before).toBeGreaterThan(0.05);
    network.isolated.add(stale.id);
    // While the stale member is away the others learn that an entry it knows is bad.
    for (let step = 0; step < 20; step++) {
      clock.advance(500);
      for (const t of [leader, ...rest]) {
        for (let k = 0; k < 5; k++) t.learner.learn(s(3), 1, -1.5, null);
        await federatedSync(t);
      }
    }
    const learned = rest[0].learner.q(s(3), 1);
    expect(learned).toBeLessThan(-0.5);
    // The aggregator fails; the stale member returns and is the first to ask for votes.
    network.isolated.add(leader.id);
    network.isolated.delete(stale.id);
    clock.advance(3500);
    stale.election.campaign();
    expect(stale.term).toBe(term + 1);
    for (const t of rest) await federatedSync(t);
    await federatedSync(stale);
    // Before: elected (no up-to-date check on votes), and its first aggregate, its whole table, was adopted
    // outright: the members' value went back to the stale one.
    expect(stale.consensus_state.kind).not.toBe('Leader');
    await round(4, [stale, ...rest]);
    for (const t of rest) expect(t.learner.q(s(3), 1), t.id).toBeLessThan(-0.5);
  });

  it('after a partition, an entry only the cut-off member learned reaches the aggregator (not refused for ever)', async () => {
    const { clock, tables, network, leader } = await settled();
    const m = tables.find((t) => t !== leader)!;
    const others = tables.filter((t) => t !== m);
    const step = async (learnMore: boolean) => {
      clock.advance(500);
      for (const t of tables) {
        t.learner.learn(s(1), 1, 0.5, null);
        if (t === m && learnMore) t.learner.learn(s(40), 0, -1.5, null);
        await federatedSync(t);
      }
    };
    network.isolated.add(m.id);
    for (let i = 0; i < 10; i++) for (let k = 0; k < 3; k++) m.learner.learn(s(40), 0, -1.5, null);
    for (let i = 0; i < 10; i++) await step(false);
    expect(m.learner.q(s(40), 0)).toBeLessThan(-1);
    network.isolated.delete(m.id);
    for (let i = 0; i < 30; i++) await step(true);
    // Before: every delta of m carried the entry, unreachable from the consensus (0) in its fresh visits,
    // so each was refused whole (E_UNREACHABLE) and no aggregate ever brought the consensus value back to m.
    const refused = leader.refusals.get('E_UNREACHABLE') ?? 0;
    for (let i = 0; i < 10; i++) await step(true);
    expect(leader.refusals.get('E_UNREACHABLE') ?? 0).toBe(refused);
    for (const t of others) expect(t.learner.q(s(40), 0), t.id).toBeLessThan(-0.5);
  });

  describe('heartbeats, CheckQuorum, acks and the backlog (review)', () => {
    const idle = async (c: { clock: ManualClock }, ms: number, who: FederatedQTable[]) => {
      for (let t = 0; t < ms; t += 500) {
        c.clock.advance(500);
        for (const m of who) await federatedSync(m);
      }
    };
    /** Cuts others[0..1] off; for 10 s others[2] (Byzantine) replays `captured` to the aggregator. */
    const replayWhileCutOff = async (
      c: Awaited<ReturnType<typeof category>>,
      leader: FederatedQTable,
      others: FederatedQTable[],
      captured: Uint8Array[],
    ) => {
      c.network.isolated.add(others[0].id);
      c.network.isolated.add(others[1].id);
      for (let i = 0; i < 20; i++) {
        for (const m of captured) c.network.send(others[2].id, leader.id, m);
        await idle(c, 500, [leader, others[2]]);
      }
    };

    it("an ack addressed to another member does not stop this member's deltas to its sender", async () => {
      const { tables, leader, network } = await settled();
      const [b, z] = tables.filter((t) => t !== leader);
      // The aggregator acks b's delta with b's claimed round (any value b signs); b relays that ack to z.
      network.send(b.id, z.id, control(leader, { type: 'ack', to: b.id, term: leader.term, value: 1e12 }));
      await federatedSync(z);
      z.learner.learn(s(77), 1, 0.9, null);
      const r = await federatedSync(z);
      // Before: z took it as the aggregator's ack of z's table at version 1e12 and sent it nothing more.
      expect(r.updates_sent).toBeGreaterThan(0);
    });

    it("one member's flood of deltas does not evict the other members' deltas from the backlog", async () => {
      const { tables, leader, network } = await settled();
      const [byz, c, d] = tables.filter((t) => t !== leader);
      (leader.config as { min_peers_for_consensus: number }).min_peers_for_consensus = 4;
      network.drain(leader.id);
      byz.learner.learn(s(60), 0, 0.5, null);
      await federatedSync(byz);
      const flood = network.drain(leader.id).filter((m) => m[0] === 1);
      expect(flood.length).toBe(1);
      for (const t of [c, d]) {
        t.learner.learn(s(61), 1, 0.5, null);
        await federatedSync(t);
      }
      for (let i = 0; i < 8 * leader.members; i++) network.send(byz.id, leader.id, flood[0]);
      const round = leader.lastAggregate.round;
      await federatedSync(leader);
      // Before: the 4n-delta backlog was shared, so byz's copies pushed c's and d's out and the round
      // (needing all four members) never came.
      expect(leader.lastAggregate.round).toBe(round + 1);
    });

    it('a category elected while idle keeps its aggregator (no election every few intervals)', async () => {
      const c = await category(['a', 'b', 'c', 'd', 'e']);
      await idle(c, 10_000, c.tables); // nobody has learned anything: an election, and no round to follow
      const leader = c.tables.find((t) => t.consensus_state.kind === 'Leader')!;
      expect(leader).toBeDefined();
      const term = leader.term;
      await idle(c, 30_000, c.tables);
      // Before: heartbeats refreshed only a leader known from an aggregate, so nobody followed this one and
      // the four others elected again every few intervals (term 33 after 60 s).
      expect(leader.consensus_state).toEqual({ kind: 'Leader', term });
      for (const t of c.tables) expect(t.term, t.id).toBe(term);
      // Once they learn, their deltas go to it (not gossiped at random) and it has a round.
      for (const t of c.tables) t.learner.learn(s(90), 2, 0.5, null);
      for (const t of c.tables) if (t !== leader) await federatedSync(t);
      await federatedSync(leader);
      expect(leader.lastAggregate.round).toBe(1);
    });

    it('a heartbeat addressed to another member is not counted (a relay keeps no aggregator alive)', async () => {
      const c = await category(['a', 'b', 'c', 'd']);
      await c.round(40);
      const leader = c.tables.find((t) => t.consensus_state.kind === 'Leader')!;
      const [relay, m] = c.tables.filter((t) => t !== leader);
      // The aggregator no longer reaches m; the relay forwards what it gets from the aggregator to m.
      const net = c.network;
      const send = net.send.bind(net);
      net.send = (from, to, msg) => {
        if (from === leader.id && to === m.id) return;
        send(from, to, msg);
        if (from === leader.id && to === relay.id) send(relay.id, m.id, msg);
      };
      await idle(c, 10_000, c.tables);
      expect(m.leader).not.toBe(leader.id);
    });

    it('replayed deltas do not keep an aggregator cut off from a quorum in office', async () => {
      const c = await category(['a', 'b', 'c', 'd']);
      await c.round(40);
      const leader = c.tables.find((t) => t.consensus_state.kind === 'Leader')!;
      const others = c.tables.filter((t) => t !== leader);
      await federatedSync(leader);
      c.network.drain(leader.id);
      for (const t of others.slice(0, 2)) {
        t.learner.learn(s(70), 1, 0.5, null);
        await federatedSync(t);
      }
      const deltas = c.network.drain(leader.id).filter((m) => m[0] === 1);
      expect(deltas.length).toBe(2);
      await replayWhileCutOff(c, leader, others, deltas);
      // Before: every copy counted as the cut-off members being heard from.
      expect(leader.consensus_state.kind).toBe('Follower');
    });

    it('replayed heartbeat acks do not keep an aggregator cut off from a quorum in office', async () => {
      const c = await category(['a', 'b', 'c', 'd']);
      await c.round(40);
      const leader = c.tables.find((t) => t.consensus_state.kind === 'Leader')!;
      const others = c.tables.filter((t) => t !== leader);
      await idle(c, 2_000, c.tables);
      await federatedSync(leader);
      for (const t of others) await federatedSync(t);
      const acks = c.network.drain(leader.id).filter((m) => m[0] === 2);
      expect(acks.length).toBeGreaterThan(0);
      // others[2] (Byzantine) replays the acks it saw from the two cut-off members.
      await replayWhileCutOff(c, leader, others, acks);
      expect(leader.consensus_state.kind).toBe('Follower');
    });
  });
  it('a replayed peer delta is refused (E_REPLAY), not acked and merged a second time', async () => {
    const { tables, network, leader } = await settled();
    const m = tables.find((t) => t !== leader)!;
    // Capture m's next delta to the aggregator on its way.
    m.learner.learn(s(40), 1, 1.5, null);
    await federatedSync(m);
    const sent = network.drain(leader.id);
    const delta = sent.find((b) => b[0] === 1)!;
    expect(delta).toBeDefined();
    for (const b of sent) network.send(m.id, leader.id, b);
    await federatedSync(leader);
    const visits = leader.local_qtable.getVisits(0, key(40), 1);
    // The same bytes again, twice, as any member could forward them.
    network.send('z', leader.id, delta);
    network.send('z', leader.id, delta);
    const before = leader.refusals.get('E_REPLAY') ?? 0;
    await federatedSync(leader);
    expect(leader.refusals.get('E_REPLAY')).toBe(before + 2);
    expect(leader.local_qtable.getVisits(0, key(40), 1)).toBe(visits);
  });
  it('a peer delta replayed after 300 newer ones from its origin is still refused (E_REPLAY)', async () => {
    const { tables, network, leader, round } = await settled();
    const m = tables.find((t) => t !== leader)!;
    m.learner.learn(s(41), 1, 1.5, null);
    await federatedSync(m);
    const first = network.drain(leader.id);
    const delta = first.find((b) => b[0] === 1)!;
    expect(delta).toBeDefined();
    for (const b of first) network.send(m.id, leader.id, b);
    await federatedSync(leader);
    // 300 more deltas from m reach the aggregator: more than any window of remembered bytes.
    for (let i = 0; i < 300; i++) {
      m.learner.learn(s(42 + (i % 5)), 1, 1, null);
      await round(1);
    }
    const visits = leader.local_qtable.getVisits(0, key(41), 1);
    network.send('z', leader.id, delta);
    const before = leader.refusals.get('E_REPLAY') ?? 0;
    await federatedSync(leader);
    expect(leader.refusals.get('E_REPLAY')).toBe(before + 1);
    expect(leader.local_qtable.getVisits(0, key(41), 1)).toBe(visits);
  });
  it("a restarted member is heard in a new life; in its old life's number its deltas are refused as replays", async () => {
    const c = await settled();
    const { leader, round, member } = c;
    let tables = c.tables;
    const m = tables.find((t) => t !== leader)!;
    // Well over the replay window of deltas from m's first life.
    await round(150);
    const restart = async (epoch: number, entry: number) => {
      // The aggregator takes in what the last life still had on the way before the new one starts.
      await federatedSync(leader);
      const again = await member(m.id, { epoch });
      tables = tables.map((t) => (t.id === m.id ? again : t));
      const before = leader.refusals.get('E_REPLAY') ?? 0;
      for (let i = 0; i < 10; i++) {
        again.learner.learn(s(entry), 2, 1.5, null);
        await round(1, tables);
      }
      return {
        replays: (leader.refusals.get('E_REPLAY') ?? 0) - before,
        visits: leader.local_qtable.getVisits(0, key(entry), 2),
      };
    };
    // Restarted without a new life number: its seqs start again at 1, below what the aggregator took.
    const same = await restart(0, 60);
    expect(same.replays).toBeGreaterThan(0);
    expect(same.visits).toBe(0);
    // With one: heard, and nothing of it refused.
    const next = await restart(1, 61);
    expect(next.replays).toBe(0);
    expect(next.visits).toBeGreaterThan(0);
  });
  it('a vote request far above every known term is refused (E_TERM_JUMP), so one message cannot exhaust terms', async () => {
    const { tables, network } = await category(['a', 'b', 'c']);
    const [a, b] = tables;
    // No aggregator yet: before, a's term became MAX_TERM and it never campaigned again.
    network.send(b.id, a.id, control(b, { type: 'vote-request', to: a.id, term: MAX_TERM, value: 0 }));
    network.send(b.id, a.id, control(b, { type: 'vote-request', to: a.id, term: a.term + 5000, value: 0 }));
    await federatedSync(a);
    expect(a.term).toBeLessThan(1024);
    expect(a.refusals.get('E_TERM_JUMP')).toBe(2);
    // A nearby term is still taken (honest catch-up after missed elections).
    network.send(b.id, a.id, control(b, { type: 'vote-request', to: a.id, term: a.term + 3, value: 0 }));
    const t = a.term;
    await federatedSync(a);
    expect(a.term).toBe(t + 3);
  });
  it('a delta addressed to the aggregator and forwarded to another member is refused there (E_NOT_ADDRESSED)', async () => {
    const { tables, network, leader } = await settled();
    const [m, other] = tables.filter((t) => t !== leader);
    m.learner.learn(s(41), 1, 1.5, null);
    await federatedSync(m);
    const delta = network.drain(leader.id).find((b) => b[0] === 1)!;
    expect(delta).toBeDefined();
    // Even a member without an aggregator (which would merge peer deltas) refuses it.
    other.election.forgetLeader();
    network.send(m.id, other.id, delta);
    const before = other.refusals.get('E_NOT_ADDRESSED') ?? 0;
    await federatedSync(other);
    expect(other.refusals.get('E_NOT_ADDRESSED')).toBe(before + 1);
    expect(other.local_qtable.find(0, key(41), 1)).toBe(-1);
  });
});
