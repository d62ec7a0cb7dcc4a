import { afterEach, describe, expect, it } from 'vitest';
import { CoordinatorGossip } from '../../src/node/coordinator-gossip.js';
import { freePorts } from '../../src/node/processes.js';
import { FAST } from '../support/gossip.js';
import { waitUntil } from '../support/wait.js';

const running = new Set<CoordinatorGossip>();
afterEach(async () => {
  await Promise.all([...running].map((g) => g.stop().catch(() => {})));
  running.clear();
});

describe('GET /agents failover.list_mismatch', () => {
  it('a member that left is no longer named as gossiping here (list_mismatch.unknown empties once it has left)', async () => {
    const ports = await freePorts(3);
    const http = new Map(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }]));
    const two = new Map([...http].filter(([id]) => id !== 3));
    const start = async (self: number, list: typeof http) => {
      const g = await CoordinatorGossip.start({ self, http: list, config: FAST, tickMs: 10 });
      running.add(g);
      return g;
    };
    const g1 = await start(1, two);
    await start(2, two);
    // A third coordinator the list of 1 and 2 does not name (started by mistake, then shut down cleanly).
    const g3 = await start(3, http);
    const name3 = g3.member.name;
    await waitUntil(() => g1.mismatch().unknown.includes(name3), 5000);
    await g3.leave();
    running.delete(g3);
    await waitUntil(() => g1.member.members().some((m) => m.name === name3 && m.status === 'left'), 5000);
    // Give it a couple of gossip rounds: the member is gone; it gossips nothing here any more.
    await new Promise((r) => setTimeout(r, 1000));
    expect(g1.mismatch()).toEqual({ coordinators: [], unknown: [] });
  }, 10_000);
});
