import { describe, expect, it } from 'vitest';
import { decodeControl } from '../../src/learning/index.js';
import { electionCategory, INTERVAL, type Msg, syncAll } from './election-harness.js';
import { codeOf } from './error-code.js';

type Category = ReturnType<typeof electionCategory>;

/**
 * One Byzantine member `d` of four (f = 1, quorum 3: a, b and c can elect without it). `d` answers what it is
 * sent, at once (a rushing attacker: its answer reaches the asker before the honest ones), with `answer`; it
 * sends nothing else. Every message is one `d` signs as itself, of a legal type and term.
 */
type Answer = (req: ReturnType<typeof decodeControl>) => Msg | null;

function deliverAll(c: Category, now: number, answer: Answer): void {
  let guard = 0;
  while (c.inbox.length > 0) {
    if (++guard > 100_000) throw new Error('message storm');
    const m = c.inbox.shift()!;
    if (m.to === 'd') {
      if (m.kind !== 'control') continue;
      const reply = answer(decodeControl(m.bytes, c.keyring));
      // Rushing: d's reply is the first thing the asker reads.
      if (reply !== null) c.inbox.unshift(reply);
      continue;
    }
    if (m.from === 'd' && m.kind !== 'control') continue;
    const e = c.get(m.to);
    codeOf(() => {
      if (m.kind === 'certificate') e.onCertificate(m.bytes);
      else e.step(decodeControl(m.bytes, c.keyring), m.bytes, now);
    });
  }
}

/** Runs up to `intervals` sync intervals; the time an honest aggregator led with a, b, c following it, or null. */
function run(c: Category, intervals: number, answer: Answer): number | null {
  for (let t = 1; t <= intervals; t++) {
    const now = t * INTERVAL;
    syncAll(c, now, new Set(['d'])); // d is driven by `answer`
    deliverAll(c, now, answer);
    const honest = ['a', 'b', 'c'];
    const leaders = honest.filter((id) => c.get(id).isLeader);
    if (
      leaders.length === 1 &&
      honest.every((id) => id === leaders[0] || c.get(id).liveLeader(now) === leaders[0])
    )
      return now;
  }
  return null;
}

describe('a Byzantine member stalls every election with legal-looking refusals', () => {
  it('d refuses every pre-vote request at the term asked ("I am already there"): no aggregator in 200 intervals', () => {
    // aggregator-election.ts onPreVote: a refusal at a term above the asker's own makes it step down to that
    // term and ends its pre-vote round (preVotes = null), so the honest grants that follow count for nothing.
    // d claims to be at exactly the asked term, which an honest member at that term would also say.
    // Control: d silent (as if crashed), a, b and c elect within 20 intervals.
    const quiet = electionCategory(['a', 'b', 'c', 'd']);
    const elected = run(quiet, 200, () => null);
    expect(elected).not.toBeNull();
    expect(elected!).toBeLessThanOrEqual(20 * INTERVAL);
    const c = electionCategory(['a', 'b', 'c', 'd']);
    const at = run(c, 200, (r) =>
      r.type === 'pre-vote-request' ? c.forge('d', r.from, 'pre-vote', r.term, 0) : null,
    );
    expect(at, 'an honest quorum a, b, c never elects while d refuses').not.toBeNull();
  });

  it('d refuses every pre-vote request from above MAX_TERM_STEP: honest terms do not climb 1,024 per round without bound', () => {
    const c = electionCategory(['a', 'b', 'c', 'd']);
    const at = run(c, 200, (r) =>
      r.type === 'pre-vote-request' ? c.forge('d', r.from, 'pre-vote', 0xffff_ffff, 0) : null,
    );
    const maxTerm = Math.max(...['a', 'b', 'c'].map((id) => c.get(id).term));
    // Each refused round moved its asker up to the bound (its term + 1,024): terms reach ~10^5 in 200 s
    // and MAX_TERM in ~4 million refusals, with no election held.
    expect(maxTerm, 'terms after 200 intervals').toBeLessThan(2 * 1024);
    expect(at).not.toBeNull();
  });

  it("d answers every candidate's vote request with a refused vote one term up: no aggregator in 200 intervals", () => {
    // d grants pre-votes (any member may), then its refused vote at term + 1 deposes the candidate (onVote:
    // `if (c.term > this._term) this.stepDown(c.term)`, not sticky while no aggregator is live) before the
    // honest votes are counted.
    const c = electionCategory(['a', 'b', 'c', 'd']);
    const at = run(c, 200, (r) => {
      if (r.type === 'pre-vote-request') return c.forge('d', r.from, 'pre-vote', r.term, 1);
      if (r.type === 'vote-request') return c.forge('d', r.from, 'vote', r.term + 1, 0);
      return null;
    });
    expect(at, 'an honest quorum a, b, c never elects while d answers').not.toBeNull();
  });
});
