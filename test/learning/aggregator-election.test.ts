import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import {
  AggregatorElection,
  type ControlType,
  decodeControl,
  encodeControl,
  type Identity,
  identityFromRng,
  MapKeyring,
  verifyCertificate,
} from '../../src/learning/index.js';
import { codeOf } from './error-code.js';

const INTERVAL = 1000;

/**
 * Elections wired to each other with no table and no network: signed control messages queue in `inbox` until
 * `deliver` steps them, so a test reads as a script of who hears what, and when.
 */
function category(ids: readonly string[]) {
  const keyring = new MapKeyring();
  const keys = new Map<string, Identity>();
  for (const id of ids) {
    const k = identityFromRng(id, new SeededRng(7).fork(id));
    keys.set(id, k);
    keyring.add(id, k.publicKey);
  }
  const inbox: Array<{ from: string; to: string; kind: 'control' | 'certificate'; bytes: Uint8Array }> = [];
  const events: string[] = [];
  const saved = new Map<string, string>();
  const elections = new Map<string, AggregatorElection>();
  for (const id of ids) {
    elections.set(
      id,
      new AggregatorElection({
        id,
        peers: ids.filter((p) => p !== id),
        byzantineThreshold: 0.33,
        syncIntervalMs: INTERVAL,
        keyring,
        rng: new SeededRng(1).fork(id),
        transport: {
          control: (to: string, type: ControlType, value: number, term: number) =>
            inbox.push({
              from: id,
              to,
              kind: 'control',
              bytes: encodeControl({ type, from: id, to, term, value }, keys.get(id)!),
            }),
          certificate: (to, bytes) => inbox.push({ from: id, to, kind: 'certificate', bytes }),
        },
        hooks: {
          steppedDown: () => events.push(`${id} stepped down`),
          becameLeader: () => events.push(`${id} leads`),
        },
        onVoteState: (s) => saved.set(id, `${s.term}:${s.voted_for}`),
        now: 0,
      }),
    );
  }
  /** Delivers everything queued (and what that sends) at time `now`. */
  const deliver = (now: number, cut: ReadonlySet<string> = new Set()) => {
    while (inbox.length > 0) {
      const m = inbox.shift()!;
      if (cut.has(m.to) || cut.has(m.from)) continue;
      const e = elections.get(m.to)!;
      if (m.kind === 'certificate') e.onCertificate(m.bytes);
      else e.step(decodeControl(m.bytes, keyring), m.bytes, now);
    }
  };
  return { elections, deliver, inbox, events, saved, keyring, get: (id: string) => elections.get(id)! };
}

