import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFederationCluster } from '../../src/node/federation-cluster.js';
import { readVoteState } from '../../src/node/federation-member.js';
import { knownTask } from '../../src/sim/federation/sim-network.js';

describe('federation members on UDP', () => {
  it('elect one aggregator, replace a crashed one, refuse random bytes, distrust a reward flipper and converge', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'elex-fed-'));
    const r = await runFederationCluster({
      members: 4,
      flippers: 1,
      task: knownTask(),
      durationMs: 9000,
      syncIntervalMs: 100,
      learnPerSync: 3,
      loss: 0.02,
      crashAggregator: true,
      hostileDatagrams: 20,
      dataDir,
    });
    const why = JSON.stringify(r);
    expect(r.first_aggregator, why).not.toBeNull();
    expect(r.crash?.reelected?.term, why).toBeGreaterThan(r.first_aggregator?.term ?? 0);
    expect(r.crash?.reelected?.id, why).not.toBe(r.crash?.id);
    expect(r.safety_violations, why).toBe(0);
    // The restarted member resumed from the vote its earlier life made durable.
    expect(r.crash?.restarted_from?.term, why).toBeGreaterThanOrEqual(r.first_aggregator?.term ?? 1);
    expect(readVoteState(join(dataDir, r.crash?.id ?? ''))?.term, why).toBeGreaterThanOrEqual(
      r.crash?.restarted_from?.term ?? 1,
    );
    // Every datagram of random bytes was refused with a reason; nothing was thrown.
    // (most as E_DECODE: no envelope of that kind; a first byte that names one fails in its decoder)
    const refused = Object.values(r.refusals).reduce((a, b) => a + b, 0);
    expect(refused, why).toBeGreaterThanOrEqual(4 * 20);
    expect(r.sync_errors, why).toEqual({});
    expect(r.udp.dropped, why).toBeGreaterThan(0);
    // Honest values end near Q* (rewards in [-1, 1]); a flipper pulling them would hold them near 0.
    expect(r.final_max_abs_error, why).toBeLessThan(0.15);
    // The restarted member (empty table), if honest, holds the aggregator's values again before the end.
    if (r.crash?.id !== 'm3') expect(r.crash?.caught_up_ms, why).not.toBeNull();
    expect(r.final_max_abs_error, why).toBeLessThan(r.error_over_time[0].max_abs_error);
    if (r.final_aggregator?.id !== 'm3') expect(r.flipper_trust.m3, why).toBeLessThan(0.5);
  }, 30_000);

  it('refuses a cluster it cannot run', async () => {
    const base = {
      task: knownTask(),
      durationMs: 100,
      syncIntervalMs: 50,
      learnPerSync: 1,
      loss: 0,
      crashAggregator: false,
      hostileDatagrams: 0,
    };
    await expect(runFederationCluster({ ...base, members: 1, flippers: 0 })).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
    await expect(runFederationCluster({ ...base, members: 3, flippers: 3 })).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
  });
});
