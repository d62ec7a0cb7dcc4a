/**
 * docs/gossip.md ("What the history learns"): a heartbeat whose seq is equal to the last, "or at most 16 behind
 * it", is counted as `duplicate_heartbeats` and learns nothing; `HeartbeatHistory.fresh` says the same
 * ("at most `SEQ_WINDOW` below the last one, or equal", SEQ_WINDOW = 16). The check is `seq > last - 16`, so a
 * copy exactly 16 behind is taken as a new heartbeat: it records a ~0 ms interval and moves the seq back.
 */
import { describe, expect, it } from 'vitest';
import { HeartbeatHistory } from '../../src/gossip/index.js';

const params = {
  sampleWindow: 200,
  minStdDevMs: 100,
  acceptablePauseMs: 3000,
  firstHeartbeatEstimateMs: 1000,
};

describe('heartbeat seq window', () => {
  it('a copy up to 16 behind the last seq is a duplicate; 17 behind is taken as new', () => {
    const h = new HeartbeatHistory(params, 0);
    expect(h.fresh(100)).toBe(true);
    expect(h.fresh(100)).toBe(false);
    expect(h.fresh(85)).toBe(false); // 15 behind
    expect(h.fresh(84)).toBe(false); // 16 behind: the documented edge
    expect(h.fresh(83)).toBe(true); // 17 behind: further back than the window
  });
});
