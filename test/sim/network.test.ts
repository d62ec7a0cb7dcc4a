import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/sim/index.js';

/** A sink cluster: counts what each node receives, by sender. */
function cluster(n: number, seed: number, link = {}) {
  const sim = new Simulator({ seed, link });
  const got: number[][] = Array.from({ length: n }, () => new Array(n).fill(0));
  for (let i = 0; i < n; i++) {
    const self = i;
    sim.addNode(`n${i}`, {
      deliver(from) {
        got[self][from]++;
      },
    });
  }
  return { sim, got };
}

/** |observed − expected| within `z` standard deviations of a binomial(n, p). */
function withinBinomial(observed: number, n: number, p: number, z = 4) {
  const sd = Math.sqrt(n * p * (1 - p));
  return Math.abs(observed - n * p) <= z * sd;
}

describe('network model', () => {
  it('loses messages at the configured rate over 10,000 messages', () => {
    const { sim, got } = cluster(2, 11, { loss: 0.2 });
    for (let i = 0; i < 10_000; i++) sim.send(0, 1, i, 'm', 10);
    sim.runFor(10_000);
    expect(got[1][0] + sim.accounting.dropped.loss).toBe(10_000);
    expect(withinBinomial(sim.accounting.dropped.loss, 10_000, 0.2)).toBe(true);
  });

  it('duplicates messages at the configured rate over 10,000 messages', () => {
    const { sim, got } = cluster(2, 12, { duplicate: 0.1 });
    for (let i = 0; i < 10_000; i++) sim.send(0, 1, i, 'm', 10);
    sim.runFor(10_000);
    expect(got[1][0]).toBe(10_000 + sim.accounting.duplicated);
    expect(withinBinomial(sim.accounting.duplicated, 10_000, 0.1)).toBe(true);
  });

  it('keeps each link FIFO without reordering, and reorders when asked', () => {
    for (const [reorder, expectInOrder] of [
      [0, true],
      [0.3, false],
    ] as const) {
      const sim = new Simulator({ seed: 3, link: { reorder } });
      const seen: number[] = [];
      sim.addNode('a', { deliver() {} });
      sim.addNode('b', { deliver: (_f, p) => seen.push(p as number) });
      for (let i = 0; i < 1000; i++) sim.send(0, 1, i, 'm', 10);
      sim.runFor(10_000);
      const inOrder = seen.every((v, i) => i === 0 || seen[i - 1] < v);
      expect(seen.length).toBe(1000);
      expect(inOrder).toBe(expectInOrder);
    }
  });

  const pairs = (n: number) => {
    const out: Array<[number, number]> = [];
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b) out.push([a, b]);
    return out;
  };

  function reachability(sim: Simulator, got: number[][], n: number): boolean[][] {
    for (const row of got) row.fill(0);
    for (const [a, b] of pairs(n)) sim.send(a, b, 0, 'probe', 1);
    sim.runFor(1000);
    return got.map((row) => row.map((c) => c > 0));
  }

  it('symmetric partition cuts both directions between sides and heals', () => {
    const { sim, got } = cluster(4, 5);
    const p = sim.partition({
      kind: 'symmetric',
      sides: [
        [0, 1],
        [2, 3],
      ],
    });
    const r = reachability(sim, got, 4);
    for (const [a, b] of pairs(4)) {
      const sameSide = a < 2 === b < 2;
      expect(r[b][a], `${a}→${b}`).toBe(sameSide);
    }
    sim.heal(p);
    const healed = reachability(sim, got, 4);
    for (const [a, b] of pairs(4)) expect(healed[b][a]).toBe(true);
  });

  it('asymmetric partition cuts exactly from→to', () => {
    const { sim, got } = cluster(3, 6);
    sim.partition({ kind: 'asymmetric', from: [0], to: [1] });
    const r = reachability(sim, got, 3);
    for (const [a, b] of pairs(3)) expect(r[b][a], `${a}→${b}`).toBe(!(a === 0 && b === 1));
    sim.heal();
    expect(reachability(sim, got, 3)[1][0]).toBe(true);
  });

  it('partial partition lets the bridge see both sides', () => {
    const { sim, got } = cluster(5, 7);
    sim.partition({
      kind: 'partial',
      sides: [
        [0, 1],
        [3, 4],
      ],
      bridges: [2],
    });
    const r = reachability(sim, got, 5);
    for (const [a, b] of pairs(5)) {
      const side = (x: number) => (x < 2 ? 0 : x > 2 ? 1 : -1);
      const open = side(a) === -1 || side(b) === -1 || side(a) === side(b);
      expect(r[b][a], `${a}→${b}`).toBe(open);
    }
    sim.heal();
    for (const [a, b] of pairs(5)) expect(reachability(sim, got, 5)[b][a]).toBe(true);
  });

  it('counts messages and bytes per node, per link and per type', () => {
    const { sim } = cluster(3, 8);
    sim.send(0, 1, 0, 'x', 100);
    sim.send(0, 2, 0, 'y', 50);
    sim.send(1, 2, 0, 'y', 25);
    sim.runFor(100);
    const a = sim.accounting;
    expect(a.sentBytes[0]).toBe(150);
    expect(a.recvMessages[2]).toBe(2);
    expect(a.link(0, 2)).toEqual({ messages: 1, bytes: 50 });
    expect(a.summary().by_type).toEqual({ x: { messages: 1, bytes: 100 }, y: { messages: 2, bytes: 75 } });
  });
});
