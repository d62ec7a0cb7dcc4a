import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runLocalCluster } from '../../src/node/local-cluster.js';
import { writeFakeElex } from '../support/fake-elex.js';

// A stand-in for `elex node` (the harness takes its launcher as `elexBin`), written to a temporary file:
// `POST /admin/members` answers after FAKE_ADMIN_MS, as a change does while the newcomer catches up the log.

const dirs: string[] = [];
afterEach(() => {
  delete process.env.FAKE_ADMIN_MS;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('runLocalCluster --reconfigure', () => {
  it('makes both changes it promises (add a voter at 1/2, remove one at 3/4) even when the add is slow', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'elex-cluster-test-'));
    dirs.push(tmp);
    const bin = writeFakeElex(tmp);
    process.env.FAKE_ADMIN_MS = '1500';
    const report = await runLocalCluster({
      nodes: 3,
      writes: 200,
      concurrency: 4,
      dir: join(tmp, 'cluster'),
      elexBin: bin,
      kills: 0,
      reconfigure: true,
    });
    expect(report.reconfigurations.map((c) => [c.type, c.ok])).toEqual([
      ['add-voter', true],
      ['remove', true],
    ]);
  }, 30_000);
});
