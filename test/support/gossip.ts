import type { GossipConfig } from '../../src/gossip/index.js';

/**
 * Intervals a tenth of the defaults, so a test sees joins and failures in a second or two; the pause allowance
 * and suspicion timeouts are kept near a second, so a busy test machine's stalls are not taken for failures.
 */
export const FAST: Partial<GossipConfig> = {
  gossipIntervalMs: 100,
  heartbeatIntervalMs: 100,
  firstHeartbeatEstimateMs: 100,
  minStdDevMs: 10,
  acceptablePauseMs: 1000,
  suspicionMinMs: 1000,
  suspicionMaxMs: 3000,
  rumorDelayMs: 10,
  recentWindowMs: 300,
};
