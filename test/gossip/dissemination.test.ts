import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CounterMetrics, SeededRng } from '../../src/core/index.js';
import {
  Channel,
  type ClaimEntry,
  decode,
  encode,
  GossipChannels,
  GossipNode,
  MsgType,
  type Outbound,
  Ring,
  Status,
} from '../../src/gossip/index.js';
import { type KeyEntry, ringPosition } from '../../src/gossip/member.js';
import { codeOf } from './code-of.js';

function mk(name: string, generation = 1, config = {}, seed = 7) {
  const metrics = new CounterMetrics();
  const n = new GossipNode({ name, generation, rng: new SeededRng(seed), now: 0, metrics, config });
  return { n, metrics };
}

/** Every node joins every other, then all tick every 100 ms over a lossless FIFO network until `done`. */
function runCluster(nodes: GossipNode[], until: number, done: () => boolean, from = 0): number {
  const by = new Map(nodes.map((n) => [n.name, n]));
  const queue: Array<{ to: GossipNode; data: Uint8Array }> = [];
  const push = (out: Outbound[]) => {
    for (const o of out) {
      expect(o.data.length).toBeLessThanOrEqual(nodes[0].config.maxDatagramBytes);
      const to = by.get(o.to);
      if (to) queue.push({ to, data: o.data });
    }
  };
  if (from === 0)
    for (const a of nodes)
      for (const b of nodes)
        if (a !== b)
          push(a.handle(encode({ type: MsgType.join, sender: b.name, gen: b.generation, inc: 0 }), 0));
  let t = from;
  for (; t < until && !done(); t += 100) {
    for (const n of nodes) push(n.tick(t));
    while (queue.length > 0) {
      const m = queue.shift()!;
      push(m.to.handle(m.data, t));
    }
  }
  return t;
}

