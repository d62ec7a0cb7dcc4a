import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter, ElexError, encodeFrame, FrameReader } from '../../src/core/index.js';
import {
  type DecodeLimits,
  decodeMessage,
  EMPTY_ENTRIES,
  type Entry,
  EntryType,
  emptyMessage,
  encodeMessage,
  MAX_CONF_MEMBERS,
  MAX_SNAPSHOT_BYTES,
  type Message,
  MsgType,
  NONE,
} from '../../src/raft/index.js';
import { leb, thrownElexError } from '../support/errors.js';

const MAX = Number.MAX_SAFE_INTEGER;
const TYPES = Object.values(MsgType);

const thrown = (f: () => unknown) => thrownElexError(f);

function refusal(bytes: Uint8Array, limits?: DecodeLimits): ElexError {
  const e = thrown(() => decodeMessage(bytes, limits));
  expect(e.code).toBe('E_DECODE');
  return e;
}

const uint = fc.oneof(fc.nat(300), fc.constant(MAX), fc.maxSafeNat());
const node = fc.oneof(fc.constant(NONE), fc.nat(20), fc.integer({ min: 0, max: MAX - 1 }));
// ReadIndex contexts are id · 2^32 + sequence.
const context = fc.oneof(
  uint,
  fc.tuple(fc.nat(1 << 20), fc.nat(2 ** 32 - 1)).map(([id, seq]) => id * 2 ** 32 + seq),
);
// Plain prototypes: fast-check's default null-prototype records would never toStrictEqual a decoded message.
const PLAIN = { noNullPrototype: true };
const entry: fc.Arbitrary<Entry> = fc.record(
  {
    index: uint,
    term: uint,
    type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
    data: fc.uint8Array({ maxLength: 64 }),
  },
  PLAIN,
);
const entries = fc.oneof(
  fc.constant(EMPTY_ENTRIES),
  fc.array(entry, { maxLength: 8 }),
  fc.array(entry, { minLength: 1, maxLength: 8 }),
);
const ids = fc.array(fc.oneof(fc.nat(20), fc.maxSafeNat()), { maxLength: 7 });
const snapMeta = fc.option(
  fc.record({ index: uint, term: uint, conf: fc.record({ voters: ids, learners: ids }, PLAIN) }, PLAIN),
  { nil: null },
);

const messageOf = (type: fc.Arbitrary<MsgType>): fc.Arbitrary<Message> =>
  fc.record(
    {
      type,
      from: node,
      to: node,
      term: uint,
      logTerm: uint,
      index: uint,
      entries,
      commit: uint,
      reject: fc.boolean(),
      rejectHint: uint,
      context,
      snapMeta,
      chunk: fc.option(fc.uint8Array({ maxLength: 128 }), { nil: null }),
      chunkTotal: fc.integer({ min: 0, max: MAX_SNAPSHOT_BYTES }),
    },
    PLAIN,
  );
const message = messageOf(fc.constantFrom(...TYPES));

