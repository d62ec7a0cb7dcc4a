/**
 * The swarm's lite liveness view (`--gossip lite`) runs the gossip core's phi-accrual history directly. The
 * gap of a crash (the agent silent, then restarted) ended above the threshold and was learnt as one interval,
 * as the gossip core stopped doing in session 19: for a whole sample window afterwards the agent's next crash
 * went unseen for half a minute, and its queries went to a dead agent meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { timeToPhi } from '../../src/gossip/index.js';
import { DEFAULT_PHI, PhiDetector } from '../../src/sim/swarm/liveness.js';

describe('lite liveness: a crash gap is not learnt', () => {
  it('detects an agent that crashes again soon after a restart as fast as before its first crash', () => {
    const d = new PhiDetector();
    let t = 0;
    for (let i = 0; i < 120; i++, t += 1000) d.heartbeat(7, t);
    const last1 = t - 1000;
    // Normal detection: phi passes 8 about 2.5 s after the last heartbeat (mean 1 s, pause 1 s, sigma floor).
    const normal = timeToPhi(
      DEFAULT_PHI.threshold,
      1000,
      0,
      DEFAULT_PHI.acceptablePauseMs,
      DEFAULT_PHI.minStdDevMs,
    );
    expect(d.alive(7, last1 + normal + 100)).toBe(false);
    // Crashed for a minute, restarted: ten heartbeats, then it crashes again.
    t = last1 + 60_000;
    for (let i = 0; i < 10; i++, t += 1000) d.heartbeat(7, t);
    const last2 = t - 1000;
    expect(d.alive(7, last2 + 900)).toBe(true);
    expect(d.alive(7, last2 + normal + 500)).toBe(false);
  });
});
