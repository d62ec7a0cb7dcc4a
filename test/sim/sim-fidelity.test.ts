import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/sim/index.js';

/**
 * The simulator's faults as documented (session 24, from a review: each failed before).
 */
describe('disk, pause and clock fidelity', () => {
  it('a pause does not hold back the device: a sync issued before it is durable on device time', () => {
    // docs/simulator.md, disk: "a write is durable only once a sync issued after it completes (syncLatencyMs,
    // plus stall(ms), on device time)". A paused process (SIGSTOP, GC) does not stop its disk: the fsync
    // issued before the pause completes 1 ms later, and a crash during the pause must not lose the write.
    const sim = new Simulator({ seed: 1, syncLatencyMs: 1 });
    sim.addNode('a', { deliver() {} });
    const disk = sim.disk(0);
    disk.write('vote', 'term-7');
    disk.sync();
    sim.pause(0, 100);
    sim.runFor(50);
    expect(disk.readDurable('vote')).toBe('term-7');
    sim.crash(0);
    expect(disk.read('vote')).toBe('term-7');
  }, 10_000);

  it('a disk stall holds a sync that is in flight when it begins', () => {
    // simulator.ts deviceTimer: "a device's latency does not follow the node's clock drift: the disk's syncs,
    // so that a stall holds every sync until it ends". A sync in flight when the device stalls completes on
    // schedule, in the middle of the stall.
    const sim = new Simulator({ seed: 1, syncLatencyMs: 10 });
    sim.addNode('a', { deliver() {} });
    const disk = sim.disk(0);
    let doneAt = -1;
    disk.write('k', 'v');
    disk.sync(() => {
      doneAt = sim.now;
    });
    sim.runFor(5);
    disk.stall(100); // the device stalls from 5 to 105 ms
    sim.runFor(200);
    expect(doneAt).toBeGreaterThanOrEqual(105);
  }, 10_000);
});

describe('seeds', () => {
  it('seeds that differ above 32 bits give different traces (the simulator accepts any integer seed)', () => {
    // Simulator validates only Number.isInteger(seed); SeededRng uses seed | 0 and deriveSeed seed >>> 0, so
    // seed s and s + 2^32 are the same run (docs: "different seeds → different traces").
    const run = (seed: number) => {
      const sim = new Simulator({ seed });
      sim.addNode('a', { deliver() {} });
      sim.addNode('b', { deliver() {} });
      for (let i = 0; i < 20; i++) sim.send(0, 1, i, 'm', 1);
      sim.runFor(100);
      return sim.traceHash();
    };
    expect(run(5)).not.toBe(run(6)); // the trace does see the seed
    expect(run(5 + 2 ** 32)).not.toBe(run(5));
  }, 10_000);
});
