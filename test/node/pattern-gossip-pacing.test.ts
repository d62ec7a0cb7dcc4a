import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { GossipNode } from '../../src/gossip/index.js';
import type { GossipMember } from '../../src/node/gossip-member.js';
import { PatternGossip } from '../../src/node/pattern-gossip.js';
import type { Pattern } from '../../src/swarm/agent/index.js';

afterEach(() => {
  vi.useRealTimers();
});

const patterns = (n: number): Pattern[] =>
  Array.from({ length: n }, (_, i) => ({ origin: 'agent-x', hi: 0, lo: i, action: i % 5, q: i / 1000 }));

describe('pattern broadcasts paced to a quarter of the ring per gossip interval', () => {
  it('never writes more than patternSlots / 4 broadcasts within one gossip interval', () => {
    vi.useFakeTimers();
    const core = new GossipNode({ name: '127.0.0.1:7001', generation: 1, rng: new SeededRng(1), now: 0 });
    const member = { name: core.name, core, subscribe: (l: never) => core.subscribe(l) };
    const writes: number[] = [];
    core.subscribe((e) => {
      if (e.kind === 'key' && e.channel === 'pattern') writes.push(Date.now());
    });
    const pg = new PatternGossip(member as unknown as GossipMember, { isPeer: () => true });
    const interval = core.config.gossipIntervalMs; // 1000
    const perInterval = core.config.patternSlots / 4; // 2
    // A backlog published a moment before the budget's timer fires.
    vi.advanceTimersByTime(interval - 1);
    pg.publish(patterns(400));
    vi.advanceTimersByTime(5 * interval);
    pg.stop();
    // The most broadcasts written in any window of one gossip interval.
    let most = 0;
    for (const t of writes) most = Math.max(most, writes.filter((u) => u >= t && u < t + interval).length);
    // With 4 in one interval, the 8-slot ring is overwritten 3 intervals after a write, not 4.
    expect(most).toBeLessThanOrEqual(perInterval);
  });
});
