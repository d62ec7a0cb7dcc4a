import { describe, expect, it } from 'vitest';
import { FaultLedger } from '../../src/sim/swarm/fault-injection.js';

describe('the fault ledger under overlapping crashes of one agent', () => {
  it('a second crash fault on a crashed agent keeps the first crash time and its detection', () => {
    const l = new FaultLedger(4);
    l.crashStarts(2, 1000, false);
    l.detectedCrash.add(2); // the gossip core suspected it
    l.crashStarts(2, 3000, true); // another crash fault takes the (already down) agent
    expect(l.crashedAt.get(2)).toBe(1000);
    expect(l.detectedCrash.has(2)).toBe(true);
    l.crashEnds(2, false, true); // the first fault ends: the other still holds it down
    expect(l.crashedAt.get(2)).toBe(1000);
    l.crashEnds(2, true, true); // the last one ends: the agent restarts, its crash was detected
    expect(l.crashedAt.has(2)).toBe(false);
    expect(l.crashesRecoveredUndetected).toBe(0);
  });

  it('a crash that ends in a restart before any detection is counted once', () => {
    const l = new FaultLedger(4);
    l.crashStarts(1, 0, false);
    l.crashStarts(1, 500, true);
    l.crashEnds(1, false, true);
    expect(l.crashesRecoveredUndetected).toBe(0);
    l.crashEnds(1, true, true);
    expect(l.crashesRecoveredUndetected).toBe(1);
  });
});
