import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CounterMetrics, isElexError, SeededRng } from '../../src/core/index.js';
import { decodeHeartbeat, type HeartbeatFields, LIMITS } from '../../src/gossip/codec.js';
import {
  Channel,
  decode,
  encode,
  GossipNode,
  HeartbeatHistory,
  type Message,
  MsgType,
  type Outbound,
  Status,
} from '../../src/gossip/index.js';
import { codeOf } from './code-of.js';

function node(name = 'a', config = {}) {
  const metrics = new CounterMetrics();
  const n = new GossipNode({ name, generation: 1, rng: new SeededRng(7), now: 0, metrics, config });
  return { n, metrics };
}

/** Unsigned LEB128 of a bigint (so values above 2^53 can be written at all). */
function leb(x: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return out;
}

describe('varints above 2^53 (hostile generations and incarnations)', () => {
  it('are refused by the decoder and by the heartbeat fast path', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 2n ** 53n, max: 2n ** 56n - 1n }), (big) => {
        const join = Uint8Array.of(0xe1, MsgType.join, 1, 98, ...leb(big), 0);
        expect(codeOf(() => decode(join, 1200))).toBe('E_DECODE');
        const hb = Uint8Array.of(0xe1, MsgType.heartbeat, 1, 98, 1, ...leb(big), 0);
        const out: HeartbeatFields = { sender: '', senderHash: 0, gen: 0, inc: 0, seq: 0 };
        expect(decodeHeartbeat(hb, 1200, out)).toBe(false);
        expect(codeOf(() => decode(hb, 1200))).toBe('E_DECODE');
      }),
      { numRuns: 200 },
    );
    // The largest safe integer still decodes, exactly.
    const max = Uint8Array.of(0xe1, MsgType.join, 1, 98, ...leb(BigInt(Number.MAX_SAFE_INTEGER)), 0);
    expect(decode(max, 1200)).toMatchObject({ gen: Number.MAX_SAFE_INTEGER, inc: 0 });
  });

  it('a JOIN with a generation of 2^56 − 1 cannot make every later tick throw', () => {
    const { n, metrics } = node('a');
    const join = Uint8Array.of(0xe1, MsgType.join, 1, 98, ...leb(2n ** 56n - 1n), 0);
    expect(() => n.handle(join, 0)).not.toThrow();
    for (let t = 0; t <= 3000; t += 100) expect(codeOf(() => n.tick(t))).toBeUndefined();
    expect(n.liveness('b')).toBe('unknown');
    expect(metrics.get('drop_malformed')).toBe(1);
  });

  it('a suspicion of itself at incarnation 2^53 − 1 is dropped, not refuted into an unencodable 2^53', () => {
    const { n } = node('a');
    n.handle(encode({ type: MsgType.join, sender: 'b', gen: 1, inc: 0 }), 0);
    const lie = encode({
      type: MsgType.rumor,
      sender: 'b',
      gen: 1,
      inc: 0,
      claims: [{ name: 'a', gen: 1, inc: Number.MAX_SAFE_INTEGER, status: Status.suspect, origin: 'b' }],
    });
    expect(codeOf(() => n.handle(lie, 0))).toBeUndefined();
    expect(Number.isSafeInteger(n.incarnation)).toBe(true);
    for (let t = 0; t <= 3000; t += 100) expect(codeOf(() => n.tick(t))).toBeUndefined();
    // An ordinary suspicion is still refuted afterwards.
    n.handle(
      encode({
        type: MsgType.rumor,
        sender: 'b',
        gen: 1,
        inc: 0,
        claims: [{ name: 'a', gen: 1, inc: n.incarnation, status: Status.suspect, origin: 'b' }],
      }),
      3000,
    );
    expect(n.incarnation).toBe(1);
  });
});

/** A delta carrying one key of member `a`, as `a` would send it. */
function keyDatagram(key: string): Uint8Array {
  const m: Message = {
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
          claim: { name: 'a', gen: 1, inc: 0, status: Status.alive },
          fromVersion: 0,
          keys: [{ channel: Channel.state, key, version: 1, value: Uint8Array.of(1) }],
        },
      ],
    },
  };
  return encode(m);
}

