import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter, isElexError, SeededRng } from '../../src/core/index.js';
import { CONTROL_MAGIC, CONTROL_TYPES, MAX_TERM } from '../../src/learning/control.js';
import {
  type Control,
  decodeControl,
  encodeControl,
  type Identity,
  identityFromRng,
  MapKeyring,
  signBytes,
} from '../../src/learning/index.js';
import { codeOf } from './error-code.js';

const TYPES = CONTROL_TYPES;
const ids = ['a', 'b', 'ü-member', 'x'.repeat(64)];
const keys = new MapKeyring();
const who = new Map<string, Identity>();
for (const id of ids) {
  const k = identityFromRng(id, new SeededRng(3).fork(id));
  who.set(id, k);
  keys.add(id, k.publicKey);
}

const utf8Len = (s: string) => new TextEncoder().encode(s).length;
const control = fc.record({
  type: fc.constantFrom(...TYPES),
  from: fc.constantFrom(...ids),
  to: fc.string({ unit: 'grapheme', maxLength: 16 }).filter((s) => utf8Len(s) <= 64),
  term: fc.integer({ min: 0, max: MAX_TERM }),
  value: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
});

/** Decodes, or returns the typed code; anything but an ElexError fails the test. */
function decodeOrCode(b: Uint8Array): Control | string {
  try {
    return decodeControl(b, keys);
  } catch (e) {
    if (!isElexError(e)) throw e;
    return e.code;
  }
}

describe('control messages: codec under fast-check', () => {
  it('round-trip every valid message exactly', () => {
    fc.assert(
      fc.property(control, (c) => {
        expect(decodeControl(encodeControl(c, who.get(c.from)!), keys)).toEqual(c);
      }),
      { numRuns: 300 },
    );
  });

  it('refuse arbitrary bytes with typed errors only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), fc.boolean(), (raw, magic) => {
        const b = Uint8Array.from(raw);
        if (magic && b.length >= 4) {
          b[0] = CONTROL_MAGIC & 0xff;
          b[1] = CONTROL_MAGIC >> 8;
          b[2] = 2;
        }
        expect(typeof decodeOrCode(b)).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('refuse damaged, truncated or extended messages with typed errors, or decode them unchanged', () => {
    fc.assert(
      fc.property(
        control,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('flip', 'cut', 'extend'),
        (c, at, x, how) => {
          const good = encodeControl(c, who.get(c.from)!);
          let b: Uint8Array;
          if (how === 'cut') b = good.subarray(0, at % good.length);
          else if (how === 'extend') {
            b = new Uint8Array(good.length + 1 + (at % 8));
            b.set(good);
            b[good.length] = x;
          } else {
            b = Uint8Array.from(good);
            b[at % b.length] ^= x;
          }
          const out = decodeOrCode(b);
          // The signature covers every byte but itself: no damaged message decodes.
          expect(typeof out).toBe('string');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuse terms above MAX_TERM, values above 2^53 - 1, oversized messages, unknown origins and long ids', () => {
    const a = who.get('a')!;
    // The encoder refuses such a term (encode-term-bound.test.ts), so these bytes are written by hand.
    const w = new ByteWriter(96)
      .u16(CONTROL_MAGIC)
      .u8(2)
      .u8(2)
      .str('a')
      .str('b')
      .varint(MAX_TERM + 1)
      .varint(1);
    const unsigned = w.finish();
    const over = new Uint8Array([...unsigned, ...signBytes(a, unsigned)]);
    expect(codeOf(() => decodeControl(over, keys))).toBe('E_DECODE');
    const at = encodeControl({ type: 'vote', from: 'a', to: 'b', term: MAX_TERM, value: 1 }, a);
    expect(decodeControl(at, keys).term).toBe(MAX_TERM);
    expect(codeOf(() => decodeControl(new Uint8Array(1025), keys))).toBe('E_OVERSIZE');
    const stranger = identityFromRng('z', new SeededRng(9));
    const unknown = encodeControl({ type: 'vote', from: 'z', to: 'a', term: 1, value: 1 }, stranger);
    expect(codeOf(() => decodeControl(unknown, keys))).toBe('E_SIGNATURE');
    const long = encodeControl({ type: 'vote', from: 'a', to: 'y'.repeat(65), term: 1, value: 1 }, a);
    expect(codeOf(() => decodeControl(long, keys))).toBe('E_DECODE');
    // Signed by a for b's name: refused at encode, and a forged origin refused at decode.
    expect(codeOf(() => encodeControl({ type: 'vote', from: 'b', to: 'a', term: 1, value: 1 }, a))).toBe(
      'E_ENCODE',
    );
    const forged = encodeControl({ type: 'vote', from: 'b', to: 'a', term: 1, value: 1 }, { ...a, id: 'b' });
    expect(codeOf(() => decodeControl(forged, keys))).toBe('E_SIGNATURE');
  });
});
