import { describe, expect, it } from 'vitest';
import { ByteWriter, SeededRng } from '../../src/core/index.js';
import {
  decodeMessage,
  emptyMessage,
  encodeMessage,
  MAX_SNAPSHOT_BYTES,
  MsgType,
  RawNode,
} from '../../src/raft/index.js';
import { codeOf } from '../gossip/code-of.js';

/**
 * A follower sizes its snapshot reassembly buffer from the first chunk's `chunkTotal`. Unbounded (before session
 * 23), one well-formed frame with chunkTotal 2^40 made `RawNode.step` throw an untyped RangeError, which the host
 * treats as a failed assertion and stops the node; below the engine's limit it allocated whatever the frame said.
 */
describe('a Snap chunk with an absurd chunkTotal', () => {
  const snap = (chunkTotal: number) => {
    const m = emptyMessage(MsgType.Snap, 2, 1, 1);
    m.snapMeta = { index: 10, term: 1, conf: { voters: [1, 2, 3], learners: [] } };
    m.index = 0;
    m.chunk = new Uint8Array([1]);
    m.chunkTotal = chunkTotal;
    return m;
  };

  it('is refused by the decoder (and the encoder) with a typed error, at any size above the limit', () => {
    // The bytes a peer would send: the encoding of an in-range total with its varint rewritten.
    const wire = encodeMessage(snap(1));
    const at = wire.length - 1;
    expect(wire[at]).toBe(1);
    for (const total of [MAX_SNAPSHOT_BYTES + 1, 2 ** 40]) {
      const w = new ByteWriter().bytes(wire.subarray(0, at)).varint(total).finish();
      expect(codeOf(() => decodeMessage(w))).toBe('E_DECODE');
      expect(codeOf(() => encodeMessage(snap(total)))).toBe('E_ENCODE');
    }
    expect(decodeMessage(encodeMessage(snap(MAX_SNAPSHOT_BYTES))).chunkTotal).toBe(MAX_SNAPSHOT_BYTES);
  });

  it('stepped into the core without the codec, is ignored: no exception, no reassembly started', () => {
    const rn = new RawNode({ id: 1, voters: [1, 2, 3], rng: new SeededRng(1) });
    expect(() => rn.step(snap(2 ** 40))).not.toThrow();
    // The leader is heard (term 1), but nothing answers the chunk: no progress report for a snapshot it refused.
    const out = rn.ready().messages;
    expect(out.filter((m) => m.type === MsgType.SnapResp)).toEqual([]);
  });
});
