import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter, ElexError } from '../../src/core/index.js';
import { encodeKv, type KvCommand, KvOp, KvStateMachine } from '../../src/raft/index.js';
import { thrownElexError } from '../support/errors.js';

/**
 * A KV snapshot arrives from the leader over the network (InstallSnapshot) and `restore` is its decoder. The
 * snapshot writes the keys sorted, each once (`[...data.keys()].sort()`); `restore` refused a session named
 * twice but took a key twice (the last value won) or keys in any order, so a restored replica's next snapshot
 * was not the bytes it restored from.
 */
function snapshotBytes(at: number, pairs: Array<[string, string]>): Uint8Array {
  const w = new ByteWriter().varint(at).varint(pairs.length);
  for (const [k, v] of pairs) w.str(k).str(v);
  return w.varint(0).finish(); // no sessions
}

const text = fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', 'é', '\u{1F600}') });
const command: fc.Arbitrary<KvCommand> = fc.oneof(
  fc.record({ op: fc.constant(KvOp.Put), client: fc.constant(0), seq: fc.nat(9), key: text, value: text }),
  fc.record({ op: fc.constant(KvOp.Delete), client: fc.constant(0), seq: fc.nat(9), key: text }),
  fc.record({
    op: fc.constant(KvOp.Register),
    client: fc.constant(0 as const),
    seq: fc.nat(9),
    key: fc.constant('' as const),
  }),
);

describe('KvStateMachine.restore takes only snapshots the machine could have written', () => {
  it('refuses a key held twice (it kept the last value)', () => {
    const bytes = snapshotBytes(5, [
      ['k', '1'],
      ['k', '2'],
    ]);
    expect(thrownElexError(() => new KvStateMachine().restore(bytes, 5)).code).toBe('E_DECODE');
  });

  it('refuses keys out of order (the snapshot writes them sorted)', () => {
    const bytes = snapshotBytes(5, [
      ['b', '1'],
      ['a', '2'],
    ]);
    expect(thrownElexError(() => new KvStateMachine().restore(bytes, 5)).code).toBe('E_DECODE');
  });

  it('still restores a sorted snapshot, keys compared as the snapshot sorts them (UTF-16 code units)', () => {
    // '\u{1F600}' (surrogates D83D DE00) sorts before '\uFF41' by code unit, after it by code point.
    const pairs: Array<[string, string]> = [
      ['', 'empty'],
      ['a', '1'],
      ['\u{1F600}', '2'],
      ['\uFF41', '3'],
    ];
    const kv = new KvStateMachine();
    kv.restore(snapshotBytes(7, pairs), 7);
    expect([...kv.snapshot()]).toEqual([...snapshotBytes(7, pairs)]);
  });

  it('property: a damaged snapshot is refused with E_DECODE or restores to state that snapshots to the same bytes', () => {
    const snapshots = fc
      .tuple(
        fc.array(command, { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('set', 'insert', 'delete')), {
          minLength: 1,
          maxLength: 3,
        }),
      )
      .map(([cmds, edits]) => {
        const kv = new KvStateMachine();
        cmds.forEach((c, i) => {
          kv.apply(i + 1, encodeKv(c));
        });
        const a = [...kv.snapshot()];
        for (const [at, v, kind] of edits) {
          const i = at % (a.length + (kind === 'insert' ? 1 : 0));
          if (kind === 'set') a[i] = v;
          else if (kind === 'insert') a.splice(i, 0, v);
          else a.splice(i, 1);
        }
        return { index: cmds.length, bytes: new Uint8Array(a) };
      });
    fc.assert(
      fc.property(snapshots, ({ index, bytes }) => {
        const kv = new KvStateMachine();
        try {
          kv.restore(bytes, index);
        } catch (e) {
          expect(e).toBeInstanceOf(ElexError);
          expect((e as ElexError).code).toBe('E_DECODE');
          return;
        }
        expect([...kv.snapshot()]).toEqual([...bytes]);
      }),
      { numRuns: 2000 },
    );
  });
});
