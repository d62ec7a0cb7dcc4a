import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import {
  FAULT_KINDS,
  installSchedule,
  parseFaultKinds,
  randomSchedule,
  Simulator,
} from '../../src/sim/index.js';

describe('fault schedules', () => {
  it('are a pure function of the stream and options', () => {
    const o = { nodes: 7, durationMs: 60_000, kinds: FAULT_KINDS, meanGapMs: 1000, meanDurationMs: 500 };
    const a = randomSchedule(new SeededRng(9), o);
    expect(randomSchedule(new SeededRng(9), o)).toEqual(a);
    expect(randomSchedule(new SeededRng(10), o)).not.toEqual(a);
    expect(new Set(a.map((f) => f.kind)).size).toBe(FAULT_KINDS.length);
  });

  it('parse none, all and lists; refuse unknown kinds', () => {
    expect(parseFaultKinds('none')).toEqual([]);
    expect(parseFaultKinds('all')).toEqual([...FAULT_KINDS]);
    expect(parseFaultKinds('crash,loss')).toEqual(['crash', 'loss']);
    expect(() => parseFaultKinds('crash,meteor')).toThrow(/meteor/);
  });

  it('every installed fault is undone when it ends', () => {
    const sim = new Simulator({ seed: 1 });
    for (let i = 0; i < 6; i++) sim.addNode(`n${i}`, { deliver() {} });
    const faults = randomSchedule(new SeededRng(3), {
      nodes: 6,
      durationMs: 30_000,
      kinds: FAULT_KINDS,
      meanGapMs: 500,
      meanDurationMs: 400,
    });
    let started = 0;
    let ended = 0;
    installSchedule(sim, faults, { onStart: () => started++, onEnd: () => ended++ });
    sim.runUntil(60_000);
    expect(started).toBe(faults.length);
    expect(ended).toBe(faults.length);
    expect(sim.activePartitions).toBe(0);
    for (let i = 0; i < 6; i++) expect(sim.status(i)).toBe('up');
    expect(sim.link.loss).toBe(0);
    expect(sim.link.duplicate).toBe(0);
    expect(sim.localTime(0)).toBe(sim.now);
  });

  it('overlapping link faults of one kind end with the link restored (found by the Raft campaign)', () => {
    const sim = new Simulator({ seed: 1 });
    sim.addNode('a', { deliver() {} });
    sim.addNode('b', { deliver() {} });
    const loss = (atMs: number, durationMs: number, amount: number) => ({
      atMs,
      kind: 'loss' as const,
      durationMs,
      nodes: [],
      others: [],
      amount,
    });
    // A: [0, 100) at 20 %, B: [50, 200) at 10 %. While both are on, the worse one applies.
    installSchedule(sim, [loss(0, 100, 0.2), loss(50, 150, 0.1)]);
    sim.runUntil(75);
    expect(sim.link.loss).toBe(0.2);
    sim.runUntil(150);
    expect(sim.link.loss).toBe(0.1);
    sim.runUntil(300);
    expect(sim.link.loss).toBe(0);
  });
});
