import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { encode, GossipNode, MsgType, type Outbound, Status } from '../../src/gossip/index.js';

/**
 * A member that refuted a suspicion the accuser never heard (a partition that starts one-way) ends up at a
 * higher incarnation than the one the accuser declared dead and later forgot. After the heal its datagrams
 * name (gen, inc > forgotten inc): reviveTombstone (tombstones.ts) only revives (gen, <= inc), so they are
 * dropped as from a stranger, for good, although a relayed claim at that incarnation would be accepted.
 */
describe('a forgotten member that refuted meanwhile', () => {
  it('is heard again first-hand after the heal (both sides see each other alive)', () => {
    const mk = (name: string, seeds: string[], seed: number) => {
      return new GossipNode({
        name,
        generation: 1,
        seeds,
        rng: new SeededRng(seed),
        now: 0,
        config: { tombstoneTtlMs: 20_000 },
      });
    };
    const nodes = new Map<string, GossipNode>([
      ['a', mk('a', [], 1)],
      ['b', mk('b', ['a'], 2)],
      ['c', mk('c', ['a'], 3)],
    ]);
    const gone = new Set<string>();
    /** Links that lose every datagram: "from>to". */
    const cut = new Set<string>();
    const queue: Array<{ from: string; to: string; data: Uint8Array }> = [];
    const push = (from: string, out: Outbound[]) => {
      for (const o of out)
        if (!gone.has(o.to) && !cut.has(`${from}>${o.to}`)) queue.push({ from, to: o.to, data: o.data });
    };
    const run = (from: number, to: number) => {
      for (let t = from; t < to; t += 100) {
        for (const [name, n] of nodes) if (!gone.has(name)) push(name, n.tick(t));
        while (queue.length > 0) {
          const m = queue.shift()!;
          push(m.to, nodes.get(m.to)!.handle(m.data, t));
        }
      }
    };
    const b = nodes.get('b')!;
    const c = nodes.get('c')!;
    run(0, 10_000);
    expect(b.liveness('c')).toBe('alive');
    expect(c.liveness('b')).toBe('alive');
    // The seed leaves for good: b and c are on their own.
    push('a', nodes.get('a')!.leave(10_000));
    gone.add('a');
    run(10_000, 12_000);
    // The partition starts one-way: c's datagrams to b are lost, b's to c arrive. b suspects c, c hears it
    // and refutes (inc 1), the refutation is lost, b declares c dead at inc 0.
    cut.add('c>b');
    run(12_000, 30_000);
    expect(b.liveness('c')).toBe('dead');
    expect(c.incarnation).toBeGreaterThan(0);
    expect(b.view().find((m) => m.name === 'c')!.inc).toBe(0);
    // Then both ways, long enough for both to forget the other's tombstone.
    cut.add('b>c');
    run(30_000, 100_000);
    expect(b.liveness('c')).toBe('unknown');
    expect(c.liveness('b')).toBe('unknown');
    // Heal.
    cut.clear();
    run(100_000, 160_000);
    // (Before the fix b drops every datagram of c as from a stranger: `drop_unknown_sender` counts them,
    // including the dead notice c sends b, so b never refutes either and c keeps b dead.)
    expect({ cAtB: b.liveness('c'), bAtC: c.liveness('b') }).toEqual({ cAtB: 'alive', bAtC: 'alive' });
  });

  it('a datagram from the forgotten member at a higher incarnation is heard, as one at the forgotten one is', () => {
    const mk = () => {
      const n = new GossipNode({
        name: 'b',
        generation: 1,
        rng: new SeededRng(1),
        now: 0,
        config: { tombstoneTtlMs: 10_000 },
      });
      for (const who of ['c', 'd']) n.handle(encode({ type: MsgType.join, sender: who, gen: 1, inc: 0 }), 0);
      // c declared dead at inc 0 (by d), then forgotten.
      n.handle(
        encode({
          type: MsgType.rumor,
          sender: 'd',
          gen: 1,
          inc: 0,
          claims: [{ name: 'c', gen: 1, inc: 0, status: Status.dead, ttlMs: 10_000 }],
        }),
        0,
      );
      for (let t = 0; t <= 12_000; t += 100) n.tick(t);
      expect(n.liveness('c')).toBe('unknown');
      return n;
    };
    const heartbeat = (inc: number) => encode({ type: MsgType.heartbeat, sender: 'c', gen: 1, inc, seq: 99 });
    // c at the forgotten incarnation: its tombstone comes back and c is told it is dead (so it refutes).
    const same = mk();
    const told = same.handle(heartbeat(0), 12_000);
    expect(same.liveness('c')).toBe('dead');
    expect(told.map((o) => o.to)).toContain('c');
    // c at a higher incarnation (it refuted a suspicion b never heard of): first-hand proof that c is alive
    // at an incarnation nobody declared dead. A relayed claim saying so would be accepted; c itself is not.
    const higher = mk();
    higher.handle(heartbeat(1), 12_000);
    expect(higher.liveness('c')).not.toBe('unknown');
  });
});

describe('a member forgotten after it left', () => {
  it('is not revived by a late datagram of the life that left (it would be gossiped to as dead for a day)', () => {
    const n = new GossipNode({
      name: 'b',
      generation: 1,
      rng: new SeededRng(1),
      now: 0,
      config: { tombstoneTtlMs: 10_000 },
    });
    n.handle(encode({ type: MsgType.join, sender: 'c', gen: 1, inc: 0 }), 0);
    n.handle(
      encode({
        type: MsgType.rumor,
        sender: 'c',
        gen: 1,
        inc: 0,
        claims: [{ name: 'c', gen: 1, inc: 0, status: Status.left, ttlMs: 10_000 }],
      }),
      0,
    );
    expect(n.liveness('c')).toBe('left');
    for (let t = 0; t <= 12_000; t += 100) n.tick(t);
    expect(n.liveness('c')).toBe('unknown');
    // A datagram of that life, delayed in the network (or replayed): the member meant to go.
    const told = n.handle(encode({ type: MsgType.heartbeat, sender: 'c', gen: 1, inc: 0, seq: 7 }), 12_000);
    expect(n.liveness('c')).toBe('unknown');
    expect(told.map((o) => o.to)).not.toContain('c');
    // Its next life is heard as any newcomer is, through a join.
    n.handle(encode({ type: MsgType.join, sender: 'c', gen: 2, inc: 0 }), 12_100);
    expect(n.liveness('c')).toBe('alive');
  });
});
