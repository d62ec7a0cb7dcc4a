import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeKv, KvOp, KvStateMachine } from '../../src/raft/index.js';

const put = (client: number, seq: number, key: string, value: string) =>
  encodeKv({ op: KvOp.Put, client, seq, key, value });

describe('KV client sessions are bounded (least recently used expires)', () => {
  it('keeps at most maxSessions sessions, and the one expired is the least recently used', () => {
    const seen: string[] = [];
    const kv = new KvStateMachine((c, s) => seen.push(`${c}:${s}`), { maxSessions: 3 });
    kv.apply(1, put(11, 1, 'a', '1'));
    kv.apply(2, put(12, 1, 'b', '1'));
    kv.apply(3, put(13, 1, 'c', '1'));
    kv.apply(4, put(11, 2, 'a', '2')); // 11 is now the most recent; 12 the least
    kv.apply(5, put(14, 1, 'd', '1'));
    expect(kv.sessions).toBe(3);
    expect(kv.sessionsExpired).toBe(1);
    expect(kv.sessionSeq(12)).toBe(0);
    expect(kv.sessionSeq(11)).toBe(2);
    expect(kv.sessionSeq(13)).toBe(1);
    // 13's repeat is still answered from its session, without executing again.
    expect(kv.apply(6, put(13, 1, 'c', 'again'))).toEqual({ ok: true, value: null });
    expect(kv.get('c')).toBe('1');
    expect(seen).toEqual(['11:1', '12:1', '13:1', '11:2', '14:1']);
  });

  it('a repeat counts as use: the client retrying is not the one expired', () => {
    const kv = new KvStateMachine(undefined, { maxSessions: 2 });
    kv.apply(1, put(1, 1, 'a', 'x'));
    kv.apply(2, put(2, 1, 'b', 'x'));
    kv.apply(3, put(1, 1, 'a', 'x')); // client 1 retries seq 1: answered, and now the most recent
    kv.apply(4, put(3, 1, 'c', 'x'));
    expect(kv.sessionSeq(1)).toBe(1);
    expect(kv.sessionSeq(2)).toBe(0);
  });

  it('a snapshot keeps the recency order, so a restored replica expires the same sessions as one that applied the log', () => {
    const client = fc.integer({ min: 1, max: 12 });
    fc.assert(
      fc.property(fc.array(client, { minLength: 1, maxLength: 60 }), fc.nat(), (clients, cut) => {
        const seqs = new Map<number, number>();
        const cmds = clients.map((c) => {
          const seq = (seqs.get(c) ?? 0) + 1;
          seqs.set(c, seq);
          return put(c, seq, `k${c}`, `v${seq}`);
        });
        const at = cut % cmds.length;
        const full = new KvStateMachine(undefined, { maxSessions: 4 });
        for (let i = 0; i < cmds.length; i++) full.apply(i + 1, cmds[i]);
        const early = new KvStateMachine(undefined, { maxSessions: 4 });
        for (let i = 0; i < at; i++) early.apply(i + 1, cmds[i]);
        const restored = new KvStateMachine(undefined, { maxSessions: 4 });
        if (at > 0) restored.restore(early.snapshot(), at);
        for (let i = at; i < cmds.length; i++) restored.apply(i + 1, cmds[i]);
        expect([...restored.snapshot()]).toEqual([...full.snapshot()]);
        expect(restored.sessions).toBeLessThanOrEqual(4);
      }),
      { numRuns: 500 },
    );
  });

  it('a snapshot holding more sessions than the bound, or one client twice, is refused', () => {
    const big = new KvStateMachine(undefined, { maxSessions: 5 });
    for (let c = 1; c <= 5; c++) big.apply(c, put(c, 1, 'k', 'v'));
    const small = new KvStateMachine(undefined, { maxSessions: 4 });
    expect(() => small.restore(big.snapshot(), 5)).toThrow(/sessions/);
    const twice = new KvStateMachine();
    twice.apply(1, put(7, 1, 'k', 'v'));
    twice.apply(2, put(8, 1, 'k', 'v'));
    const snap = twice.snapshot();
    // The second session's client id (8) rewritten to 7: the same client twice.
    const i = snap.lastIndexOf(8, snap.length - 4);
    const forged = Uint8Array.from(snap);
    forged[i] = 7;
    expect(() => new KvStateMachine().restore(forged, 2)).toThrow(/twice/);
  });

  it('the default bound is 10,000 and must be a positive integer', () => {
    const kv = new KvStateMachine();
    for (let c = 1; c <= 10_001; c++) kv.apply(c, put(c, 1, 'k', 'v'));
    expect(kv.sessions).toBe(10_000);
    expect(kv.sessionSeq(1)).toBe(0);
    expect(() => new KvStateMachine(undefined, { maxSessions: 0 })).toThrow(/maxSessions/);
  });
});
