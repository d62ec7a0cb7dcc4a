import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ElexError } from '../../src/core/index.js';
import {
  ConfChangeType,
  decodeConfChange,
  decodeKv,
  encodeConfChange,
  encodeKv,
  type KvCommand,
  KvOp,
  KvStateMachine,
} from '../../src/raft/index.js';
import { leb } from '../support/errors.js';

/** A Put for client `client` (given as raw varint bytes), key "k", value "v". */
const putWithClient = (client: number[]) => new Uint8Array([KvOp.Put, ...client, 1, 1, 107, 1, 118]);

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ maxLength: 6 }).map((s) => `\uFEFF${s}`),
);
const uint = fc.oneof(fc.nat(300), fc.constant(Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
/** A session's fields as constant arbitraries, to spread into a command's record. */
const c = (s: { client: number; seq: number }) => ({
  client: fc.constant(s.client),
  seq: fc.constant(s.seq),
});
/** A session's seq starts at 1; without a session (client 0) any seq names the answer. */
const session = fc.oneof(
  fc.record({ client: uint.filter((c) => c > 0), seq: uint.filter((s) => s > 0) }),
  fc.record({ client: fc.constant(0), seq: uint }),
);
const command: fc.Arbitrary<KvCommand> = fc.oneof(
  session.chain((s) => fc.record({ op: fc.constant(KvOp.Put), ...c(s), key: text, value: text })),
  session.chain((s) => fc.record({ op: fc.constant(KvOp.Delete), ...c(s), key: text })),
  session.chain((s) => fc.record({ op: fc.constant(KvOp.Get), ...c(s), key: text })),
  fc.record({
    op: fc.constant(KvOp.Register),
    client: fc.constant(0 as const),
    seq: uint,
    key: fc.constant('' as const),
  }),
  session.chain((s) =>
    fc.record({
      op: fc.constant(KvOp.Cas),
      ...c(s),
      key: text,
      expected: fc.option(text, { nil: null }),
      value: text,
    }),
  ),
);

/** A valid encoding with a few random byte edits (so the decoders see mostly near-valid input). */
const mangled = (valid: fc.Arbitrary<Uint8Array>) =>
  fc
    .tuple(
      valid,
      fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('set', 'insert', 'delete')), { maxLength: 3 }),
    )
    .map(([b, edits]) => {
      const a = [...b];
      for (const [at, v, kind] of edits) {
        const i = a.length === 0 ? 0 : at % (a.length + (kind === 'insert' ? 1 : 0));
        if (kind === 'set' && a.length > 0) a[i] = v;
        else if (kind === 'insert') a.splice(i, 0, v);
        else if (a.length > 0) a.splice(i, 1);
      }
      return new Uint8Array(a);
    });

describe('KV and conf-change codecs are strict and exact', () => {
  it('integers beyond 2^53 are refused, not rounded (two clients would share one session)', () => {
    expect(() => decodeKv(putWithClient(leb(2n ** 53n + 1n)))).toThrow(ElexError);
    expect(() => decodeKv(putWithClient(leb(2n ** 53n)))).toThrow(ElexError);
    expect(decodeKv(putWithClient(leb(2n ** 53n - 1n))).client).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => decodeConfChange(new Uint8Array([0, ...leb(2n ** 55n + 3n)]))).toThrow(ElexError);
  });

  it('overlong (non-canonical) varints are refused', () => {
    expect(() => decodeKv(putWithClient([0x81, 0x00]))).toThrow(ElexError);
    expect(() => decodeConfChange(new Uint8Array([ConfChangeType.Remove, 0x83, 0x80, 0x00]))).toThrow(
      ElexError,
    );
  });

  it('a key or value starting with U+FEFF survives the log and a snapshot', () => {
    const put = { op: KvOp.Put, client: 0, seq: 1, key: '\uFEFFk', value: '\uFEFFv' } as const;
    expect(decodeKv(encodeKv(put))).toEqual(put);
    const kv = new KvStateMachine();
    kv.apply(1, encodeKv(put));
    expect(kv.get('\uFEFFk')).toBe('\uFEFFv');
    expect(kv.get('k')).toBeNull();
    const other = new KvStateMachine();
    other.restore(kv.snapshot(), 1);
    expect(other.get('\uFEFFk')).toBe('\uFEFFv');
  });

  it('property: every command round-trips exactly', () => {
    fc.assert(
      fc.property(command, (c) => {
        expect(decodeKv(encodeKv(c))).toEqual(c);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2), fc.maxSafeNat(), (type, node) => {
        const cc = { type: type as ConfChangeType, node };
        expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
      }),
    );
  });

  it('property: any input either fails with E_DECODE or is the canonical encoding of what it decodes to', () => {
    const check =
      <T>(decode: (b: Uint8Array) => T, encode: (t: T) => Uint8Array) =>
      (b: Uint8Array) => {
        let v: T;
        try {
          v = decode(b);
        } catch (e) {
          expect(e).toBeInstanceOf(ElexError);
          expect((e as ElexError).code).toBe('E_DECODE');
          return;
        }
        expect([...encode(v)]).toEqual([...b]);
      };
    fc.assert(fc.property(mangled(command.map(encodeKv)), check(decodeKv, encodeKv)), { numRuns: 3000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), check(decodeKv, encodeKv)), { numRuns: 2000 });
    const cc = fc
      .record({ type: fc.constantFrom(0, 1, 2), node: fc.maxSafeNat() })
      .map((c) => encodeConfChange(c as { type: ConfChangeType; node: number }));
    fc.assert(fc.property(mangled(cc), check(decodeConfChange, encodeConfChange)), { numRuns: 3000 });
  });

  it('property: a KV snapshot restores to the same state (byte-identical snapshot, same reads)', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), (cmds) => {
        const kv = new KvStateMachine();
        const keys = new Set<string>();
        cmds.forEach((c, i) => {
          keys.add(c.key);
          kv.apply(i + 1, encodeKv(c));
        });
        const other = new KvStateMachine();
        other.restore(kv.snapshot(), cmds.length);
        expect([...other.snapshot()]).toEqual([...kv.snapshot()]);
        for (const k of keys) expect(other.get(k)).toBe(kv.get(k));
      }),
      { numRuns: 500 },
    );
  });
});