const app = (): Message => ({
  ...emptyMessage(MsgType.App, 1, 2, 7),
  logTerm: 6,
  index: 41,
  commit: 40,
  entries: [
    { index: 42, term: 7, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
    { index: 43, term: 7, type: EntryType.ConfChange, data: new Uint8Array([0, 5]) },
  ],
});
const snap = (): Message => ({
  ...emptyMessage(MsgType.Snap, 0, 3, 2 ** 40),
  index: 65536,
  snapMeta: { index: 1000, term: 9, conf: { voters: [0, 1, 2], learners: [3] } },
  chunk: new Uint8Array(300).map((_, i) => i & 0xff),
  chunkTotal: 200_000,
});
const readIndex = (): Message => ({
  ...emptyMessage(MsgType.ReadIndex, NONE, NONE, 0),
  context: 13 * 2 ** 32 + 99,
  reject: true,
  rejectHint: 5,
});
const SAMPLES: Array<[string, () => Message]> = [
  ['Hup', () => emptyMessage(MsgType.Hup, 0, 0, 0)],
  ['App', app],
  ['Snap', snap],
  ['ReadIndex', readIndex],
];

/** Offsets where two encodings of the same length differ. */
const diff = (a: Uint8Array, b: Uint8Array): number[] => {
  expect(a.length).toBe(b.length);
  return [...a.keys()].filter((i) => a[i] !== b[i]);
};
const patched = (bytes: Uint8Array, at: number, value: number): Uint8Array => {
  const out = bytes.slice();
  out[at] = value;
  return out;
};
const spliced = (bytes: Uint8Array, at: number, remove: number, insert: number[]): Uint8Array => {
  const a = [...bytes];
  a.splice(at, remove, ...insert);
  return new Uint8Array(a);
};

describe('Raft message codec: round trip', () => {
  it('decode(encode(m)) equals m for arbitrary valid messages', () => {
    fc.assert(
      fc.property(message, (m) => {
        const d = decodeMessage(encodeMessage(m));
        expect(d).toStrictEqual(m);
        expect(Object.keys(d)).toEqual(Object.keys(emptyMessage(MsgType.Hup, 0, 0, 0)));
        if (m.entries.length === 0) expect(d.entries).toBe(EMPTY_ENTRIES);
      }),
      { numRuns: 500 },
    );
  });

  it.each(TYPES.map((t) => [t]))('round-trips every field for message type %i', (type) => {
    fc.assert(
      fc.property(messageOf(fc.constant(type)), (m) => {
        const bytes = encodeMessage(m);
        expect(bytes[1]).toBe(type);
        expect(decodeMessage(bytes)).toStrictEqual(m);
      }),
      { numRuns: 40 },
    );
  });

  it('the encoding is canonical: whatever decodes re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeMessage(m);
        expect(encodeMessage(decodeMessage(bytes))).toEqual(bytes);
      }),
    );
  });

  it('lays out the fields as docs/raft.md describes', () => {
    const w = new ByteWriter()
      .u8(1)
      .u8(MsgType.App)
      .varint(2) // from 1, +1
      .varint(3) // to 2, +1
      .varint(7)
      .varint(6)
      .varint(41)
      .varint(2);
    w.varint(42)
      .varint(7)
      .u8(EntryType.Normal)
      .bytes(new Uint8Array([1, 2, 3]));
    w.varint(43)
      .varint(7)
      .u8(EntryType.ConfChange)
      .bytes(new Uint8Array([0, 5]));
    w.varint(40).u8(0).varint(0).varint(0).u8(0).u8(0).varint(0);
    expect(encodeMessage(app())).toEqual(w.finish());
    // NONE ids are a single 0 byte.
    expect([...encodeMessage(emptyMessage(MsgType.Prop, NONE, NONE, 0)).subarray(0, 4)]).toEqual([
      1,
      MsgType.Prop,
      0,
      0,
    ]);
  });

  it('decoded byte fields are plain Uint8Array copies: the input may be reused', () => {
    const input = Buffer.from(encodeMessage(snap()));
    const d = decodeMessage(input);
    expect(Buffer.isBuffer(d.chunk)).toBe(false);
    expect(d.chunk).toBeInstanceOf(Uint8Array);
    const a = decodeMessage(encodeMessage(app()));
    expect(Buffer.isBuffer(a.entries[0].data)).toBe(false);
    input.fill(0xee);
    expect(d).toStrictEqual(snap());
  });
});

