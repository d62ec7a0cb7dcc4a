import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/gossip/index.js';
import { GossipCluster, LivenessChecker, runPartition } from '../../src/sim/gossip/index.js';

function formed(members: number, seed: number, loss = 0): GossipCluster {
  const c = new GossipCluster({ members, seed, loss });
  c.bootAll();
  expect(c.runUntil(() => c.converged(), 60_000, 100)).not.toBeNull();
  return c;
}

describe('hubs', () => {
  // All of a member's ring monitors failing with it (a whole category's agents at once) leaves nobody to
  // notice: without a hub, the lone survivor only learns of the members it monitors itself.
  const suspectedBySurvivor = (hubs: string[]) => {
    const c = new GossipCluster({ members: 20, seed: 31, config: { monitors: 3, hubs } });
    c.bootAll();
    expect(c.runUntil(() => c.converged(), 60_000, 100)).not.toBeNull();
    for (let i = 1; i < 20; i++) c.crash(i);
    c.sim.runFor(7000);
    return c.names.filter((n, i) => i > 0 && c.nodes[0]!.liveness(n) !== 'alive').length;
  };

  it('a hub watches every member: it suspects all 19 crashed members within 7 s', () => {
    const names = new GossipCluster({ members: 1, seed: 1 }).names;
    expect(suspectedBySurvivor([names[0]])).toBe(19);
  });

  it('without one, the survivor suspects only the members it monitors itself', () => {
    expect(suspectedBySurvivor([])).toBe(3);
  });
});

describe('gossip cluster in the simulator', () => {
  it('forms through the seeds and spreads a key to every member within a few rounds', () => {
    const c = formed(60, 11);
    const got = new Set<number>();
    c.onEvent = (obs, e) => {
      if (e.kind === 'key' && e.key === 'hello') got.add(obs);
    };
    c.nodes[42]!.set(Channel.state, 'hello', Uint8Array.of(1, 2, 3));
    const t0 = c.sim.now;
    expect(c.runUntil(() => got.size === 60, 15_000, 50)).not.toBeNull();
    expect(c.sim.now - t0).toBeLessThan(8000);
    expect(c.nodes[7]!.get(c.names[42], Channel.state, 'hello')).toEqual(Uint8Array.of(1, 2, 3));
    expect(c.converged()).toBe(true);
  });

  it('marks a crashed member dead everywhere, then readmits its restart as a new generation', () => {
    const c = formed(50, 12);
    const victim = 20;
    const name = c.names[victim];
    const gen = c.nodes[victim]!.generation;
    c.crash(victim);
    const allDead = () => c.nodes.every((n, i) => i === victim || !n || n.liveness(name) === 'dead');
    const t0 = c.sim.now;
    expect(c.runUntil(allDead, 20_000, 50)).not.toBeNull();
    expect(c.sim.now - t0).toBeLessThan(10_000);
    c.restart(victim);
    expect(c.runUntil(() => c.converged(), 20_000, 100)).not.toBeNull();
    expect(c.nodes[victim]!.generation).toBe(gen + 1);
    expect(c.nodes[0]!.liveness(name)).toBe('alive');
  });

  it('has no false deaths at 10 % loss and survives a 2 s pause', () => {
    const c = formed(40, 13, 0.1);
    const checker = new LivenessChecker(c);
    c.onEvent = (obs, e) => checker.onEvent(obs, e);
    c.sim.pause(5, 2000);
    c.sim.runFor(120_000);
    expect(checker.falseDeaths).toBe(0);
    expect(checker.resurrections).toBe(0);
    expect(c.converged()).toBe(true);
  });

  it('reconverges after a 30 s partition heals, with no resurrection', () => {
    const r = runPartition({ members: 40, seed: 14, split: 0.5, partitionMs: 30_000 });
    expect(r.deaths_declared_during_partition).toBeGreaterThan(0);
    expect(r.reconverge_ms).not.toBeNull();
    expect(r.reconverge_ms!).toBeLessThan(10_000);
    expect(r.resurrections).toBe(0);
    expect(r.converged_10s_later).toBe(true);
  });

  it('reconverges after a partition that outlived the tombstones, between two sides larger than the fanout', () => {
    // Each side forgets the other; with fanout or more live members on each, nobody sends joins, and there are
    // no dead left to gossip to. Only gossip to the forgotten (failed, not left) brings them back together.
    const r = runPartition({
      members: 12,
      seed: 3,
      split: 0.5,
      partitionMs: 60_000,
      config: { tombstoneTtlMs: 20_000 },
    });
    expect(r.deaths_declared_during_partition).toBeGreaterThan(0);
    expect(r.reconverge_ms).not.toBeNull();
    expect(r.reconverge_ms!).toBeLessThan(10_000);
    expect(r.resurrections).toBe(0);
    expect(r.regressions).toBe(0);
    expect(r.converged_10s_later).toBe(true);
  });

  it('is deterministic: same seed, same trace', () => {
    const a = runPartition({ members: 20, seed: 5, split: 0.3, partitionMs: 10_000 });
    const b = runPartition({ members: 20, seed: 5, split: 0.3, partitionMs: 10_000 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});
