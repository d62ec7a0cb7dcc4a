import { describe, expect, it } from 'vitest';
import { ByteWriter, SeededRng } from '../../src/core/index.js';
import {
  decodeMessage,
  EntryType,
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

describe('a snapshot whose last entry the follower already holds', () => {
  it('is acknowledged at the commit index, not at the follower’s last index (its suffix may not be the leader’s)', () => {
    const rn = new RawNode({ id: 1, voters: [1, 2, 3], rng: new SeededRng(1) });
    // Leader 2 (term 1) replicated entries 1..5, of which 2 are committed.
    const app = emptyMessage(MsgType.App, 2, 1, 1);
    app.index = 0;
    app.logTerm = 0;
    app.commit = 2;
    app.entries = [1, 2, 3, 4, 5].map((index) => ({
      index,
      term: 1,
      type: EntryType.Normal,
      data: new Uint8Array([index]),
    }));
    rn.step(app);
    rn.advance(rn.ready());
    // A snapshot ending at entry 3 of term 1, which this log holds: only the commit index moves (to 3).
    const s = emptyMessage(MsgType.Snap, 2, 1, 1);
    s.snapMeta = { index: 3, term: 1, conf: { voters: [1, 2, 3], learners: [] } };
    s.index = 0;
    s.chunk = new Uint8Array([9]);
    s.chunkTotal = 1;
    rn.step(s);
    const resp = rn.ready().messages.filter((m) => m.type === MsgType.AppResp);
    // etcd answers the commit index here: entries 4..5 were never checked against the leader's log, and a
    // larger index would let the leader count them as replicated.
    expect(resp.map((m) => m.index)).toEqual([3]);
  });
});