describe('local names and keys the wire cannot carry', () => {
  it('set refuses keys every peer would reject (128 UTF-16 units but > 128 bytes, control characters)', () => {
    const { n } = node('a');
    expect(codeOf(() => n.set(Channel.state, 'é'.repeat(100), Uint8Array.of(1)))).toBe('E_TOO_LARGE');
    expect(codeOf(() => n.set(Channel.state, 'tab\there', Uint8Array.of(1)))).not.toBeUndefined();
    expect(codeOf(() => n.set(Channel.state, 'a\ud800b', Uint8Array.of(1)))).not.toBeUndefined();
    expect(n.view().find((m) => m.name === 'a')?.maxVersion).toBe(0);
    // Still accepted: the limits exactly.
    n.set(Channel.state, 'k'.repeat(128), Uint8Array.of(1));
    n.set(Channel.state, 'é'.repeat(64), Uint8Array.of(1));
    n.set(Channel.state, '', Uint8Array.of(1));
  });

  it('every key set accepts reaches a peer unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 140 }), (key) => {
        const { n } = node('a');
        let accepted = true;
        try {
          n.set(Channel.state, key, Uint8Array.of(1));
        } catch (e) {
          accepted = false;
          expect(isElexError(e)).toBe(true);
        }
        if (!accepted) return;
        const m = decode(keyDatagram(key), 1200);
        expect(m.type === MsgType.exchange && m.body.deltas[0].keys[0].key).toBe(key);
      }),
      { numRuns: 200 },
    );
  });

  it('a key peers reject does not block the member’s later keys from replicating', () => {
    const a = node('a').n;
    const { n: b, metrics } = node('b');
    try {
      a.set(Channel.state, 'é'.repeat(100), Uint8Array.of(1));
    } catch {
      // refused locally: fine, that is the fix
    }
    a.set(Channel.state, 'good', Uint8Array.of(2));
    const queue: Array<{ to: GossipNode; data: Uint8Array }> = [];
    const push = (out: Outbound[]) => {
      for (const o of out) queue.push({ to: o.to === 'a' ? a : b, data: o.data });
    };
    push(a.handle(encode({ type: MsgType.join, sender: 'b', gen: 1, inc: 0 }), 0));
    push(b.handle(encode({ type: MsgType.join, sender: 'a', gen: 1, inc: 0 }), 0));
    for (let t = 0; t < 10_000; t += 100) {
      push(a.tick(t));
      push(b.tick(t));
      while (queue.length > 0) {
        const m = queue.shift()!;
        push(m.to.handle(m.data, t));
      }
    }
    expect(b.get('a', Channel.state, 'good')).toEqual(Uint8Array.of(2));
    expect(metrics.get('drop_malformed')).toBe(0);
  });

  it('the constructor refuses names every peer would reject', () => {
    const make = (name: string) => () =>
      new GossipNode({ name, generation: 1, rng: new SeededRng(1), now: 0 });
    expect(codeOf(make('ü'.repeat(40)))).toBe('E_CONFIG'); // 40 characters, 80 bytes
    expect(codeOf(make('a\nb'))).toBe('E_CONFIG');
    expect(codeOf(make('x\udc00'))).toBe('E_CONFIG');
    expect(codeOf(make('ü'.repeat(32)))).toBeUndefined(); // 64 bytes exactly
    // A name starting with U+FEFF reaches peers whole (a decoder that strips a BOM made it another name).
    const bom = make('\uFEFF ')();
    const sent = [...bom.handle(encode({ type: MsgType.join, sender: 'peer', gen: 1, inc: 0 }), 0)];
    for (const t of [0, 500, 1000, 1500]) sent.push(...bom.tick(t));
    expect(sent.length).toBeGreaterThan(0);
    for (const o of sent) expect(decode(o.data, 1200).sender).toBe('\uFEFF ');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 70 }), (name) => {
        let n: GossipNode;
        try {
          n = make(name)();
        } catch (e) {
          expect(isElexError(e) && e.code).toBe('E_CONFIG');
          return;
        }
        const out = [...n.handle(encode({ type: MsgType.join, sender: 'peer', gen: 1, inc: 0 }), 0)];
        for (const t of [0, 500, 1000, 1500]) out.push(...n.tick(t));
        expect(out.length).toBeGreaterThan(0);
        for (const o of out) expect(decode(o.data, 1200).sender).toBe(name);
      }),
      { numRuns: 300 },
    );
  });
});

