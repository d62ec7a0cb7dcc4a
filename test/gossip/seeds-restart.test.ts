import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { GossipNode, type Outbound } from '../../src/gossip/index.js';

/**
 * (Session 24, from a review.) The seeds restart (new generations) while none of them is up to be joined through: they join each other
 * and form an island. Every other member keeps the seeds' old lives as dead tombstones and gossips to them
 * (gossip to the dead, anti-entropy.ts `gossipRound`), but a restarted seed drops those SYNs as from an
 * unknown sender (node.ts `handle`: `drop_unknown_sender`, only its own seeds are admitted unasked), and the
 * others sent no join because each still knows `fanout` live members (`live < c.fanout`): the cluster stayed
 * split for good. Now gossip to a dead seed comes with a join.
 */
describe('seeds that restart together', () => {
  it('are heard again by the members that kept running (and hear them)', () => {
    const seeds = ['s0', 's1'];
    const gens = new Map<string, number>();
    const mk = (name: string, now: number) => {
      const gen = (gens.get(name) ?? 0) + 1;
      gens.set(name, gen);
      return new GossipNode({
        name,
        generation: gen,
        seeds,
        rng: new SeededRng(name.charCodeAt(1) * 31 + gen),
        now,
      });
    };
    const names = ['s0', 's1', 'a', 'b', 'c', 'd'];
    const nodes = new Map<string, GossipNode>(names.map((n) => [n, mk(n, 0)]));
    const down = new Set<string>();
    const queue: Array<{ to: string; data: Uint8Array }> = [];
    const push = (out: Outbound[]) => {
      for (const o of out) if (nodes.has(o.to) && !down.has(o.to)) queue.push({ to: o.to, data: o.data });
    };
    const run = (from: number, to: number) => {
      for (let t = from; t < to; t += 100) {
        for (const [name, n] of nodes) if (!down.has(name)) push(n.tick(t));
        while (queue.length > 0) {
          const m = queue.shift()!;
          if (!down.has(m.to)) push(nodes.get(m.to)!.handle(m.data, t));
        }
      }
    };
    run(0, 15_000);
    for (const x of names)
      for (const y of names) if (x !== y) expect(nodes.get(x)!.liveness(y)).toBe('alive');
    // Both seeds crash, and come back 10 s later as new generations (a coordinator host rebooted).
    down.add('s0');
    down.add('s1');
    run(15_000, 25_000);
    nodes.set('s0', mk('s0', 25_000));
    nodes.set('s1', mk('s1', 25_000));
    down.clear();
    run(25_000, 120_000);
    const a = nodes.get('a')!;
    const s0 = nodes.get('s0')!;
    expect({ s0AtA: a.liveness('s0'), aAtS0: s0.liveness('a') }).toEqual({ s0AtA: 'alive', aAtS0: 'alive' });
  }, 60_000);
});
