import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import {
  AggregatorElection,
  type ControlType,
  decodeControl,
  type VoteState,
} from '../../src/learning/index.js';
import { deliver, deliverAll, electionCategory, INTERVAL, syncAll } from './election-harness.js';

type Category = ReturnType<typeof electionCategory>;

/** Syncs and delivers until one member leads and the others follow it (within 200 intervals), or null. */
function electAmong(c: Category, down: ReadonlySet<string>): { leader: string; at: number } | null {
  for (let t = 1; t <= 200; t++) {
    const now = t * INTERVAL;
    syncAll(c, now, down);
    deliverAll(c, now, down);
    const up = c.ids.filter((id) => !down.has(id));
    const leaders = up.filter((id) => c.get(id).isLeader);
    if (
      leaders.length === 1 &&
      up.every((id) => id === leaders[0] || c.get(id).liveLeader(now) === leaders[0])
    )
      return { leader: leaders[0], at: now };
  }
  return null;
}

describe('AggregatorElection review', () => {
  it("a Byzantine member that pushes honest members' terms more than MAX_TERM_STEP apart does not stop elections for good", () => {
    // d is Byzantine and otherwise silent (as a crashed member): a, b and c (3 of 4, the quorum) must elect.
    const c = electionCategory(['a', 'b', 'c', 'd']);
    const down = new Set(['d']);
    // Before any election (no live aggregator, nobody sticky), two vote requests at the edge of the bound
    // move a to 2048, more than 1,024 above b and c.
    for (const term of [1024, 2048]) {
      const m = c.forge('d', 'a', 'vote-request', term, 0);
      const refused: string[] = [];
      deliver(c, m, 0, refused);
      expect(refused).toEqual([]);
    }
    expect(c.get('a').term).toBe(2048);
    expect(c.get('b').term).toBe(0);
    // d says nothing more. Before the fix b and c refused a's messages (E_TERM_JUMP) and a refused theirs
    // (lower terms): no aggregator, ever.
    const elected = electAmong(c, down);
    expect(elected).not.toBeNull();
    // Every honest member follows it (its term reached the others through the pre-vote refusals).
    for (const id of ['a', 'b', 'c'])
      expect(c.get(id).liveLeader(elected!.at) ?? (c.get(id).isLeader ? id : null), id).toBe(elected!.leader);
  });

  it('(control) the same category without the pushes elects within a few intervals', () => {
    const c = electionCategory(['a', 'b', 'c', 'd']);
    const elected = electAmong(c, new Set(['d']));
    expect(elected).not.toBeNull();
    expect(elected!.at).toBeLessThanOrEqual(20 * INTERVAL);
  });
});

describe('AggregatorElection review: what a pre-vote refusal above the bound may do', () => {
  it('moves the asker no further than one message could before (the bound), and nobody else at all', () => {
    const c = electionCategory(['a', 'b', 'c', 'd']);
    const [a, b] = [c.get('a'), c.get('b')];
    a.tick(10 * INTERVAL);
    expect(c.inbox.filter((m) => m.from === 'a').length).toBe(3);
    c.inbox.length = 0;
    const refused: string[] = [];
    // d refuses a's pre-vote at MAX_TERM: noted as a claim of 1,024 (what a refusal at 1,024 did before), not
    // further; a's round goes on (since session 24 a refusal is taken only once the round has failed).
    deliver(c, c.forge('d', 'a', 'pre-vote', 0xffff_ffff, 0), 10 * INTERVAL, refused);
    deliver(c, c.forge('d', 'a', 'pre-vote', 0xffff_ffff, 0), 10 * INTERVAL, refused);
    expect(refused).toEqual([]);
    expect(a.term).toBe(0);
    // The same refusal to b, which asked nothing: refused, b stays.
    deliver(c, c.forge('d', 'b', 'pre-vote', 0xffff_ffff, 0), 10 * INTERVAL, refused);
    expect(refused).toEqual(['E_TERM_JUMP']);
    expect(b.term).toBe(0);
    // The round failed (nobody granted): a's next one starts at the claimed 1,024 and asks for 1,025.
    c.inbox.length = 0;
    a.tick(20 * INTERVAL);
    expect(a.term).toBe(1024);
    expect(c.saved.get('a')?.at(-1)).toEqual({ term: 1024, voted_for: null });
    expect(c.inbox.filter((m) => m.from === 'a').length).toBe(3);
    // Vote requests and votes far above the bound stay refused.
    deliver(c, c.forge('d', 'a', 'vote-request', 0xffff_ffff, 0), 20 * INTERVAL, refused);
    deliver(c, c.forge('d', 'a', 'vote', 0xffff_ffff, 1), 20 * INTERVAL, refused);
    expect(refused.slice(1)).toEqual(['E_TERM_JUMP', 'E_TERM_JUMP']);
    expect(a.term).toBe(1024);
  });
});