describe('Raft message codec: refusals', () => {
  it.each(SAMPLES)('refuses every proper prefix of a %s message', (_, make) => {
    const bytes = encodeMessage(make());
    expect(bytes.length).toBeGreaterThan(5);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(refusal(bytes.subarray(0, cut)).message).toMatch(/truncated/);
    }
    expect(decodeMessage(bytes)).toStrictEqual(make());
  });

  it.each(SAMPLES)('refuses a %s message with a byte appended', (_, make) => {
    const bytes = encodeMessage(make());
    for (const extra of [0, 1, 255]) {
      expect(refusal(new Uint8Array([...bytes, extra])).message).toMatch(/1 trailing bytes/);
    }
  });

  it('refuses an unknown format version or message type', () => {
    const bytes = encodeMessage(app());
    expect(refusal(patched(bytes, 0, 7)).message).toMatch(/bad format version 7/);
    expect(refusal(patched(bytes, 0, 0)).message).toMatch(/bad format version 0/);
    expect(refusal(patched(bytes, 1, 99)).message).toMatch(/unknown message type 99/);
    expect(refusal(patched(bytes, 1, TYPES.length)).message).toMatch(`unknown message type ${TYPES.length}`);
    expect(decodeMessage(patched(bytes, 1, MsgType.TransferLeader)).type).toBe(MsgType.TransferLeader);
  });

  it('refuses an unknown entry type', () => {
    const m = app();
    const other = { ...m, entries: [{ ...m.entries[0], type: EntryType.ConfChange }, m.entries[1]] };
    const bytes = encodeMessage(m);
    const [at] = diff(bytes, encodeMessage(other));
    expect(bytes[at]).toBe(EntryType.Normal);
    for (const bad of [2, 7, 255]) {
      expect(refusal(patched(bytes, at, bad)).message).toMatch(`unknown entry type ${bad}`);
    }
  });

  it('refuses flag bytes other than 0 and 1', () => {
    const m = app();
    const bytes = encodeMessage(m);
    const [at] = diff(bytes, encodeMessage({ ...m, reject: true }));
    expect(refusal(patched(bytes, at, 2)).message).toMatch(/reject byte 2 is not 0 or 1/);
    // With no snapMeta, no chunk and chunkTotal 0 the message ends with the two presence bytes and a 0.
    const n = bytes.length;
    expect([...bytes.subarray(n - 3)]).toEqual([0, 0, 0]);
    expect(refusal(patched(bytes, n - 3, 2)).message).toMatch(/snapMeta presence byte 2/);
    expect(refusal(patched(bytes, n - 2, 9)).message).toMatch(/chunk presence byte 9/);
  });

  it('refuses integers above 2^53 - 1 and overlong varints, naming the field', () => {
    const bytes = encodeMessage(emptyMessage(MsgType.Vote, 1, 2, 3));
    expect(bytes[4]).toBe(3); // the term
    expect(decodeMessage(spliced(bytes, 4, 1, leb(2n ** 53n - 1n))).term).toBe(MAX);
    expect(refusal(spliced(bytes, 4, 1, leb(2n ** 53n))).message).toMatch(/^term: .*above 2\^53/);
    expect(refusal(spliced(bytes, 4, 1, [0x83, 0x00])).message).toMatch(/^term: overlong varint/);
    expect(refusal(spliced(bytes, 2, 1, leb(2n ** 60n))).message).toMatch(/^from: /);
  });

  it('arbitrary bytes decode to a canonical message or fail with E_DECODE, never anything else', () => {
    const mangled = fc
      .tuple(
        message.map(encodeMessage),
        fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('set', 'insert', 'delete')), {
          minLength: 1,
          maxLength: 3,
        }),
      )
      .map(([b, edits]) => {
        const a = [...b];
        for (const [at, v, kind] of edits) {
          const i = at % (a.length + (kind === 'insert' ? 1 : 0));
          if (kind === 'set') a[i] = v;
          else if (kind === 'insert') a.splice(i, 0, v);
          else a.splice(i, 1);
        }
        return new Uint8Array(a);
      });
    const headed = fc
      .tuple(fc.nat(TYPES.length - 1), fc.uint8Array({ maxLength: 200 }))
      .map(([t, rest]) => new Uint8Array([1, t, ...rest]));
    let decoded = 0;
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), headed, mangled), (bytes) => {
        let m: Message;
        try {
          m = decodeMessage(bytes, { maxEntries: 50 });
        } catch (e) {
          expect(e).toBeInstanceOf(ElexError);
          expect((e as ElexError).code).toBe('E_DECODE');
          return;
        }
        decoded++;
        expect(encodeMessage(m)).toEqual(bytes);
      }),
      { numRuns: 3000 },
    );
    // The mangled encodings still decode sometimes (a set byte inside entry data), so the success branch ran.
    expect(decoded).toBeGreaterThan(0);
  });
});

