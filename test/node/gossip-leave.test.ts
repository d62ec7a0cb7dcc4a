/**
 * `GossipMember.leave` races the socket's flush against a 2 s timer (session 24, from a review: the timer was
 * never cleared, and a process stopping on SIGTERM lingered 2 s after it had left).
 */
import { describe, expect, it } from 'vitest';
import { GossipMember } from '../../src/node/gossip-member.js';

describe('a gossip member leaving', () => {
  it('leave() leaves no timer armed once it has resolved', async () => {
    const m = await GossipMember.start({
      listen: { host: '127.0.0.1', port: 0 },
      seeds: ['127.0.0.1:9'],
      tickMs: 10,
    });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    // The member's own tick interval is one of these; leave() clears it.
    const before = timers();
    await m.leave();
    // Before session 24 the race's 2 s fallback timer stayed armed (before − the tick interval + that timer):
    // `elex member` lingered 2 s after its "left" line.
    expect(timers()).toBe(before - 1);
  }, 10_000);
});