describe('AggregatorElection review: a vote whose saving failed', () => {
  it('is not sent later as if it had been saved (a failed on_vote_state leaves the vote state unchanged)', () => {
    const c = electionCategory(['a', 'b', 'c', 'd']);
    const durable: VoteState[] = [];
    let failNext = true;
    const sent: Array<{ to: string; type: ControlType; term: number; value: number }> = [];
    const b = new AggregatorElection({
      id: 'b',
      peers: ['a', 'c', 'd'],
      byzantineThreshold: 0.33,
      syncIntervalMs: INTERVAL,
      keyring: c.keyring,
      rng: new SeededRng(1).fork('b'),
      transport: {
        control: (to, type, value, term) => sent.push({ to, type, term, value }),
        certificate: () => {},
      },
      hooks: { steppedDown: () => {}, becameLeader: () => {} },
      onVoteState: (s) => {
        // A disk that fails once: the write did not happen.
        if (failNext && s.voted_for !== null) {
          failNext = false;
          throw new Error('EIO: write failed');
        }
        durable.push({ ...s });
      },
      now: 0,
    });
    const request = c.forge('a', 'b', 'vote-request', 1, 0);
    expect(() => b.step(decodeControl(request.bytes, c.keyring), request.bytes, 0)).toThrow(/EIO/);
    expect(sent).toEqual([]);
    // The same request again (a duplicate, or a replay): the vote may go out only once it is saved.
    b.step(decodeControl(request.bytes, c.keyring), request.bytes, 0);
    const grants = sent.filter((s) => s.type === 'vote' && s.value === 1);
    for (const g of grants) expect(durable).toContainEqual({ term: g.term, voted_for: g.to });
    // Before the fix the grant left with 1:null durable: b, restarted from it, then also voted for c in term 1.
    expect(grants).toEqual([{ to: 'a', type: 'vote', term: 1, value: 1 }]);
    expect(durable.at(-1)).toEqual({ term: 1, voted_for: 'a' });
    // Restarted from what was saved, b refuses c in term 1 (before the fix it granted c: two votes in term 1).
    const again: Array<{ type: ControlType; value: number }> = [];
    const b2 = new AggregatorElection({
      id: 'b',
      peers: ['a', 'c', 'd'],
      byzantineThreshold: 0.33,
      syncIntervalMs: INTERVAL,
      keyring: c.keyring,
      rng: new SeededRng(1).fork('b/2'),
      transport: { control: (_to, type, value) => again.push({ type, value }), certificate: () => {} },
      hooks: { steppedDown: () => {}, becameLeader: () => {} },
      voteState: durable.at(-1),
      now: 0,
    });
    const fromC = c.forge('c', 'b', 'vote-request', 1, 0);
    b2.step(decodeControl(fromC.bytes, c.keyring), fromC.bytes, 0);
    expect(again).toEqual([{ type: 'vote', value: 0 }]);
  });
});