describe('Raft message codec: limits', () => {
  const withEntries = (n: number): Message => ({
    ...emptyMessage(MsgType.App, 1, 2, 3),
    entries: Array.from({ length: n }, (_, i) => ({
      index: i + 1,
      term: 3,
      type: EntryType.Normal,
      data: new Uint8Array(0),
    })),
  });

  it('refuses more entries than maxEntries', () => {
    const bytes = encodeMessage(withEntries(11));
    expect(refusal(bytes, { maxEntries: 10 }).message).toMatch(/entry count 11 exceeds 10/);
    expect(decodeMessage(bytes, { maxEntries: 11 }).entries).toHaveLength(11);
    expect(refusal(encodeMessage(withEntries(100_001))).message).toMatch(/entry count 100001 exceeds 100000/);
    expect(decodeMessage(encodeMessage(withEntries(100_000))).entries).toHaveLength(100_000);
  });

  it('refuses a hostile entry count before reading any entry', () => {
    const bytes = encodeMessage(emptyMessage(MsgType.App, 1, 2, 3));
    expect(bytes[7]).toBe(0); // the entry count
    expect(refusal(spliced(bytes, 7, 1, leb(5_000_000n))).message).toMatch(
      /entry count 5000000 exceeds 100000/,
    );
  });

  it('refuses input over maxBytes, and byte fields declaring more than that', () => {
    const bytes = encodeMessage(snap());
    expect(refusal(bytes, { maxBytes: bytes.length - 1 }).message).toMatch(
      `message of ${bytes.length} bytes exceeds ${bytes.length - 1}`,
    );
    expect(decodeMessage(bytes, { maxBytes: bytes.length })).toStrictEqual(snap());
    const big = encodeMessage({ ...emptyMessage(MsgType.Snap, 0, 1, 1), chunk: new Uint8Array(2000) });
    expect(refusal(big, { maxBytes: 1000 }).message).toMatch(/exceeds 1000/);
    // A length field claiming more than the whole message is refused by its own check.
    const header = new ByteWriter().u8(1).u8(MsgType.App).varint(0).varint(0).varint(0).varint(0).varint(0);
    header
      .varint(1)
      .varint(1)
      .varint(1)
      .u8(0)
      .varint(2 ** 40);
    expect(refusal(header.finish()).message).toMatch(/entry data length 1099511627776 exceeds/);
  });

  it('refuses more than MAX_CONF_MEMBERS voters or learners', () => {
    const head = () =>
      new ByteWriter()
        .u8(1)
        .u8(MsgType.Snap)
        .varint(1)
        .varint(2)
        .varint(1)
        .varint(0)
        .varint(0)
        .varint(0)
        .varint(0)
        .u8(0)
        .varint(0)
        .varint(0)
        .u8(1)
        .varint(5)
        .varint(1);
    const withConf = (voters: number, learners: number) => {
      const w = head().varint(voters);
      for (let i = 0; i < voters; i++) w.varint(i);
      w.varint(learners);
      for (let i = 0; i < learners; i++) w.varint(i + voters);
      return w.u8(0).varint(0).finish();
    };
    expect(decodeMessage(withConf(MAX_CONF_MEMBERS, MAX_CONF_MEMBERS)).snapMeta?.conf.voters).toHaveLength(
      MAX_CONF_MEMBERS,
    );
    expect(refusal(withConf(MAX_CONF_MEMBERS + 1, 0)).message).toMatch(/voters count 1001 exceeds 1000/);
    expect(refusal(withConf(0, MAX_CONF_MEMBERS + 1)).message).toMatch(/learners count 1001 exceeds 1000/);
  });
});

describe('Raft message codec: the encoder refuses what the decoder would', () => {
  const base = () => emptyMessage(MsgType.App, 1, 2, 3);
  const bad: Array<[string, Message]> = [
    ['a negative term', { ...base(), term: -1 }],
    ['a fractional index', { ...base(), index: 1.5 }],
    ['a NaN commit', { ...base(), commit: Number.NaN }],
    ['a context above 2^53 - 1', { ...base(), context: 2 ** 53 }],
    ['from below NONE', { ...base(), from: -2 }],
    ['an unknown message type', { ...base(), type: 99 as MsgType }],
    [
      'an unknown entry type',
      { ...base(), entries: [{ index: 1, term: 1, type: 5 as EntryType, data: new Uint8Array(0) }] },
    ],
    [
      'a negative voter id',
      { ...base(), snapMeta: { index: 1, term: 1, conf: { voters: [-1], learners: [] } } },
    ],
    [
      'too many learners',
      {
        ...base(),
        snapMeta: {
          index: 1,
          term: 1,
          conf: { voters: [0], learners: Array.from({ length: 1001 }, (_, i) => i) },
        },
      },
    ],
  ];
  it.each(bad)('refuses %s with E_ENCODE', (_, m) => {
    expect(thrown(() => encodeMessage(m)).code).toBe('E_ENCODE');
  });
});

describe('Raft messages through the framer', () => {
  it('a stream of framed messages cut anywhere decodes to the same messages', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (ms, cuts) => {
        const stream = Buffer.concat(ms.map((m) => encodeFrame(encodeMessage(m))));
        const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const reader = new FrameReader();
        const got: Message[] = [];
        let prev = 0;
        for (const c of [...at, stream.length]) {
          for (const f of reader.push(stream.subarray(prev, c))) got.push(decodeMessage(f));
          prev = c;
        }
        expect(got).toStrictEqual(ms);
      }),
    );
  });
});