describe('phi cheap pre-check', () => {
  it('agrees with phi for every positive threshold, not only those above 0.3', () => {
    const params = {
      sampleWindow: 200,
      minStdDevMs: 100,
      acceptablePauseMs: 3000,
      firstHeartbeatEstimateMs: 1000,
    };
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 20, noNaN: true }), fc.nat(20_000), (threshold, gap) => {
        const h = new HeartbeatHistory(params, 0);
        for (let t = 1000; t <= 10_000; t += 1000) h.arrive(t);
        expect(h.exceeds(10_000 + gap, threshold)).toBe(h.phi(10_000 + gap) > threshold);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the arrays tick and handle return', () => {
  it('a caller that appends to an empty result cannot make another node send something', () => {
    const a = node('a').n;
    const b = node('b').n;
    const nothing = a.handle(Uint8Array.of(1, 2, 3), 0); // malformed: nothing to send
    expect(nothing).toEqual([]);
    try {
      nothing.push({ to: 'x', data: Uint8Array.of(9), kind: 'gossip/join' });
    } catch {
      // refusing the write is fine too
    }
    expect(b.handle(Uint8Array.of(1, 2, 3), 0)).toEqual([]);
    expect(b.tick(0).every((o) => o.to !== 'x')).toBe(true);
  });
});

describe('the bounded forgotten map', () => {
  it('evicts the identity forgotten longest ago, not one forgotten again just now', () => {
    const { n, metrics } = node('a', { tombstoneTtlMs: 10_000, forgottenCapacity: 2 });
    n.handle(encode({ type: MsgType.join, sender: 'b', gen: 1, inc: 0 }), 0);
    let t = 0;
    const say = (name: string, gen: number, status: 0 | 2) =>
      n.handle(
        encode({
          type: MsgType.rumor,
          sender: 'b',
          gen: 1,
          inc: 0,
          claims: [{ name, gen, inc: 0, status, ...(status === 2 ? { ttlMs: 10_000 } : {}) }],
        }),
        t,
      );
    const forget = (name: string, gen: number) => {
      say(name, gen, 2);
      for (const end = t + 11_000; t <= end; t += 500) {
        n.handle(encode({ type: MsgType.heartbeat, sender: 'b', gen: 1, inc: 0, seq: t }), t);
        n.tick(t);
      }
      expect(n.liveness(name)).toBe('unknown');
    };
    forget('c', 1);
    forget('d', 1);
    say('c', 2, 0); // c restarted: a new generation is admitted
    expect(n.liveness('c')).toBe('alive');
    forget('c', 2); // c (2, 0) is now the most recently forgotten identity
    forget('e', 1); // over capacity: d, forgotten longest ago, must go
    expect(n.liveness('b')).toBe('alive');
    const blocked = metrics.get('drop_resurrection_blocked');
    say('c', 2, 0); // a late claim for the forgotten (2, 0)
    expect(n.liveness('c')).toBe('unknown');
    expect(metrics.get('drop_resurrection_blocked')).toBe(blocked + 1);
  });
});

describe('configured limits against the wire limits', () => {
  it('refuses a maxValueBytes above what every decoder accepts (larger datagrams allowed one, and peers dropped it)', () => {
    const make = (maxValueBytes: number) => () =>
      new GossipNode({
        name: 'a',
        generation: 1,
        rng: new SeededRng(1),
        now: 0,
        config: { maxDatagramBytes: 9000, maxValueBytes },
      });
    expect(codeOf(make(1024))).toBeUndefined();
    expect(codeOf(make(2000))).toBe('E_CONFIG');
  });

  it('refuses a maxHops above what every decoder accepts (the exchange past hop 16 would be dropped)', () => {
    const make = (maxHops: number) => () =>
      new GossipNode({ name: 'a', generation: 1, rng: new SeededRng(1), now: 0, config: { maxHops } });
    expect(codeOf(make(LIMITS.hops))).toBeUndefined();
    expect(codeOf(make(LIMITS.hops + 1))).toBe('E_CONFIG');
  });
});

describe('list counts against the wire limits', () => {
  it('never sends more entries in one list than every decoder accepts, whatever maxDatagramBytes allows', () => {
    // 9,000-byte datagrams are allowed, and hold far more than 512 short claims or digest entries: a rumor
    // batch, a SYN's recent digest (recentMax 1000), bucket digests, deltas or keys of 600 members are refused
    // (E_DECODE) by every peer, the same configuration's included.
    const { n } = node('a', { maxDatagramBytes: 9000, recentMax: 1000 });
    const out: Outbound[] = [];
    const rumor = (claims: Array<{ name: string; gen: number; inc: number; status: 0 }>) =>
      n.handle(encode({ type: MsgType.rumor, sender: 'b', gen: 1, inc: 0, claims }), 0);
    n.handle(encode({ type: MsgType.join, sender: 'b', gen: 1, inc: 0 }), 0);
    for (let i = 0; i < 600; i += 300)
      out.push(
        ...rumor(
          Array.from({ length: 300 }, (_, k) => ({
            name: `m${i + k}`,
            gen: 1,
            inc: 0,
            status: Status.alive,
          })),
        ),
      );
    for (let t = 0; t <= 3000; t += 100) out.push(...n.tick(t));
    // A peer that differs in every bucket asks for the bucket digests.
    const buckets = new Uint32Array(32).fill(1);
    out.push(
      ...n.handle(
        encode({
          type: MsgType.exchange,
          sender: 'b',
          gen: 1,
          inc: 0,
          body: { hop: 1, buckets, digest: [], covered: [], requests: [], deltas: [] },
        }),
        3000,
      ),
    );
    // A peer that lists every bucket as covered and holds nobody gets every member as a delta; then all of
    // our 600 keys (short and empty: 600 fit the byte budget).
    const covered = Array.from({ length: 32 }, (_, b) => b);
    const coveredAll = () =>
      n.handle(
        encode({
          type: MsgType.exchange,
          sender: 'b',
          gen: 1,
          inc: 0,
          body: { hop: 2, digest: [], covered, requests: [], deltas: [] },
        }),
        3000,
      );
    out.push(...coveredAll());
    for (let k = 0; k < 600; k++) n.set(Channel.state, `k${k}`, new Uint8Array(0));
    out.push(...coveredAll());
    expect(out.some((o) => o.kind === 'gossip/rumor')).toBe(true);
    expect(out.some((o) => o.kind === 'gossip/exchange')).toBe(true);
    for (const o of out) expect([o.kind, codeOf(() => decode(o.data, 9000))]).toEqual([o.kind, undefined]);
  });
});