describe('byte budget: every value set accepts can travel', () => {
  it('a 900-byte value under a long key, from a long-named member with a µs generation and 20,000 versions, does not stall its later keys', () => {
    const A = 'a'.repeat(64);
    const B = 'b'.repeat(64);
    const gen = 1_700_000_000_000_000; // boot time in µs: an 8-byte varint
    const a = mk(A, gen).n;
    const b = mk(B, gen).n;
    for (let i = 0; i < 20_000; i++) a.set(Channel.state, 'x', Uint8Array.of(i & 0xff));
    // Either refused here, or it must reach the peer: it must not be accepted and then block every later key.
    const code = codeOf(() => a.set(Channel.state, 'k'.repeat(128), new Uint8Array(900).fill(9)));
    expect([undefined, 'E_TOO_LARGE']).toContain(code);
    a.set(Channel.state, 'after', Uint8Array.of(1));
    runCluster([a, b], 30_000, () => b.get(A, Channel.state, 'after') !== undefined);
    expect(b.get(A, Channel.state, 'after')).toEqual(Uint8Array.of(1));
    if (code === undefined) expect(b.get(A, Channel.state, 'k'.repeat(128))?.length).toBe(900);
    expect(b.stateHash).toBe(a.stateHash);
  });

  it('a key set accepts fits, with its delta, in the worst exchange any relay can send (longest names, largest numbers, a suspicion)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        fc.integer({ min: 0, max: 128 }),
        fc.integer({ min: 0, max: 900 }),
        fc.constantFrom(0, 200, 20_000),
        (nameLen, gen, keyLen, size, before) => {
          const name = 'n'.repeat(nameLen);
          const { n } = mk(name, gen);
          for (let i = 0; i < before; i++) n.set(Channel.state, 'x', Uint8Array.of(1));
          const key = 'k'.repeat(keyLen);
          const value = new Uint8Array(size);
          const code = codeOf(() => n.set(Channel.state, key, value));
          if (code !== undefined) {
            expect(code).toBe('E_TOO_LARGE');
            return;
          }
          const version = n.getEntry(name, Channel.state, key)!.version;
          const max = 2 ** 53 - 1;
          const k: KeyEntry = { channel: Channel.state, key, version, value };
          const claim: ClaimEntry = { name, gen, inc: max, status: Status.suspect, origin: 'o'.repeat(64) };
          const data = encode({
            type: MsgType.exchange,
            sender: 'r'.repeat(64),
            gen: max,
            inc: max,
            body: {
              hop: 2,
              digest: [],
              covered: [],
              requests: [],
              deltas: [{ claim, fromVersion: version - 1, keys: [k] }],
            },
          });
          expect(data.length).toBeLessThanOrEqual(n.config.maxDatagramBytes);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('setStateChunked with a key whose chunk names would be too long refuses before overwriting anything', () => {
    const a = mk('a').n;
    const ca = new GossipChannels(a);
    const key = 'q'.repeat(126); // `key#0`..`key#9` are 128 bytes, `key#10` would be 129
    const v1 = new Uint8Array(5000).fill(1);
    ca.setStateChunked(key, v1);
    expect(ca.stateChunked('a', key)).toEqual(v1);
    const before = a.view().find((m) => m.name === 'a')!.maxVersion;
    expect(codeOf(() => ca.setStateChunked(key, new Uint8Array(20_000).fill(2)))).toBe('E_TOO_LARGE');
    expect(a.view().find((m) => m.name === 'a')!.maxVersion).toBe(before);
    expect(ca.stateChunked('a', key)).toEqual(v1);
  });

  it('setStateChunked splits any value set could not carry whole, and it arrives (long names and keys)', () => {
    const A = 'a'.repeat(64);
    const a = mk(A, 2 ** 53 - 1).n;
    const b = mk('b'.repeat(64), 2 ** 53 - 1).n;
    const key = 'k'.repeat(120);
    const v = new Uint8Array(5000).map((_, i) => i * 7);
    new GossipChannels(a).setStateChunked(key, v);
    const cb = new GossipChannels(b);
    runCluster([a, b], 30_000, () => cb.stateChunked(A, key) !== undefined);
    expect(cb.stateChunked(A, key)).toEqual(v);
  });
});

describe('two members exchanging until quiescent (reference model: the writer’s own keys)', () => {
  it('end with identical state for random names, generations, keys and value sizes up to the limits', () => {
    const unit = fc.constantFrom('a', 'b', 'c', 'é', '#', '1');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40, unit }), { minLength: 2, maxLength: 3 }),
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        fc.array(
          fc.record({
            w: fc.nat(5),
            key: fc.string({ maxLength: 64, unit }),
            size: fc.integer({ min: 0, max: 900 }),
            fill: fc.nat(255),
          }),
          { maxLength: 25 },
        ),
        fc.nat(1000),
        (names, gen, writes, seed) => {
          const nodes = names.map((nm, i) => mk(nm, gen + i <= 2 ** 53 - 1 ? gen + i : i, {}, seed + i).n);
          // Reference model: per writer, key -> last accepted value.
          const model = new Map<string, Map<string, number[]>>(nodes.map((n) => [n.name, new Map()]));
          for (const x of writes) {
            const w = nodes[x.w % nodes.length];
            const v = new Uint8Array(x.size).fill(x.fill);
            if (codeOf(() => w.set(Channel.state, x.key, v)) === undefined)
              model.get(w.name)!.set(x.key, [...v]);
          }
          const t = runCluster(nodes, 60_000, () => nodes.every((n) => n.stateHash === nodes[0].stateHash));
          expect(t).toBeLessThan(60_000);
          for (const r of nodes)
            for (const [owner, keys] of model) {
              const got = new Map(r.entries(owner, Channel.state).map((e) => [e.key, [...e.value]]));
              expect(got).toEqual(keys);
            }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('bucket digests', () => {
  /** `sender` (unknown to the test's nodes otherwise) joins `n` and hands it its own keys 1..count. */
  function learn(n: GossipNode, sender: string, count: number, now: number): void {
    n.handle(encode({ type: MsgType.join, sender, gen: 1, inc: 0 }), now);
    n.handle(
      encode({
        type: MsgType.exchange,
        sender,
        gen: 1,
        inc: 0,
        body: {
          hop: 5,
          digest: [],
          covered: [],
          requests: [],
          deltas: [
            {
              claim: { name: sender, gen: 1, inc: 0, status: Status.alive },
              fromVersion: 0,
              keys: Array.from({ length: count }, (_, i) => ({
                channel: Channel.state,
                key: `k${i}`,
                version: i + 1,
                value: new Uint8Array(200).fill(i),
              })),
            },
          ],
        },
      }),
      now,
    );
  }

  it('a covered bucket lists every member in it, so the peer does not resend from version 0 what we already hold', () => {
    const config = { buckets: 1 };
    const { n: a, metrics: am } = mk('a', 1, config, 1);
    const { n: b, metrics: bm } = mk('b', 1, config, 2);
    a.handle(encode({ type: MsgType.join, sender: 'b', gen: 1, inc: 0 }), 0);
    b.handle(encode({ type: MsgType.join, sender: 'a', gen: 1, inc: 0 }), 0);
    learn(a, 'x', 3, 0);
    learn(a, 'y', 1, 0); // b lacks y: the digests differ
    learn(b, 'x', 3, 5000); // the same x, but recent at b (it rides in b's digests), old news at a
    expect(b.view().find((m) => m.name === 'x')?.maxVersion).toBe(3);
    const ab = new Map([
      ['a', a],
      ['b', b],
    ]);
    const resent: number[] = [];
    const queue: Array<{ to: GossipNode; data: Uint8Array }> = [];
    const push = (out: Outbound[]) => {
      for (const o of out) {
        const to = ab.get(o.to);
        if (to === undefined) continue;
        const m = decode(o.data, 1200);
        if (m.type === MsgType.exchange)
          for (const d of m.body.deltas)
            if (d.claim.name === 'x' && d.keys.length > 0) resent.push(d.fromVersion);
        queue.push({ to, data: o.data });
      }
    };
    for (let t = 5000; t < 8000; t += 100) {
      push(a.tick(t)); // only a starts exchanges: b's view of x is as recent as can be during the test
      while (queue.length > 0) {
        const m = queue.shift()!;
        push(m.to.handle(m.data, t));
      }
    }
    expect(b.liveness('y')).toBe('alive');
    expect(resent).toEqual([]);
    expect(am.get('duplicate_keys')).toBe(0);
    expect(bm.get('duplicate_keys')).toBe(0);
  });
});

describe('rumor batching', () => {
  it('a tombstone forwarded after the batching delay carries its remaining TTL, not the TTL it arrived with', () => {
    const { n } = mk('b');
    for (const s of ['a', 'c', 'd']) n.handle(encode({ type: MsgType.join, sender: s, gen: 1, inc: 0 }), 0);
    for (let t = 0; t <= 2000; t += 100) n.tick(t); // the joins' own rumors go out
    n.handle(
      encode({
        type: MsgType.rumor,
        sender: 'a',
        gen: 1,
        inc: 0,
        claims: [{ name: 'x', gen: 1, inc: 0, status: Status.dead, ttlMs: 60_000 }],
      }),
      2000,
    );
    const due = n.nextDeadline();
    expect(due).toBeGreaterThan(2000);
    const ttls = n.tick(due).flatMap((o) => {
      const m = decode(o.data, 1200);
      return m.type === MsgType.rumor ? m.claims.filter((c) => c.name === 'x').map((c) => c.ttlMs) : [];
    });
    expect(ttls.length).toBeGreaterThan(0);
    // Floored at each hop: nobody may forget later than the member it learned from.
    for (const ttl of ttls) expect(ttl).toBeLessThanOrEqual(60_000 - (due - 2000));
  });
});

describe('reading chunked state', () => {
  it('a `key#` entry that is no manifest of ours (garbage, an absurd length) reads as absent, never throws', () => {
    const { n } = mk('a');
    const ch = new GossipChannels(n);
    const leb = (x: number) => {
      const out: number[] = [];
      do {
        let b = x % 128;
        x = Math.floor(x / 128);
        if (x > 0) b |= 0x80;
        out.push(b);
      } while (x > 0);
      return out;
    };
    const manifests = [
      [0xff], // truncated varint
      [],
      [...leb(1), ...leb(2 ** 40), ...leb(1)], // one chunk, a terabyte long
      [...leb(2 ** 40), ...leb(10), ...leb(1)], // a trillion chunks
    ];
    for (const [i, bytes] of manifests.entries()) {
      n.set(Channel.state, `m${i}#0`, Uint8Array.of(1, 2, 3));
      n.set(Channel.state, `m${i}#`, Uint8Array.from(bytes));
      expect(codeOf(() => ch.stateChunked('a', `m${i}`))).toBeUndefined();
      expect(ch.stateChunked('a', `m${i}`)).toBeUndefined();
    }
  });
});

describe('monitoring ring', () => {
  it('monitors each live member from exactly min(monitors, live − 1) others: its predecessors, after joins and leaves', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        (names, liveMask, k, collide) => {
          const r = new Ring();
          const pos = (n: string) => (collide ? n.length : ringPosition(n)); // collide: equal positions
          for (const n of names) r.add(n, pos(n));
          for (const n of names) r.add(n, pos(n)); // idempotent
          const gone = names[0];
          r.remove(gone, pos(gone));
          r.remove(gone, pos(gone));
          expect(r.size).toBe(names.length - 1);
          const rest = names.slice(1);
          const live = new Set(rest.filter((_, i) => liveMask[i]));
          const isLive = (n: string) => live.has(n);
          for (const x of live) {
            const monitors = [...live].filter((m) => r.walk(m, pos(m), k, 1, isLive).includes(x));
            expect(monitors.sort()).toEqual(r.walk(x, pos(x), k, -1, isLive).sort());
            expect(monitors.length).toBe(Math.min(k, live.size - 1));
          }
          for (const m of rest) expect(r.walk(m, pos(m), 100, 1, () => true)).not.toContain(gone);
        },
      ),
      { numRuns: 300 },
    );
  });
});
