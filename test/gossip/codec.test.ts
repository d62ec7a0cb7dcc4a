import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isElexError } from '../../src/core/index.js';
import { type ClaimEntry, decode, encode, type Message, MsgType, Status } from '../../src/gossip/index.js';

const printable = (s: string) => [...s].every((ch) => ch.charCodeAt(0) >= 0x20);
const name = fc.string({ minLength: 1, maxLength: 20 }).filter(printable);
const num = fc.nat({ max: 2 ** 40 });
const claim: fc.Arbitrary<ClaimEntry> = fc
  .record({ name, gen: num, inc: num, status: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3> })
  .chain((c) =>
    c.status === Status.suspect
      ? name.map((origin) => ({ ...c, origin }))
      : c.status >= Status.dead
        ? fc.nat(10_000_000).map((ttlMs) => ({ ...c, ttlMs }))
        : fc.constant(c),
  );
const header = fc.record({ sender: name, gen: num, inc: num });
const keys = fc
  .array(
    fc.record({
      channel: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
      key: fc.string({ maxLength: 12 }).filter(printable),
      step: fc.integer({ min: 1, max: 1000 }),
      value: fc.uint8Array({ maxLength: 40 }),
    }),
    { maxLength: 4 },
  )
  .map((ks) => {
    let v = 0;
    return ks.map((k) => {
      v += k.step;
      return { channel: k.channel, key: k.key, version: v, value: k.value };
    });
  });
const exchange = fc.record({
  hop: fc.nat(16),
  hash: fc.option(fc.tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 2 ** 32 - 1 })), { nil: undefined }),
  buckets: fc.option(
    fc.uint32Array({ minLength: 1, maxLength: 32 }).map((a) => new Uint32Array(a)),
    { nil: undefined },
  ),
  digest: fc.array(
    fc.record({
      name,
      gen: num,
      inc: num,
      status: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
      maxVersion: num,
    }),
    { maxLength: 5 },
  ),
  covered: fc.array(fc.nat(255), { maxLength: 5 }),
  requests: fc.array(fc.record({ name, gen: num, fromVersion: num }), { maxLength: 5 }),
  deltas: fc.array(fc.record({ claim, fromVersion: fc.constant(0), keys }), { maxLength: 3 }),
});
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ h: header, seq: num }).map(({ h, seq }) => ({ type: MsgType.heartbeat, ...h, seq })),
  header.map((h) => ({ type: MsgType.join, ...h })),
  fc
    .record({ h: header, claims: fc.array(claim, { maxLength: 6 }) })
    .map(({ h, claims }) => ({ type: MsgType.rumor, ...h, claims })),
  fc.record({ h: header, body: exchange }).map(({ h, body }) => {
    const b = { ...body };
    if (b.hash === undefined) delete b.hash;
    if (b.buckets === undefined) delete b.buckets;
    return { type: MsgType.exchange, ...h, body: b } as Message;
  }),
);

function normalize(m: Message): unknown {
  return JSON.parse(
    JSON.stringify(m, (_k, v) => (v instanceof Uint8Array || v instanceof Uint32Array ? [...v] : v)),
  );
}

describe('gossip codec', () => {
  it('round-trips every message kind', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encode(m);
        expect(normalize(decode(bytes, 1 << 20))).toEqual(normalize(m));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects every strict prefix and any trailing byte with E_DECODE', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const bytes = encode(m);
        const n = cut % bytes.length;
        expect(() => decode(bytes.subarray(0, n), 1 << 20)).toThrowError(/./);
        const longer = new Uint8Array(bytes.length + 1);
        longer.set(bytes);
        expect(() => decode(longer, 1 << 20)).toThrowError(/trailing/);
      }),
      { numRuns: 200 },
    );
  });

  it('throws only E_DECODE on arbitrary bytes and mutated messages', () => {
    fc.assert(
      fc.property(message, fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(255), (m, junk, pos, val) => {
        for (const input of [junk, Uint8Array.of(0xe1, ...junk)]) {
          try {
            decode(input, 1200);
          } catch (e) {
            expect(isElexError(e) && e.code === 'E_DECODE').toBe(true);
          }
        }
        const bytes = encode(m);
        bytes[pos % bytes.length] = val;
        try {
          decode(bytes, 1 << 20);
        } catch (e) {
          expect(isElexError(e) && e.code === 'E_DECODE').toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses oversized datagrams, lying counts, unknown enums and descending key versions', () => {
    const big = encode({
      type: MsgType.rumor,
      sender: 'a',
      gen: 1,
      inc: 0,
      claims: Array.from({ length: 200 }, (_, i) => ({
        name: `member-${i}`,
        gen: 1,
        inc: 0,
        status: Status.alive,
      })),
    });
    expect(big.length).toBeGreaterThan(1200);
    expect(() => decode(big, 1200)).toThrowError(/exceeds 1200/);
    const lying = Uint8Array.of(0xe1, MsgType.rumor, 1, 97, 1, 0, 0xff, 0x7f);
    expect(() => decode(lying, 1200)).toThrowError(/count/);
    const badStatus = encode({
      type: MsgType.rumor,
      sender: 'a',
      gen: 1,
      inc: 0,
      claims: [{ name: 'b', gen: 1, inc: 0, status: Status.alive }],
    });
    badStatus[badStatus.length - 1] = 9;
    expect(() => decode(badStatus, 1200)).toThrowError(/status/);
    const desc: Message = {
      type: MsgType.exchange,
      sender: 'a',
      gen: 1,
      inc: 0,
      body: {
        hop: 1,
        digest: [],
        covered: [],
        requests: [],
        deltas: [
          {
            claim: { name: 'a', gen: 1, inc: 0, status: 0 },
            fromVersion: 5,
            keys: [{ channel: 1, key: 'k', version: 5, value: new Uint8Array(1) }],
          },
        ],
      },
    };
    expect(() => decode(encode(desc), 1200)).toThrowError(/ascend/);
  });
});
