import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import {
  checkDelta,
  decodeDelta,
  emptyDelta,
  encodeDelta,
  encodeDeltaUnchecked,
  identityFromRng,
  MapKeyring,
  qBounds,
} from '../../src/learning/index.js';
import { codeOf } from './error-code.js';

const alice = identityFromRng('alice', new SeededRng(1));
const mallory = identityFromRng('mallory', new SeededRng(2));
const keys = new MapKeyring().add('alice', alice.publicKey).add('mallory', mallory.publicKey);
const bounds = qBounds(-1.5, 1.5, 0.95);

function sample(n: number, origin = 'alice') {
  const d = emptyDelta('peer', origin, n);
  d.term = 3;
  d.round = 17;
  d.interactions = n;
  for (let i = 0; i < n; i++) {
    d.hi[i] = (i * 7919) % 13;
    d.lo[i] = Math.floor(i / 5) * 104729;
    d.action[i] = i % 5;
    d.q[i] = Math.fround(Math.sin(i));
    d.visits[i] = i * 3;
    d.fresh[i] = 1;
  }
  return d;
}

describe('delta codec', () => {
  it('round-trips entries, header and ordering-independent content', () => {
    const d = sample(40);
    const back = decodeDelta(encodeDelta(d, alice), keys);
    expect(back.origin).toBe('alice');
    expect([back.term, back.round, back.interactions, back.count]).toEqual([3, 17, 40, 40]);
    const key = (x: typeof d, i: number) =>
      `${x.hi[i]}:${x.lo[i]}:${x.action[i]}:${x.q[i]}:${x.visits[i]}:${x.fresh[i]}`;
    const a = Array.from({ length: 40 }, (_, i) => key(d, i)).sort();
    const b = Array.from({ length: 40 }, (_, i) => key(back, i)).sort();
    expect(b).toEqual(a);
  });

  it('carries a signed recipient when addressed, and the same bytes as before when not', () => {
    const d = sample(10);
    const plain = encodeDelta(d, alice);
    expect(decodeDelta(plain, keys).to).toBeUndefined();
    const addressed = encodeDelta({ ...d, to: 'bob' }, alice);
    expect(addressed.length).toBe(plain.length + 4);
    expect(decodeDelta(addressed, keys).to).toBe('bob');
    // The recipient is under the signature: rewriting it ('bob' -> 'bot') breaks the delta.
    const i = Buffer.from(addressed).indexOf('bob');
    const changed = addressed.slice();
    changed[i + 2] = 't'.charCodeAt(0);
    expect(codeOf(() => decodeDelta(changed, keys))).toBe('E_SIGNATURE');
  });

  it('signs deterministically from a seed and keeps a 10-entry sync small', () => {
    const a = encodeDelta(sample(10), alice);
    const b = encodeDelta(sample(10), identityFromRng('alice', new SeededRng(1)));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.length).toBeLessThanOrEqual(512);
  });

  it('refuses every truncation and every single-bit flip', () => {
    const bytes = encodeDelta(sample(12), alice);
    for (let n = 0; n < bytes.length; n++)
      expect(codeOf(() => decodeDelta(bytes.subarray(0, n), keys))).not.toBe('ok');
    for (let i = 0; i < bytes.length; i += 3) {
      const c = bytes.slice();
      c[i] ^= 1 << (i % 8);
      expect(codeOf(() => decodeDelta(c, keys))).not.toBe('ok');
    }
  });

  it('refuses a forged origin, an unknown origin, trailing bytes and oversize input with reasons', () => {
    const forged = encodeDeltaUnchecked(sample(5, 'alice'), mallory);
    expect(() => decodeDelta(forged, keys)).toThrow(/bad signature for origin 'alice'/);
    expect(() => encodeDelta(sample(5, 'alice'), mallory)).toThrow(/cannot sign/);
    const stranger = identityFromRng('eve', new SeededRng(9));
    expect(() => decodeDelta(encodeDelta(sample(3, 'eve'), stranger), keys)).toThrow(/unknown origin/);
    const ok = encodeDelta(sample(5), alice);
    const longer = new Uint8Array(ok.length + 1);
    longer.set(ok);
    expect(codeOf(() => decodeDelta(longer, keys))).not.toBe('ok');
    expect(codeOf(() => decodeDelta(ok, keys, { maxBytes: 100 }))).toBe('E_OVERSIZE');
    expect(codeOf(() => decodeDelta(ok, keys, { maxEntries: 4 }))).toBe('E_OVERSIZE');
    const dup = sample(2);
    dup.hi[1] = dup.hi[0];
    dup.lo[1] = dup.lo[0];
    dup.action[1] = dup.action[0];
    expect(() => encodeDelta(dup, alice)).toThrow(/duplicate/);
  });

  it('never throws anything but a typed error on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(codeOf(() => decodeDelta(b, keys))).not.toBe('ok');
      }),
    );
  });

  it('validation refuses NaN, Inf, out-of-bounds and implausible fresh visits', () => {
    const limits = { bounds, maxInteractions: 100 };
    expect(checkDelta(sample(10), limits).ok).toBe(true);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 31, -31]) {
      const d = decodeDelta(encodeDelta(Object.assign(sample(10), {}), alice), keys);
      d.q[3] = bad;
      const v = checkDelta(d, limits);
      expect(v.ok).toBe(false);
    }
    const inflated = sample(10);
    inflated.fresh[0] = 50;
    expect(checkDelta(inflated, limits)).toMatchObject({ ok: false, code: 'E_IMPLAUSIBLE' });
    const busy = sample(10);
    busy.interactions = 101;
    expect(checkDelta(busy, limits)).toMatchObject({ ok: false, code: 'E_IMPLAUSIBLE' });
  });
});
