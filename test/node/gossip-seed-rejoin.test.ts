import { afterEach, describe, expect, it } from 'vitest';
import { GossipMember } from '../../src/node/gossip-member.js';
import { FAST } from '../support/gossip.js';
import { waitUntil } from '../support/wait.js';

const running: GossipMember[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

const start = async (port: number, seeds: string[]) => {
  const m = await GossipMember.start({ listen: { host: '127.0.0.1', port }, seeds, config: FAST });
  running.push(m);
  return m;
};

/**
 * A seed that left gracefully (`elex member`'s first member after Ctrl-C) and is started again on its address,
 * with no seeds of its own. The others held its old life as `left`, in neither the live nor the dead pool: no
 * gossip went to it and no JOIN, and the new life drops a stranger's SYN, so it was never heard again (a review
 * of session 25).
 */
describe('a seed that left and is started again', () => {
  it('is seen alive again by the members that kept running', async () => {
    const a = await start(0, []);
    const port = Number(a.name.split(':')[1]);
    const b = await start(0, [a.name]);
    const c = await start(0, [a.name]);
    await waitUntil(() => [a, b, c].every((m) => m.core.liveCount === 3), 8_000);
    running.splice(running.indexOf(a), 1);
    await a.leave();
    await waitUntil(() => [b, c].every((m) => m.core.liveness(a.name) === 'left'), 5_000);
    const again = await start(port, []);
    await waitUntil(() => [b, c].every((m) => m.core.liveness(again.name) === 'alive'), 8_000).catch(
      () => {},
    );
    expect([b, c].map((m) => m.core.liveness(again.name))).toEqual(['alive', 'alive']);
    expect(again.core.liveCount).toBe(3);
  }, 30_000);
});
