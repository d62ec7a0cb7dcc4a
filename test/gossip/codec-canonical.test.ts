import { describe, expect, it } from 'vitest';
import { isElexError } from '../../src/core/index.js';
import { decode, decodeHeartbeat, encode, type HeartbeatFields } from '../../src/gossip/codec.js';
import { MsgType } from '../../src/gossip/index.js';

/** The typed code `f` throws, or 'accepted'. Anything but an ElexError fails the test. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    if (!isElexError(e)) throw e;
    return e.code;
  }
}

/** `bytes` with the one-byte varint at `at` rewritten in its overlong two-byte form (same value). */
function overlong(bytes: Uint8Array, at: number): Uint8Array {
  const v = bytes[at];
  expect(v).toBeLessThan(0x80);
  return Uint8Array.of(...bytes.subarray(0, at), v | 0x80, 0x00, ...bytes.subarray(at + 1));
}

describe('gossip codec takes only what the encoder writes', () => {
  // src/gossip/codec.ts Reader.varint (and readVarint on the heartbeat fast path) has no overlong check, unlike
  // core ByteReader.varint ("no overlong form") and the Raft codec: a peer's datagram with 0x81 0x00 for 1
  // decodes, and the same message has many encodings.
  it('refuses an overlong varint (0x81 0x00 for 1) in a heartbeat, on both decode paths', () => {
    const hb = encode({ type: MsgType.heartbeat, sender: 'a', gen: 1, inc: 0, seq: 0 });
    // magic, type, name length 1, 'a', gen=1 at offset 4
    const bad = overlong(hb, 4);
    const out: HeartbeatFields = { sender: '', senderHash: 0, gen: 0, inc: 0, seq: 0 };
    expect(decodeHeartbeat(bad, 1200, out)).toBe(false);
    expect(outcome(() => decode(bad, 1200))).toBe('E_DECODE');
  });
});
