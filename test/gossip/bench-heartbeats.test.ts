import { describe, expect, it, vi } from 'vitest';
import type { CounterMetrics } from '../../src/core/index.js';
import { GossipNode } from '../../src/gossip/index.js';
import { benchGossip } from '../../src/sim/gossip/bench.js';

/** Runs the bench with small sizes and returns the one core it drove. */
function benchedNode(): GossipNode {
  const seen = new Set<GossipNode>();
  const orig = GossipNode.prototype.handle;
  const spy = vi.spyOn(GossipNode.prototype, 'handle').mockImplementation(function (
    this: GossipNode,
    data: Uint8Array,
    now: number,
  ) {
    seen.add(this);
    return orig.call(this, data, now);
  });
  try {
    benchGossip({ members: 40, messages: 1000, repeat: 1 });
  } finally {
    spy.mockRestore();
  }
  expect(seen.size).toBe(1);
  return [...seen][0];
}

describe('elex bench gossip', () => {
  it('core_messages_per_s.heartbeat and the idle mix time heartbeats the core takes in, not duplicates it drops', () => {
    // The heartbeat figure claims decode + state update per heartbeat (docs/gossip.md: "heartbeats 12,655,104/s").
    // Every timed heartbeat carries seq 1, so after each monitored member's first one the failure detector
    // discards them as duplicates (`heartbeat` → `duplicate_heartbeats`), never recording an arrival.
    const node = benchedNode();
    const m = node.metrics as CounterMetrics;
    expect(m.get('duplicate_heartbeats')).toBe(0);
  });
});
