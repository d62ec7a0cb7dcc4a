import { afterEach, describe, expect, it } from 'vitest';
import { GossipMember } from '../../src/node/gossip-member.js';
import { FAST } from '../support/gossip.js';
import { waitUntil } from '../support/wait.js';

const running: GossipMember[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

const statusOf = (m: GossipMember, name: string) => m.members().find((x) => x.name === name)?.status;

describe('a seed given by host name (localhost:port) instead of the IP it binds as', () => {
  it('the joiner sees the seed alive, as it does with the seed given by IP', async () => {
    const a = await GossipMember.start({ listen: { host: '127.0.0.1', port: 0 }, config: FAST, tickMs: 10 });
    running.push(a);
    const port = a.name.split(':')[1];
    const b = await GossipMember.start({
      listen: { host: '127.0.0.1', port: 0 },
      seeds: [`localhost:${port}`],
      config: FAST,
      tickMs: 10,
    });
    running.push(b);
    // The seed admits the joiner (its JOIN arrives) ...
    await waitUntil(() => statusOf(a, b.name) === 'alive', 5_000);
    // ... but every answer comes from "127.0.0.1:port", a sender the joiner does not know (its seed is
    // "localhost:port"), and is dropped as drop_unknown_sender: the joiner never learns anyone.
    let joined = true;
    await waitUntil(() => statusOf(b, a.name) === 'alive', 4_000).catch(() => (joined = false));
    const dropped = (b.core.metrics as unknown as { get(n: string): number }).get('drop_unknown_sender');
    expect(
      joined,
      `joiner holds the seed as ${statusOf(b, a.name) ?? 'unknown'}; drop_unknown_sender=${dropped}`,
    ).toBe(true);
  });
});
