import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/sim/index.js';

/**
 * Review (simulator core): what a pause holds back must run in the order it was due (docs/simulator.md,
 * "node lifecycle"), links stay FIFO without `reorder` (network row), and a crash drops inbound traffic.
 */
describe('pause semantics', () => {
  it('a pause extended while events wait keeps them in due order (link FIFO, timers)', () => {
    const sim = new Simulator({ seed: 1 });
    const got: string[] = [];
    sim.addNode('a', { deliver() {} });
    sim.addNode('b', { deliver: (_f, p) => got.push(p as string) });
    sim.setTimer(1, 10, () => got.push('timer@10'));
    sim.pause(1, 50); // until 50
    sim.send(0, 1, 'm1', 'm', 1); // arrives ~0.5 ms: deferred to 50
    sim.runFor(30);
    sim.pause(1, 50); // extended: until 80 (overlapping pause faults do this)
    sim.send(0, 1, 'm2', 'm', 1); // arrives ~30.5 ms: deferred to 80
    sim.setTimer(1, 10, () => got.push('timer@40')); // due at 40: deferred to 80
    sim.runFor(100);
    // Due order: m1 (~0.5 ms), timer@10 (10), m2 (~30.5), timer@40 (40): all run at 80, in that order.
    expect(got).toEqual(['m1', 'timer@10', 'm2', 'timer@40']);
  });

  it('messages held by a pause are not handed to the next incarnation after a crash (nor behind newer ones)', () => {
    const sim = new Simulator({ seed: 1 });
    const got: string[] = [];
    sim.addNode('a', { deliver() {} });
    sim.addNode('b', { deliver: (_f, p) => got.push(p as string) });
    sim.pause(1, 100);
    sim.send(0, 1, 'old', 'm', 1); // reaches the paused process at ~0.5 ms
    sim.runFor(20);
    sim.crash(1); // the process dies with what it was holding
    sim.runFor(10);
    sim.restart(1);
    sim.runFor(10);
    sim.send(0, 1, 'new', 'm', 1); // same link, sent later
    sim.runFor(200);
    // Either 'old' died with the crashed process, or the link is FIFO: never 'new' then 'old'.
    expect(got).not.toContain('old');
    expect(got).toEqual(['new']);
  });
});
