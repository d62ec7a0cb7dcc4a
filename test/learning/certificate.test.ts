import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isElexError, SeededRng } from '../../src/core/index.js';
import {
  electionQuorum,
  encodeCertificate,
  encodeControl,
  type Identity,
  identityFromRng,
  MapKeyring,
  verifyCertificate,
} from '../../src/learning/index.js';

const ids = ['a', 'b', 'c', 'd', 'e'];
const keys = new MapKeyring();
const who = new Map<string, Identity>();
for (const id of ids) {
  const k = identityFromRng(id, new SeededRng(7).fork(id));
  who.set(id, k);
  keys.add(id, k.publicKey);
}
const vote = (from: string, to: string, term: number, value = 1, type: 'vote' | 'ack' = 'vote') =>
  encodeControl({ type, from, to, term, value }, who.get(from)!);

describe('election certificates', () => {
  it('name the member a majority voted for, with its own vote implicit', () => {
    const cert = encodeCertificate([vote('b', 'a', 4), vote('c', 'a', 4)]);
    expect(verifyCertificate(cert, keys, 5)).toEqual({ leader: 'a', term: 4 });
  });

  it('refuse a minority, mixed terms or candidates, repeated or self votes, refusals and other messages', () => {
    const bad = [
      [vote('b', 'a', 4)], // 2 of 5
      [vote('b', 'a', 4), vote('c', 'a', 5)],
      [vote('b', 'a', 4), vote('c', 'd', 4)],
      [vote('b', 'a', 4), vote('b', 'a', 4)],
      [vote('a', 'a', 4), vote('b', 'a', 4)],
      [vote('b', 'a', 4), vote('c', 'a', 4, 0)],
      [vote('b', 'a', 4), vote('c', 'a', 4, 1, 'ack')],
    ];
    for (const votes of bad) {
      expect(() => verifyCertificate(encodeCertificate(votes), keys, 5)).toThrow(
        /E_CERTIFICATE|not a quorum|not a granted vote|counted twice|different/,
      );
    }
  });

  it('refuse a vote signed by anyone but its voter', () => {
    const forged = encodeControl(
      { type: 'vote', from: 'c', to: 'a', term: 4, value: 1 },
      {
        ...who.get('a')!,
        id: 'c',
      },
    );
    expect(() => verifyCertificate(encodeCertificate([vote('b', 'a', 4), forged]), keys, 5)).toThrow(
      /signature/,
    );
  });

  it('throw nothing but typed errors on damaged bytes', () => {
    const cert = encodeCertificate([vote('b', 'a', 4), vote('c', 'a', 4)]);
    fc.assert(
      fc.property(fc.nat(cert.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (i, x, cut) => {
        const b = cut ? cert.subarray(0, i) : Uint8Array.from(cert);
        if (!cut) b[i] ^= x;
        try {
          verifyCertificate(b, keys, 5);
          // A flip that still verifies must leave a valid certificate for the same election.
          expect(verifyCertificate(b, keys, 5).leader).toBe('a');
        } catch (e) {
          expect(isElexError(e)).toBe(true);
        }
      }),
    );
  });

  it('given the member ids, refuse votes from or for members of another category sharing the keyring', () => {
    const members = new Set(['a', 'b', 'c']);
    // d and e are in the keyring, not in this category: 3 "votes" of 3 members by size, none by membership.
    expect(() =>
      verifyCertificate(encodeCertificate([vote('d', 'a', 4), vote('e', 'a', 4)]), keys, members),
    ).toThrow(/not between members/);
    expect(() =>
      verifyCertificate(encodeCertificate([vote('b', 'd', 4), vote('c', 'd', 4)]), keys, members),
    ).toThrow(/not between members/);
    expect(verifyCertificate(encodeCertificate([vote('b', 'a', 4)]), keys, members)).toEqual({
      leader: 'a',
      term: 4,
    });
  });

  it('refuse more votes than the category has other members before checking any signature', () => {
    let lookups = 0;
    const counting = {
      publicKey: (id: string) => {
        lookups++;
        return keys.publicKey(id);
      },
    };
    // 12 copies of two valid votes: a 3-member category has at most 2 voters besides the aggregator.
    const padded = encodeCertificate(Array.from({ length: 12 }, (_, i) => vote(i % 2 ? 'b' : 'c', 'a', 4)));
    expect(() => verifyCertificate(padded, counting, new Set(['a', 'b', 'c']))).toThrow(
      /E_CERTIFICATE|votes/,
    );
    expect(() => verifyCertificate(padded, counting, 3)).toThrow(/E_CERTIFICATE|votes/);
    expect(lookups).toBe(0);
  });
  it('need a Byzantine quorum: a double-voting member cannot certify two aggregators for one term', () => {
    expect([3, 4, 5, 7, 10, 33].map((n) => electionQuorum(n, 0.33))).toEqual([2, 3, 4, 5, 7, 22]);
    // e votes for a and for b in term 7; c is with a, d with b.
    const forA = encodeCertificate([vote('c', 'a', 7), vote('e', 'a', 7)]);
    const forB = encodeCertificate([vote('d', 'b', 7), vote('e', 'b', 7)]);
    // A simple majority (3 of 5) certifies both...
    expect(verifyCertificate(forA, keys, 5).leader).toBe('a');
    expect(verifyCertificate(forB, keys, 5).leader).toBe('b');
    // ...the quorum FederatedQTable uses (4 of 5 for f = 1) certifies neither.
    const q = electionQuorum(5, 0.33);
    expect(() => verifyCertificate(forA, keys, 5, q)).toThrow(/not a quorum/);
    expect(() => verifyCertificate(forB, keys, 5, q)).toThrow(/not a quorum/);
    expect(
      verifyCertificate(encodeCertificate(['b', 'c', 'd'].map((v) => vote(v, 'a', 7))), keys, 5, q),
    ).toEqual({
      leader: 'a',
      term: 7,
    });
  });
});
