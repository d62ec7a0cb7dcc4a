import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeKv, KvOp, KvStateMachine, SESSION_EXPIRED } from '../../src/raft/index.js';

const put = (client: number, seq: number, key: string, value: string) =>
  encodeKv({ op: KvOp.Put, client, seq, key, value });
const register = (nonce = 1) => encodeKv({ op: KvOp.Register, client: 0, seq: nonce, key: '' });

/** A machine with a log of its own: `open()` registers a session (its id is the entry's index). */
function machine(maxSessions: number, onExecute?: (client: number, seq: number) => void) {
  const kv = new KvStateMachine(onExecute, { maxSessions });
  let index = 0;
  return {
    kv,
    open: () => Number(kv.apply(++index, register()).value),
    apply: (cmd: Uint8Array) => kv.apply(++index, cmd),
  };
}

describe('KV client sessions are opened by the log', () => {
  it("a session's id is its register entry's index, and a command in an id never opened is refused", () => {
    const seen: string[] = [];
    const m = machine(10, (c, s) => seen.push(`${c}:${s}`));
    expect(m.open()).toBe(1);
    expect(m.apply(put(1, 1, 'a', 'x'))).toEqual({ ok: true, value: null });
    expect(m.open()).toBe(3);
    // Index 2 was a put, not a register: no session has that id.
    expect(m.apply(put(2, 1, 'b', 'x'))).toEqual({ ok: false, value: null, error: SESSION_EXPIRED });
    expect(m.kv.get('b')).toBeNull();
    expect(seen).toEqual(['0:1', '1:1', '0:1']);
  });

  it('a retry in a session the bound expired is refused, not executed again', () => {
    const seen: string[] = [];
    const m = machine(2, (c, s) => seen.push(`${c}:${s}`));
    const a = m.open();
    m.apply(put(a, 1, 'a', 'x'));
    const b = m.open();
    m.apply(put(b, 1, 'b', 'x'));
    const c = m.open(); // a is the least recently used: it expires
    expect(m.kv.sessionsExpired).toBe(1);
    expect(m.apply(put(a, 1, 'a', 'x'))).toEqual({ ok: false, value: null, error: SESSION_EXPIRED });
    expect(m.apply(put(a, 2, 'a', 'y'))).toEqual({ ok: false, value: null, error: SESSION_EXPIRED });
    expect(m.kv.get('a')).toBe('x');
    expect(seen.filter((s) => s === `${a}:1`)).toHaveLength(1);
    // The refusal does not open anything: the table still holds b and c.
    expect(m.kv.sessions).toBe(2);
    expect(m.kv.sessionSeq(c)).toBe(0);
  });

  it('register and session commands are strict: a register names no client or key, a session seq starts at 1', () => {
    const bytes = (op: number, client: number, seq: number, key: string) =>
      new Uint8Array([op, client, seq, key.length, ...new TextEncoder().encode(key)]);
    const kv = new KvStateMachine();
    expect(kv.apply(1, bytes(KvOp.Register, 3, 1, '')).error).toBe('E_DECODE');
    expect(kv.apply(2, bytes(KvOp.Register, 0, 1, 'k')).error).toBe('E_DECODE');
    expect(kv.apply(3, bytes(KvOp.Register, 0, 1, '')).value).toBe('3');
    expect(kv.apply(4, new Uint8Array([KvOp.Delete, 3, 0, 1, 107])).error).toBe('E_DECODE');
    expect(kv.apply(5, new Uint8Array([KvOp.Delete, 3, 1, 1, 107]))).toEqual({ ok: true, value: null });
  });
});

