import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { runCoordinatorCluster } from '../../src/node/coordinator-cluster.js';
import { writeFakeElex } from '../support/fake-elex.js';

// A stand-in for `elex coordinator` (the harness takes its launcher as `elexBin`): it answers the harness's
// routes the way a broken control plane would, so what the checker lets through is visible in one second.

const dirs: string[] = [];
function fakeBin(): { bin: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'elex-cluster-test-'));
  dirs.push(dir);
  const bin = writeFakeElex(dir);
  return { bin, dir: join(dir, 'cluster') };
}
afterEach(() => {
  delete process.env.FAKE_MODE;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('elex cluster --app coordinator: what the verdict (violations) lets through', () => {
  it('a run in which no command got an answer reports a violation (the invariants were checked against nothing)', async () => {
    process.env.FAKE_MODE = 'coord-unanswered';
    const { bin, dir } = fakeBin();
    const report = await runCoordinatorCluster({
      nodes: 3,
      activations: 4,
      conflictPairs: 1,
      queries: 0,
      concurrency: 2,
      dir,
      elexBin: bin,
      catalog: defaultCatalog(),
      kills: 0,
    });
    expect(report.commands).toBe(6);
    expect(report.unanswered).toBe(6);
    expect(report.accepted).toBe(0);
    // The CLI exits 1 only on violations: with none, every command lost is exit 0.
    expect(report.violations.length).toBeGreaterThan(0);
  }, 30_000);

  it('a query the coordinators fail (ok: false) is a violation, not only a count in queries.failed', async () => {
    process.env.FAKE_MODE = 'query-fail';
    const { bin, dir } = fakeBin();
    const report = await runCoordinatorCluster({
      nodes: 3,
      activations: 0,
      conflictPairs: 0,
      queries: 4,
      concurrency: 2,
      dir,
      elexBin: bin,
      catalog: defaultCatalog(),
      kills: 0,
    });
    expect(report.queries.issued).toBe(4);
    expect(report.queries.ok).toBe(0);
    expect(report.queries.failed).toEqual({ COORDINATOR_DOWN: 4 });
    expect(report.violations.length).toBeGreaterThan(0);
  }, 30_000);
});
