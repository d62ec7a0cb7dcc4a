import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { decode, decodeHeartbeat, encode, type HeartbeatFields, MsgType } from '../../src/gossip/codec.js';

describe('heartbeat fast path', () => {
  it('decodes exactly what decode does, and declines everything decode rejects or is not a heartbeat', () => {
    const rng = new SeededRng(7);
    const out: HeartbeatFields = { sender: '', senderHash: 0, gen: 0, inc: 0, seq: 0 };
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const name = `agent-${rng.int(1000)}${'x'.repeat(rng.int(3) === 0 ? 60 : 0)}`;
      const big = () => (rng.int(4) === 0 ? rng.int(2 ** 40) : rng.int(300));
      const type = rng.int(5) === 0 ? MsgType.join : MsgType.heartbeat;
      const base =
        type === MsgType.join
          ? encode({ type, sender: name, gen: big(), inc: big() })
          : encode({ type, sender: name, gen: big(), inc: big(), seq: big() });
      const data = base.slice();
      // Mutate some: flip a byte, truncate, or append.
      const r = rng.int(4);
      if (r === 1) data[rng.int(data.length)] = rng.int(256);
      const bytes =
        r === 2
          ? data.subarray(0, rng.int(data.length))
          : r === 3
            ? new Uint8Array([...data, rng.int(256)])
            : data;
      let want: ReturnType<typeof decode> | undefined;
      try {
        want = decode(bytes, 1200);
      } catch {
        want = undefined;
      }
      if (decodeHeartbeat(bytes, 1200, out)) {
        fast++;
        expect(want).toBeDefined();
        expect(want!.type).toBe(MsgType.heartbeat);
        const w = want as { sender: string; gen: number; inc: number; seq: number };
        expect(out.sender).toBe(w.sender); // the same interned string
        expect([out.gen, out.inc, out.seq]).toEqual([w.gen, w.inc, w.seq]);
      } else if (want !== undefined) {
        // Declined: only non-heartbeats or names the fast path leaves to decode.
        expect(want.type !== MsgType.heartbeat || /[^\x20-\x7e]/.test(want.sender)).toBe(true);
      }
    }
    expect(fast).toBeGreaterThan(2_000);
    expect(decodeHeartbeat(new Uint8Array(2000), 1200, out)).toBe(false);
  });
});
