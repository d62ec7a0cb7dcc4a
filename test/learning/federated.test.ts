import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/index.js';
import {
  createFederatedQTable,
  type FederatedQTable,
  type FederationConfig,
  federatedSync,
  InMemoryNetwork,
  MapKeyring,
  type VoteState,
} from '../../src/learning/index.js';
import { category, key, s, settle, withAggregator } from './federation-fixtures.js';

const trio = (clock: ManualClock, network = new InMemoryNetwork()) =>
  category(['a', 'b', 'c'], { clock, network });

describe('FederatedQTable', () => {
  it('is due for a sync after 10 interactions or the interval', async () => {
    const clock = new ManualClock(0);
    const { tables } = await trio(clock);
    const a = tables[0];
    expect(a.syncDue()).toBe(false);
    for (let i = 0; i < 10; i++) a.learner.learn(s(i), 0, 1, null);
    expect(a.syncDue()).toBe(true);
    await federatedSync(a);
    expect(a.syncDue()).toBe(false);
    clock.advance(1300);
    expect(a.syncDue()).toBe(true);
  });

  it('elects one aggregator per term, aggregates rounds, and fences a deposed aggregator', async () => {
    const clock = new ManualClock(0);
    const { tables, network } = await trio(clock);
    await settle(tables, clock);
    const leaders = tables.filter((t) => t.consensus_state.kind === 'Leader');
    expect(leaders.length).toBe(1);
    const leader = leaders[0];
    const followers = tables.filter((t) => t !== leader);
    for (const f of followers) {
      expect(f.leader).toBe(leader.id);
      expect(f.lastAggregate.term).toBe(leader.term);
      expect(f.lastAggregate.round).toBeGreaterThan(0);
    }
    // Depose the leader: isolate it, let the others elect a new one at a higher term.
    // (The others keep learning: a new aggregator makes itself known with its first aggregate, which needs
    // contributions.)
    network.isolated.add(leader.id);
    for (let step = 0; step < 40; step++) {
      clock.advance(500);
      for (const f of followers) {
        f.learner.learn(s(step % 7), (step + 1) % 5, 0.25, null);
        await federatedSync(f);
      }
    }
    const newLeader = followers.find((t) => t.consensus_state.kind === 'Leader');
    expect(newLeader).toBeDefined();
    expect(newLeader!.term).toBeGreaterThan(leader.term);
    // The old leader returns and broadcasts an aggregate of its old term: it must be refused.
    network.isolated.delete(leader.id);
    const victim = followers.find((t) => t !== newLeader)!;
    const fencedBefore = victim.refusals.get('E_FENCED') ?? 0;
    expect(leader.consensus_state).toEqual({ kind: 'Leader', term: leader.term });
    expect(leader.term).toBeLessThan(newLeader!.term);
    // The stale aggregator learns something and, believing it still leads, broadcasts a round on its own.
    (leader.config as { min_peers_for_consensus: number }).min_peers_for_consensus = 1;
    leader.learner.learn(s(99), 1, 1, null);
    const r = await federatedSync(leader);
    expect(r.updates_sent).toBeGreaterThan(0);
    const key = Number(s(99) & 0xffffffffn);
    await federatedSync(victim);
    expect(victim.refusals.get('E_FENCED') ?? 0).toBe(fencedBefore + 1);
    expect(victim.local_qtable.find(0, key, 1)).toBe(-1);
    expect(victim.leader).toBe(newLeader!.id);
  });

  it('peer-to-peer, knowledge spreads more than one hop (adopted entries are relayed with their weight)', async () => {
    // A line a – b – c – d without an aggregator (the clock stays before any election timeout).
    const clock = new ManualClock(0);
    const network = new InMemoryNetwork();
    const keyring = new MapKeyring();
    const ids = ['a', 'b', 'c', 'd'];
    const line: FederatedQTable[] = [];
    for (let i = 0; i < ids.length; i++) {
      line.push(
        await createFederatedQTable({
          id: ids[i],
          peers: ids.filter((_, j) => Math.abs(i - j) === 1),
          network,
          keyring,
          clock,
          seed: 42,
          sync_interval_ms: 1000,
          // Room for all ten of a's visits per entry, so the relayed weight is visible end to end.
          weight_cap: 10,
        }),
      );
    }
    const [a, b, c, d] = line;
    const key = s(1);
    for (let i = 0; i < 10; i++) a.learner.learn(key, 3, 1, null);
    // d has its own, older estimate of the entry (one visit, reward 0).
    d.learner.learn(key, 3, 0, null);
    await federatedSync(d);
    const learned = a.learner.q(key, 3);
    expect(learned).toBeGreaterThan(0.6);
    for (const t of line) await federatedSync(t);
    for (const t of [b, c]) expect(t.learner.q(key, 3), t.id).toBeCloseTo(learned, 5);
    // d merges c's relay of a's ten visits against its own single visit: a's value must weigh in.
    expect(d.learner.q(key, 3)).toBeGreaterThan(0.25);
    // a is not echoed its own samples back: its value is unchanged.
    await federatedSync(a);
    expect(a.learner.q(key, 3)).toBeCloseTo(learned, 6);
  });

  it('relayed weight stays within the plausible interactions of a delta (receivers do not refuse it)', async () => {
    const clock = new ManualClock(0);
    const network = new InMemoryNetwork();
    const keyring = new MapKeyring();
    const ids = ['a', 'b', 'c'];
    const line: FederatedQTable[] = [];
    for (let i = 0; i < ids.length; i++) {
      line.push(
        await createFederatedQTable({
          id: ids[i],
          peers: ids.filter((_, j) => Math.abs(i - j) === 1),
          network,
          keyring,
          clock,
          seed: 9,
          sync_interval_ms: 1000,
          max_interactions_per_delta: 15,
        }),
      );
    }
    const [a, b, c] = line;
    // a: 15 interactions on three entries; b: 10 of its own on a fourth, so own + relayed (15) would exceed 15.
    for (let i = 0; i < 15; i++) a.learner.learn(s(10 + (i % 3)), 0, 1, null);
    for (let i = 0; i < 10; i++) b.learner.learn(s(20), 0, 1, null);
    for (const t of line) await federatedSync(t);
    expect(c.refusals.get('E_IMPLAUSIBLE') ?? 0).toBe(0);
    for (let k = 0; k < 3; k++) expect(c.learner.q(s(10 + k), 0)).toBeGreaterThan(0.3);
    expect(c.learner.q(s(20), 0)).toBeGreaterThan(0.5);
  });

  it('refuses hostile bytes without changing state', async () => {
    const clock = new ManualClock(0);
    const { tables, network } = await trio(clock);
    const b = tables[1];
    const before = b.local_qtable.size;
    network.inject('b', new Uint8Array([1, 2, 3]));
    network.inject('b', new Uint8Array([2, 0x51, 0x43, 1, 1]));
    network.inject('b', new Uint8Array(0));
    const r = await federatedSync(b);
    expect(r.refused).toBe(3);
    expect(b.local_qtable.size).toBe(before);
    expect([...b.refusals.keys()].every((k) => k === 'E_DECODE')).toBe(true);
  });
  describe('as aggregator (the pipeline elex simulate federation evaluates)', () => {
    async function elected() {
      const clock = new ManualClock(0);
      const { tables, network } = await trio(clock);
      await settle(tables, clock);
      const leader = tables.find((t) => t.consensus_state.kind === 'Leader')!;
      const members = tables.filter((t) => t !== leader);
      for (const m of members) expect(m.leader).toBe(leader.id);
      return { clock, network, leader, members };
    }
    const key = (i: number) => Number(s(i) & 0xffffffffn);
    /** m syncs, then the aggregator's round: how many of m's deltas it refused as unreachable. */
    async function refusedInNextRound(m: FederatedQTable, leader: FederatedQTable, clock: ManualClock) {
      clock.advance(500);
      await federatedSync(m);
      const before = leader.refusals.get('E_UNREACHABLE') ?? 0;
      await federatedSync(leader);
      return (leader.refusals.get('E_UNREACHABLE') ?? 0) - before;
    }

    it('refuses a member delta holding a value no TD learning could reach from the consensus', async () => {
      const { clock, leader, members } = await elected();
      const [m] = members;
      // One visit learned, then a value written straight into the table (no learning behind it): it rides the
      // member's next delta with that fresh visit.
      m.learner.learn(s(50), 2, 0.5, null);
      const e = m.local_qtable.find(0, key(50), 2);
      m.local_qtable.write(e, 1.4, 1);
      m.learner.learn(s(51), 1, 0.5, null);
      expect(await refusedInNextRound(m, leader, clock)).toBe(1);
      // The whole delta is refused: neither the poison nor the honest entry beside it.
      expect(leader.local_qtable.find(0, key(50), 2)).toBe(-1);
      expect(leader.local_qtable.find(0, key(51), 1)).toBe(-1);
    });

    it('admits a report learned from an aggregate before the latest (one the member missed or had not received)', async () => {
      const { clock, network, leader, members } = await elected();
      const [m, m2] = members;
      // m misses the next aggregate, which moves entry 70 a long way (m2's five visits on reward 1.5).
      network.isolated.add(m.id);
      for (let i = 0; i < 5; i++) m2.learner.learn(s(70), 0, 1.5, null);
      clock.advance(500);
      await federatedSync(m2);
      await federatedSync(leader);
      network.isolated.delete(m.id);
      const g1 = leader.local_qtable.getQ(0, key(70), 0);
      expect(g1).toBeGreaterThan(0.5);
      // m learned entry 70 once on reward −1.5 from the value it still holds (0): −0.15, one step from the
      // aggregate before the latest but not within two steps of the latest (the check before the window).
      m.learner.learn(s(70), 0, -1.5, null);
      expect(await refusedInNextRound(m, leader, clock)).toBe(0);
      expect(leader.local_qtable.getQ(0, key(70), 0)).toBeCloseTo(-0.15, 5);
    });

    it('refuses a value the entry was published with before the window, replayed as one fresh visit', async () => {
      const { clock, leader, members } = await elected();
      const [m, m2] = members;
      // Three aggregates in a row move entry 71 (m2 learns it on reward 1.5); m follows them.
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 5; i++) m2.learner.learn(s(71), 0, 1.5, null);
        clock.advance(500);
        await federatedSync(m2);
        await federatedSync(leader);
        await federatedSync(m);
      }
      expect(m.local_qtable.getQ(0, key(71), 0)).toBeGreaterThan(0.8);
      // m reports the entry's value from before those aggregates (0) behind one visit of its own.
      m.learner.learn(s(71), 0, 1.5, null);
      m.local_qtable.write(m.local_qtable.find(0, key(71), 0), 0, 1);
      expect(await refusedInNextRound(m, leader, clock)).toBe(1);
      expect(leader.local_qtable.getQ(0, key(71), 0)).toBeGreaterThan(0.8);
    });

    it('a report with no fresh visits weighs nothing and is not checked (a repeat of an unacknowledged report)', async () => {
      const { clock, leader, members } = await elected();
      const [m] = members;
      // A value written straight into the table with no visit behind it rides m's next delta with 0 fresh.
      const e = m.local_qtable.slot(0, key(72), 1);
      m.local_qtable.write(e, 1.4, 1);
      m.learner.learn(s(73), 1, 0.5, null);
      expect(await refusedInNextRound(m, leader, clock)).toBe(0);
      expect(leader.local_qtable.getQ(0, key(72), 1)).toBe(0);
      expect(leader.local_qtable.getQ(0, key(73), 1)).toBeCloseTo(0.05, 6);
    });

    it('restates an entry whose reports it kept nothing of, so the member whose report was dropped re-anchors', async () => {
      const { clock, leader, members } = await elected();
      const [m] = members;
      // The aggregator's trust has weighed m out (five rounds in which m pulled far from three peers).
      for (let round = 0; round < 5; round++) {
        const R = 5;
        const q = new Float64Array(4 * R);
        const w = new Float64Array(4 * R).fill(1);
        for (let e = 0; e < 4; e++) {
          for (let r = 1; r < 4; r++) q[e * R + r] = 0.01 * (r + e);
          q[e * R + 4] = -1;
        }
        leader.trust.observe({ entries: 4, reporters: R, q, w, self: 0 }, w, ['', 'p1', 'p2', 'p3', m.id]);
      }
      expect(leader.trust.trustOf(m.id)).toBe(0);
      // m learns an entry nobody else has; its report is weighed out, so the round keeps nothing of it.
      m.learner.learn(s(60), 4, 1.5, null);
      const learned = m.local_qtable.getQ(0, key(60), 4);
      expect(learned).toBeGreaterThan(0);
      clock.advance(500);
      await federatedSync(m);
      await federatedSync(leader);
      expect(leader.local_qtable.getQ(0, key(60), 4)).toBe(0);
      // The aggregate restated the entry at the consensus (0); m adopted it instead of drifting on its own.
      await federatedSync(m);
      expect(m.local_qtable.getQ(0, key(60), 4)).toBe(0);
    });

    it('weighs its own table by its own fresh visits only: a member that learned decides an entry it did not', async () => {
      const { clock, leader, members } = await elected();
      const [m] = members;
      const ix = leader.local_qtable.find(0, key(3), 3);
      expect(ix).toBeGreaterThanOrEqual(0);
      const consensus = leader.local_qtable.q[ix];
      m.learner.learn(s(3), 3, 1.5, null);
      const learned = m.local_qtable.getQ(0, key(3), 3);
      expect(learned).toBeGreaterThan(consensus);
      clock.advance(500);
      await federatedSync(m);
      await federatedSync(leader);
      // With the old anchor (its table weighed like a full report) the result would lie between the two.
      expect(leader.local_qtable.getQ(0, key(3), 3)).toBeCloseTo(learned, 6);
    });
  });
  describe('election (PreVote, leader stickiness)', () => {
    async function settled(n = 4) {
      const { tables, network, round } = await category(['a', 'b', 'c', 'd'].slice(0, n));
      await round(40);
      const leader = tables.find((t) => t.consensus_state.kind === 'Leader')!;
      expect(leader).toBeDefined();
      return { tables, network, leader, round };
    }

    it('a member cut off does not inflate its term, and on its return it follows the same aggregator', async () => {
      const { tables, network, leader, round } = await settled();
      const loner = tables.find((t) => t !== leader)!;
      const term = loner.term;
      network.isolated.add(loner.id);
      await round(60); // 30 s: many election timeouts for the loner
      expect(loner.term).toBe(term);
      network.isolated.delete(loner.id);
      const fenced = loner.refusals.get('E_FENCED') ?? 0;
      await round(10);
      expect(leader.consensus_state.kind).toBe('Leader');
      expect(leader.term).toBe(term);
      expect(loner.leader).toBe(leader.id);
      expect(loner.refusals.get('E_FENCED') ?? 0).toBe(fenced);
    });

    it('a member that declares itself aggregator without an election certificate is not followed', async () => {
      const { tables, leader, round } = await settled();
      const rogue = tables.find((t) => t !== leader)!;
      const term = leader.term;
      // The rogue claims a higher term and leadership, and broadcasts a poisoned "aggregate".
      rogue.election.assume({ term: term + 1, state: { kind: 'Leader', term: term + 1 }, leader: rogue.id });
      (rogue.config as { min_peers_for_consensus: number }).min_peers_for_consensus = 1;
      const poison = s(77);
      rogue.learner.learn(poison, 2, -1.5, null);
      await round(1, [rogue]);
      await round(
        6,
        tables.filter((t) => t !== rogue),
      );
      for (const t of tables) {
        if (t === rogue) continue;
        expect(t.leader, t.id).toBe(leader.id);
        expect(t.term, t.id).toBe(term);
        expect(t.local_qtable.find(0, Number(poison & 0xffffffffn), 2), t.id).toBe(-1);
        expect(t.refusals.get('E_UNCERTIFIED') ?? 0, t.id).toBeGreaterThan(0);
      }
      expect(leader.consensus_state).toEqual({ kind: 'Leader', term });
    });

    it('a higher term written into a peer delta, or asked for in a vote, does not depose a live aggregator', async () => {
      const { tables, leader, round } = await settled();
      const rogue = tables.find((t) => t !== leader)!;
      const term = leader.term;
      // The rogue claims a far higher term in its deltas and asks everyone for votes at it.
      rogue.election.assume({ term: term + 50 });
      rogue.election.campaign();
      await round(10);
      expect(leader.consensus_state).toEqual({ kind: 'Leader', term });
      for (const t of tables) if (t !== rogue) expect(t.leader, t.id).toBe(leader.id);
      for (const t of tables) if (t !== rogue) expect(t.term, t.id).toBe(term);
    });
  });
  it('keeps its vote across a restart through on_vote_state / vote_state (no second vote in a term)', async () => {
    const network = new InMemoryNetwork();
    const keyring = new MapKeyring();
    const clock = new ManualClock(0);
    const ids = ['a', 'b', 'c'];
    const saved: VoteState[] = [];
    const make = (id: string, extra: Partial<FederationConfig> = {}) =>
      createFederatedQTable({
        id,
        peers: ids,
        network,
        keyring,
        clock,
        seed: 5,
        sync_interval_ms: 1000,
        ...extra,
      });
    const a = await make('a', { on_vote_state: (v) => saved.push(v) });
    const b = await make('b');
    const c = await make('c');
    // b campaigns at term 1: a grants it, and says so before its vote leaves.
    b.election.campaign();
    await federatedSync(a);
    expect(a.votedFor).toBe('b');
    expect(saved.at(-1)).toEqual({ term: 1, voted_for: 'b' });
    // a restarts from what it saved; c campaigns for the same term 1 and must not get a's vote.
    const a2 = await make('a', { vote_state: saved.at(-1) });
    network.drain('a');
    c.election.assume({ term: 0 });
    c.election.campaign();
    expect(c.term).toBe(1);
    await federatedSync(a2);
    expect(a2.votedFor).toBe('b');
    // a's vote would have made c the aggregator (2 of 3).
    await federatedSync(c);
    expect(c.consensus_state).toEqual({ kind: 'Candidate', term: 1 });
    await expect(make('x', { vote_state: { term: -1, voted_for: null } })).rejects.toThrow(
      /E_CONFIG|not a term/,
    );
    // A refused configuration leaves the caller's keyring as it was (the check once came after the member's
    // key was added to it).
    expect(keyring.publicKey('x')).toBeUndefined();
    await expect(make('y', { vote_state: { term: 1, voted_for: 7 as unknown as string } })).rejects.toThrow(
      /E_CONFIG|voted_for/,
    );
  });
  it('an aggregator waiting for contributors keeps a bounded backlog and drops it when it steps down', async () => {
    const clock = new ManualClock(0);
    const { tables, network } = await trio(clock);
    await settle(tables, clock);
    const leader = tables.find((t) => t.consensus_state.kind === 'Leader')!;
    const [m, n] = tables.filter((t) => t !== leader);
    // Only m reaches the aggregator from now on, and the round needs all three members.
    (leader.config as { min_peers_for_consensus: number }).min_peers_for_consensus = 3;
    network.isolated.add(n.id);
    for (let step = 0; step < 30; step++) {
      m.learner.learn(s(step % 7), 1, 0.5, null);
      await federatedSync(m);
      await federatedSync(leader);
    }
    expect(leader.pending_updates.length).toBeLessThanOrEqual(4 * leader.members);
    expect(leader.refusals.get('E_BACKLOG') ?? 0).toBeGreaterThan(0);
    leader.election.stepDown(leader.term + 1);
    expect(leader.pending_updates).toEqual([]);
  });
  describe('heartbeats and CheckQuorum', () => {
    async function four() {
      const { clock, network, tables } = await category(['a', 'b', 'c', 'd']);
      await settle(tables, clock);
      const leader = tables.find((t) => t.consensus_state.kind === 'Leader')!;
      expect(leader).toBeDefined();
      const idle = async (ms: number, who = tables) => {
        for (let t = 0; t < ms; t += 500) {
          clock.advance(500);
          for (const m of who) await federatedSync(m);
        }
      };
      return { clock, network, tables, leader, idle };
    }

    it('an idle category keeps its aggregator: heartbeats, not aggregates, keep members following', async () => {
      const { tables, leader, idle } = await four();
      const term = leader.term;
      await idle(30_000); // nobody learns: no rounds for 30 sync intervals
      expect(leader.consensus_state).toEqual({ kind: 'Leader', term });
      for (const t of tables) if (t !== leader) expect(t.leader, t.id).toBe(leader.id);
      for (const t of tables) expect(t.term, t.id).toBe(term);
    });

    it('an aggregator cut off from a quorum steps down (no rounds on a minority side)', async () => {
      const { network, tables, leader, idle } = await four();
      const others = tables.filter((t) => t !== leader);
      network.isolated.add(others[0].id);
      network.isolated.add(others[1].id);
      await idle(5_000, [leader, others[2]]);
      expect(leader.consensus_state.kind).toBe('Follower');
    });

    it('a replayed heartbeat does not keep a gone aggregator alive', async () => {
      const { network, tables, leader, idle } = await four();
      const m = tables.find((t) => t !== leader)!;
      // Capture what the aggregator sends m in one sync (certificate, heartbeat).
      await federatedSync(leader);
      const captured = network.drain(m.id);
      expect(captured.length).toBeGreaterThan(0);
      network.isolated.add(leader.id);
      for (let i = 0; i < 10; i++) {
        for (const b of captured) network.send('x', m.id, b);
        await idle(500, [m]);
      }
      expect(m.leader).toBeNull();
    });
  });
});