describe('AggregatorElection on its own (sans-IO)', () => {
  it('pre-vote, vote, certificate: one member leads, the others follow it and admit only its aggregates', () => {
    const c = category(['a', 'b', 'c', 'd']);
    const a = c.get('a');
    // Before the election timeout (2–4 sync intervals) nobody asks.
    a.tick(INTERVAL);
    expect(c.inbox).toEqual([]);
    a.tick(10 * INTERVAL);
    c.deliver(10 * INTERVAL);
    expect(a.state).toEqual({ kind: 'Leader', term: 1 });
    expect(c.events).toContain('a leads');
    // The certificate is the quorum of signed votes (3 of 4 with f = 1), verifiable by anyone.
    expect(verifyCertificate(a.certificate!, c.keyring, a.memberIds)).toEqual({ leader: 'a', term: 1 });
    for (const id of ['b', 'c', 'd']) {
      const m = c.get(id);
      expect(m.term, id).toBe(1);
      expect(c.saved.get(id), id).toBe('1:a');
      // A follower refuses an aggregate from anyone else for the term, and admits a's.
      expect(codeOf(() => m.admitAggregate('b', 1, 1, 11 * INTERVAL))).toBe('E_UNCERTIFIED');
      m.admitAggregate('a', 1, 1, 11 * INTERVAL);
      expect(m.liveLeader(11 * INTERVAL), id).toBe('a');
      expect(codeOf(() => m.admitAggregate('a', 1, 1, 11 * INTERVAL))).toBe('E_STALE');
      expect(codeOf(() => m.admitAggregate('a', 0, 9, 11 * INTERVAL))).toBe('E_FENCED');
    }
  });

  it('a member cut off does not raise its term, and on its return cannot depose the live aggregator', () => {
    const c = category(['a', 'b', 'c', 'd']);
    c.get('a').tick(10 * INTERVAL);
    c.deliver(10 * INTERVAL);
    const [a, d] = [c.get('a'), c.get('d')];
    const cut = new Set(['d']);
    // d hears nothing and keeps asking for pre-votes that never arrive: its term stays. Meanwhile a leads on
    // with b and c, whose heartbeat acks keep it in office (CheckQuorum: 3 of 4).
    for (let t = 11; t <= 60; t++) {
      a.heartbeat(t * INTERVAL);
      d.tick(t * INTERVAL);
      c.deliver(t * INTERVAL, cut);
    }
    expect(d.term).toBe(1);
    expect(a.state).toEqual({ kind: 'Leader', term: 1 });
    // d returns: b and c follow a live aggregator (sticky), so its pre-votes are refused and nobody moves.
    for (let t = 61; t <= 70; t++) {
      a.heartbeat(t * INTERVAL);
      d.tick(t * INTERVAL);
      c.deliver(t * INTERVAL);
    }
    expect(a.state).toEqual({ kind: 'Leader', term: 1 });
    for (const id of ['b', 'c', 'd']) expect(c.get(id).term, id).toBe(1);
    expect(d.liveLeader(70 * INTERVAL)).toBe('a');
  });

  it("CheckQuorum: an aggregator that hears from no quorum for three intervals steps down, and the table's hook runs", () => {
    const c = category(['a', 'b', 'c', 'd']);
    const a = c.get('a');
    a.tick(10 * INTERVAL);
    c.deliver(10 * INTERVAL);
    expect(a.isLeader).toBe(true);
    // Heartbeats go out but nobody answers (every other member is cut off).
    for (let t = 11; t <= 14; t++) {
      a.heartbeat(t * INTERVAL);
      c.deliver(t * INTERVAL, new Set(['b', 'c', 'd']));
    }
    expect(a.state.kind).toBe('Follower');
    expect(a.leader).toBeNull();
    expect(c.events.filter((e) => e.startsWith('a '))).toEqual(['a leads', 'a stepped down']);
  });

  it('refuses election messages from non-members and term jumps, with typed errors', () => {
    const c = category(['a', 'b', 'c']);
    const outsider = identityFromRng('x', new SeededRng(9));
    c.keyring.add('x', outsider.publicKey);
    const b = c.get('b');
    const msg = (from: Identity, term: number) =>
      encodeControl({ type: 'vote-request', from: from.id, to: 'b', term, value: 0 }, from);
    const fromX = msg(outsider, 1);
    expect(codeOf(() => b.step(decodeControl(fromX, c.keyring), fromX, 0))).toBe('E_MEMBER');
    const a = identityFromRng('a', new SeededRng(7).fork('a'));
    const jump = msg(a, 5000);
    expect(codeOf(() => b.step(decodeControl(jump, c.keyring), jump, 0))).toBe('E_TERM_JUMP');
    expect(b.term).toBe(0);
  });

  it('refuses its own messages replayed back: its own vote request earns it no vote for itself', () => {
    const c = category(['a', 'b', 'c', 'd']);
    const a = c.get('a');
    const key = identityFromRng('a', new SeededRng(7).fork('a'));
    for (const type of ['vote-request', 'vote'] as const) {
      const own = encodeControl({ type, from: 'a', to: 'a', term: 1, value: 1 }, key);
      expect(codeOf(() => a.step(decodeControl(own, c.keyring), own, 0))).toBe('E_DECODE');
    }
    expect([a.term, a.votedFor, c.inbox.length]).toEqual([0, null, 0]);
  });
});
