import { afterEach, describe, expect, it } from 'vitest';
import { GossipMember } from '../../src/node/gossip-member.js';
import { FAST } from '../support/gossip.js';
import { waitUntil } from '../support/wait.js';

const running: GossipMember[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

describe('GossipMember with a tick period longer than two heartbeat intervals', () => {
  it('either refuses the tickMs (E_CONFIG) or still finds a silently stopped peer dead', async () => {
    // FAST heartbeats every 100 ms; ticking every 250 ms makes every tick look like a stall of this member
    // (node.ts tick: now - lastTickAt > 2 × heartbeatIntervalMs), so every history is given grace at every
    // tick and phi never grows: the failure detector is off, silently. tickMs is only checked for > 0.
    const opts = (seeds: string[]) => ({
      listen: { host: '127.0.0.1', port: 0 },
      seeds,
      config: FAST,
      tickMs: 2.5 * FAST.heartbeatIntervalMs!,
    });
    let a: GossipMember;
    try {
      a = await GossipMember.start(opts([]));
    } catch (e) {
      expect((e as { code?: string }).code).toBe('E_CONFIG');
      return;
    }
    running.push(a);
    const b = await GossipMember.start(opts([a.name]));
    running.push(b);
    const c = await GossipMember.start(opts([a.name]));
    running.push(c);
    await waitUntil(() => [a, b, c].every((m) => m.core.liveCount === 3), 8_000);
    running.splice(running.indexOf(c), 1);
    await c.stop();
    let dead = true;
    // With these settings a stopped member is dead within ~2.5 s (phi ~1.1 s + suspicion 1–3 s).
    await waitUntil(() => [a, b].every((m) => m.core.liveness(c.name) === 'dead'), 6_000).catch(
      () => (dead = false),
    );
    const stalls = (a.core.metrics as unknown as { get(n: string): number }).get('stalls_detected');
    expect(
      dead,
      `a holds c as ${a.core.liveness(c.name)}, b as ${b.core.liveness(c.name)}; a counted ${stalls} "stalls"`,
    ).toBe(true);
  }, 15_000);
});