describe("FederatedQTable: a member's learning between two of its syncs", () => {
  it('reaches the aggregator although an aggregate arrived in between (it was counted as acknowledged)', async () => {
    const { clock, leader, m, other } = await withAggregator();
    m.learner.learn(s(900), 1, 1, null);
    clock.advance(500);
    other.learner.learn(s(3), 1, 0.5, null);
    await federatedSync(other);
    await federatedSync(leader); // an aggregate to m, before m's sync
    await federatedSync(m);
    clock.advance(500);
    await federatedSync(other);
    await federatedSync(leader);
    expect(leader.local_qtable.getQ(0, key(900), 1)).toBeCloseTo(0.1, 6);
  });

  it('on an entry the aggregate overwrites, is moved onto the aggregate value, not lost', async () => {
    const { clock, leader, m, other } = await withAggregator();
    const before = m.local_qtable.getQ(0, key(901), 0);
    // The other member's report changes entry 901 in the next aggregate; m learned it meanwhile too.
    other.learner.learn(s(901), 0, -1, null);
    clock.advance(500);
    await federatedSync(other);
    m.learner.learn(s(901), 0, 1, null);
    expect(m.local_qtable.getQ(0, key(901), 0)).toBeCloseTo(before + 0.1 * (1 - before), 6);
    await federatedSync(leader);
    const g = leader.local_qtable.getQ(0, key(901), 0);
    expect(g).toBeLessThan(0);
    await federatedSync(m);
    // One step towards the reward 1 from the adopted value: (1 − α)·g + α·1.
    expect(m.local_qtable.getQ(0, key(901), 0)).toBeCloseTo(0.9 * g + 0.1, 5);
    clock.advance(500);
    await federatedSync(leader);
    expect(leader.local_qtable.getQ(0, key(901), 0)).toBeGreaterThan(g);
  });
});