describe('KV client sessions are bounded (least recently used expires)', () => {
  it('keeps at most maxSessions sessions, and the one expired is the least recently used', () => {
    const seen: string[] = [];
    const m = machine(3, (c, s) => seen.push(`${c}:${s}`));
    const [s1, s2, s3] = [m.open(), m.open(), m.open()];
    m.apply(put(s1, 1, 'a', '1'));
    m.apply(put(s2, 1, 'b', '1'));
    m.apply(put(s3, 1, 'c', '1'));
    m.apply(put(s1, 2, 'a', '2')); // s1 is now the most recent; s2 the least
    const s4 = m.open();
    expect(m.kv.sessions).toBe(3);
    expect(m.kv.sessionsExpired).toBe(1);
    expect(m.kv.sessionSeq(s2)).toBe(0);
    expect(m.kv.sessionSeq(s1)).toBe(2);
    expect(m.kv.sessionSeq(s3)).toBe(1);
    expect(m.kv.sessionSeq(s4)).toBe(0);
    // s3's repeat is still answered from its session, without executing again.
    expect(m.apply(put(s3, 1, 'c', 'again'))).toEqual({ ok: true, value: null });
    expect(m.kv.get('c')).toBe('1');
    expect(seen.filter((x) => !x.startsWith('0:'))).toEqual([`${s1}:1`, `${s2}:1`, `${s3}:1`, `${s1}:2`]);
  });

  it('a repeat counts as use: the client retrying is not the one expired', () => {
    const m = machine(2);
    const [s1, s2] = [m.open(), m.open()];
    m.apply(put(s1, 1, 'a', 'x'));
    m.apply(put(s2, 1, 'b', 'x'));
    m.apply(put(s1, 1, 'a', 'x')); // s1 retries seq 1: answered, and now the most recent
    m.open();
    expect(m.kv.sessionSeq(s1)).toBe(1);
    expect(m.apply(put(s2, 2, 'b', 'y')).error).toBe(SESSION_EXPIRED);
  });

  it('a snapshot keeps the recency order, so a restored replica expires the same sessions as one that applied the log', () => {
    // Each step either opens a session or writes in the k-th session opened so far (which may have expired).
    const step = fc.oneof(fc.constant(-1), fc.nat({ max: 11 }));
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), fc.nat(), (steps, cut) => {
        const opened: number[] = [];
        const seqs = new Map<number, number>();
        const cmds = steps.map((k, i) => {
          if (k === -1 || opened.length === 0) {
            opened.push(i + 1);
            return register(i);
          }
          const c = opened[k % opened.length];
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
    for (let i = 1; i <= 5; i++) big.apply(i, register());
    const small = new KvStateMachine(undefined, { maxSessions: 4 });
    expect(() => small.restore(big.snapshot(), 5)).toThrow(/sessions/);
    const twice = new KvStateMachine();
    twice.apply(7, register());
    twice.apply(8, register());
    const snap = twice.snapshot();
    // The second session's client id (8) rewritten to 7: the same client twice.
    const i = snap.lastIndexOf(8, snap.length - 4);
    const forged = Uint8Array.from(snap);
    forged[i] = 7;
    expect(() => new KvStateMachine().restore(forged, 8)).toThrow(/twice/);
  });

  it('the default bound is 10,000 and must be a positive integer', () => {
    const kv = new KvStateMachine();
    for (let i = 1; i <= 10_001; i++) kv.apply(i, register());
    expect(kv.sessions).toBe(10_000);
    expect(kv.apply(10_002, put(1, 1, 'k', 'v')).error).toBe(SESSION_EXPIRED);
    expect(kv.apply(10_003, put(2, 1, 'k', 'v'))).toEqual({ ok: true, value: null });
    expect(() => new KvStateMachine(undefined, { maxSessions: 0 })).toThrow(/maxSessions/);
  });
});

describe("a node's private session (its session-less writes) cannot be named by a client", () => {
  // Session ids are log indices, so guessable: a client naming a node's own session with a higher seq made
  // every later session-less write there E_STALE_SEQ, and with the very next seq it made the node's next write
  // answer with the client's result, unexecuted (a review of session 25).
  const mine = (seq: number, key: string, value: string, client: number) =>
    encodeKv({ op: KvOp.Put, client, seq, key, value, private: true });

  it('a public command naming a private session is refused, not executed, and does not touch its seq', () => {
    const m = machine(10);
    const own = Number(
      m.kv.apply(1, encodeKv({ op: KvOp.Register, client: 0, seq: 7, key: '', private: true })).value,
    );
    let index = 1;
    const apply = (cmd: Uint8Array) => m.kv.apply(++index, cmd);
    expect(apply(put(own, Number.MAX_SAFE_INTEGER, 'junk', 'j'))).toEqual({
      ok: false,
      value: null,
      error: 'E_SESSION_PRIVATE',
    });
    expect(apply(put(own, 1, 'stolen', 's'))).toMatchObject({ ok: false, error: 'E_SESSION_PRIVATE' });
    expect(m.kv.get('junk')).toBeNull();
    // The node's own writes go on at seq 1 and execute.
    expect(apply(mine(1, 'a', 'x', own))).toEqual({ ok: true, value: null });
    expect(m.kv.get('a')).toBe('x');
    // And a private command cannot name a client's session either.
    const pub = Number(apply(register(3)).value);
    expect(apply(mine(1, 'b', 'y', pub))).toMatchObject({ ok: false, error: 'E_SESSION_PRIVATE' });
  });

  it('a snapshot keeps which sessions are private', () => {
    const m = machine(10);
    m.kv.apply(1, encodeKv({ op: KvOp.Register, client: 0, seq: 7, key: '', private: true }));
    const copy = new KvStateMachine(undefined, { maxSessions: 10 });
    copy.restore(m.kv.snapshot(), 1);
    expect(copy.apply(2, put(1, 5, 'junk', 'j'))).toMatchObject({ ok: false, error: 'E_SESSION_PRIVATE' });
    expect(copy.apply(3, mine(1, 'a', 'x', 1))).toEqual({ ok: true, value: null });
  });
});
