import { describe, expect, it } from 'vitest';
import { deliverAll, electionCategory, INTERVAL } from './election-harness.js';
import { codeOf } from './error-code.js';

describe('fencing of a deposed aggregator across a restart', () => {
  it("a restarted member (term 2 on disk, it had fenced term 1) adopts the deposed term-1 aggregator's aggregate", () => {
    const c = electionCategory(['a', 'b', 'c', 'd']);
    // a leads term 1; every member holds its certificate (the same bytes were sent to every member).
    c.get('a').tick(10 * INTERVAL);
    deliverAll(c, 10 * INTERVAL);
    expect(c.get('a').state).toEqual({ kind: 'Leader', term: 1 });
    const oldCertificate = c.get('a').certificate!;
    for (const id of ['b', 'c', 'd']) c.get(id).admitAggregate('a', 1, 1, 10 * INTERVAL);
    // a is cut off; b, c, d elect b for term 2 (b's certificate reaches c and d).
    const cut = new Set(['a']);
    c.get('b').tick(20 * INTERVAL);
    deliverAll(c, 20 * INTERVAL, cut);
    expect(c.get('b').state).toEqual({ kind: 'Leader', term: 2 });
    const d = c.get('d');
    d.admitAggregate('b', 2, 1, 21 * INTERVAL);
    // Before the restart d fences a's later rounds of term 1.
    expect(codeOf(() => d.admitAggregate('a', 1, 2, 21 * INTERVAL))).toBe('E_FENCED');
    // d restarts from what it made durable: term 2, its vote for b.
    c.restart('d', 22 * INTERVAL);
    const d2 = c.get('d');
    expect([d2.term, d2.votedFor]).toEqual([2, 'b']);
    // a's term-1 certificate and a term-1 aggregate reach it (a delayed datagram, or a's replay: a was
    // certified, it may be the Byzantine one). Until session 24 the certified term admitAggregate fences by was
    // in memory only (0 after the restart); now it is saved with the vote.
    d2.onCertificate(oldCertificate);
    expect(codeOf(() => d2.admitAggregate('a', 1, 2, 22 * INTERVAL))).toBe('E_FENCED');
  });
});
