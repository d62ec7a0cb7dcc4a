/**
 * The standby returns' exactly-once claim when the primary cannot save (fixed in session 25).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentState } from '../../src/swarm/agent/index.js';
import { coordinators, featureOf, root } from './coordinators.js';

describe('POST /agents/return on a primary whose agents.json cannot be written', () => {
  it('is not acknowledged: the standby keeps the experiences until the primary has saved them', async () => {
    const dir = mkdtempSync(join(root, 'returns-persist-'));
    const primaryDir = join(dir, 'c2');
    mkdirSync(primaryDir);
    const { services } = await coordinators(undefined, 0, (id) =>
      id === 2 ? { agentsFile: join(primaryDir, 'agents.json'), saveMs: 0 } : {},
    );
    const a = featureOf(1); // primary coordinator 2, standby coordinator 3
    // Coordinator 2's data directory goes bad (a full disk, a read-only remount): every save fails.
    rmSync(primaryDir, { recursive: true, force: true });
    writeFileSync(primaryDir, 'not a directory');
    const standby = services[2].returns;
    standby.add(a.id, { state: agentState('troubleshoot', 'simple', true), action: 1, reward: 1 });
    await standby.round();
    const primary = services[1];
    // The primary learned it in memory but could not save it (nor the sequence number that skips a resend).
    expect(primary.returns.stats.learned).toBe(1);
    expect(primary.store!.stats.saveFailures).toBeGreaterThan(0);
    // Before session 25: 0 — it answered 200 with next: 1 anyway, the standby dropped the experience, and a crash of
    // the primary now loses it for good (docs/node.md: "saves ... before it answers ... exactly once across
    // crashes of either side").
    expect(standby.pending).toBe(1);
    rmSync(primaryDir, { force: true });
  });
});
