import { describe, expect, it } from 'vitest';
import { EventQueue, type SimEvent, Simulator } from '../../src/sim/index.js';

describe('disk model', () => {
  it('a crash loses exactly the writes no completed sync covered', () => {
    const sim = new Simulator({ seed: 1, syncLatencyMs: 5 });
    let crashed = 0;
    sim.addNode('a', { deliver() {}, crash: () => crashed++ });
    const disk = sim.disk(0);
    disk.write('a', 1);
    disk.write('b', 2);
    let synced = false;
    disk.sync(() => {
      synced = true;
    });
    disk.write('c', 3); // after the sync was issued: not covered by it
    sim.runFor(10);
    expect(synced).toBe(true);
    disk.write('d', 4);
    disk.delete('a'); // an unsynced delete is lost too
    expect(disk.read('a')).toBeUndefined();
    sim.crash(0);
    expect(crashed).toBe(1);
    expect(disk.keys()).toEqual(['a', 'b']);
    expect(disk.read('a')).toBe(1);
    expect(disk.stats.lostOnCrash).toBe(3);
  });

  it('a sync in flight when the node crashes makes nothing durable and never calls back', () => {
    const sim = new Simulator({ seed: 1, syncLatencyMs: 5 });
    sim.addNode('a', { deliver() {} });
    const disk = sim.disk(0);
    disk.write('k', 1);
    let called = false;
    disk.sync(() => {
      called = true;
    });
    sim.runFor(2);
    sim.crash(0);
    sim.runFor(10);
    sim.restart(0);
    sim.runFor(10);
    expect(called).toBe(false);
    expect(disk.read('k')).toBeUndefined();
  });

  it('a stall delays sync completion', () => {
    const sim = new Simulator({ seed: 1, syncLatencyMs: 1 });
    sim.addNode('a', { deliver() {} });
    const disk = sim.disk(0);
    disk.stall(100);
    let at = -1;
    disk.write('k', 1);
    disk.sync(() => {
      at = sim.now;
    });
    sim.runFor(200);
    expect(at).toBe(101);
  });
});

describe('node lifecycle', () => {
  it('a crashed node drops inbound messages and its timers; a restart starts clean', () => {
    const sim = new Simulator({ seed: 2 });
    const got: number[] = [];
    let timerFired = false;
    let restarted = 0;
    sim.addNode('a', { deliver() {} });
    sim.addNode('b', { deliver: (_f, p) => got.push(p as number), restart: () => restarted++ });
    sim.setTimer(1, 50, () => {
      timerFired = true;
    });
    sim.crash(1);
    sim.send(0, 1, 1, 'm', 1);
    sim.runFor(100);
    expect(timerFired).toBe(false);
    expect(got).toEqual([]);
    expect(sim.accounting.dropped.down).toBe(1);
    sim.restart(1);
    sim.send(0, 1, 2, 'm', 1);
    sim.runFor(100);
    expect(restarted).toBe(1);
    expect(got).toEqual([2]);
  });

  it('a paused node processes nothing until the pause ends, then everything in order', () => {
    const sim = new Simulator({ seed: 3 });
    const log: string[] = [];
    sim.addNode('a', { deliver() {} });
    sim.addNode('b', { deliver: (_f, p) => log.push(`${Math.round(sim.now)}:msg${p}`) });
    sim.pause(1, 2000);
    sim.send(0, 1, 1, 'm', 1);
    sim.setTimer(1, 10, () => log.push(`${Math.round(sim.now)}:timer`));
    sim.send(0, 1, 2, 'm', 1);
    sim.runFor(1999);
    expect(log).toEqual([]);
    expect(sim.status(1)).toBe('paused');
    sim.runFor(100);
    // Deferred in the order they were due: both messages (~0.5 ms) before the 10 ms timer.
    expect(log).toEqual(['2000:msg1', '2000:msg2', '2000:timer']);
  });

  it('clock skew and drift change the local clock and timer rates', () => {
    const sim = new Simulator({ seed: 4 });
    sim.addNode('a', { deliver() {} });
    sim.setClock(0, 500, 0.1);
    sim.runFor(1000);
    expect(sim.localTime(0)).toBeCloseTo(500 + 1100, 6);
    let firedAt = 0;
    sim.setTimer(0, 110, () => {
      firedAt = sim.now;
    });
    sim.runFor(200);
    expect(firedAt).toBeCloseTo(1100, 6);
  });
});

describe('event queue', () => {
  it('orders by time and, at equal times, by insertion', () => {
    const q = new EventQueue();
    const mk = (t: number, node: number): SimEvent => ({
      t,
      seq: 0,
      kind: 0,
      node,
      epoch: 0,
      from: 0,
      bytes: 0,
      type: '',
      payload: null,
      fn: null,
      deferKey: Number.NaN,
    });
    const times = [5, 1, 3, 1, 5, 0, 3, 1];
    for (const [i, t] of times.entries()) q.push(mk(t, i));
    const out: Array<[number, number]> = [];
    for (let e = q.pop(); e; e = q.pop()) out.push([e.t, e.node]);
    expect(out).toEqual([
      [0, 5],
      [1, 1],
      [1, 3],
      [1, 7],
      [3, 2],
      [3, 6],
      [5, 0],
      [5, 4],
    ]);
  });
});
