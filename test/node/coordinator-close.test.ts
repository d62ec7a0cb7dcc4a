/**
 * What a coordinator's close leaves pending (session 24, from a review). docs/node.md promises "Close
 * fails what is pending, at once" (proposals, reads, membership changes, transfers); a query part waiting for
 * its barrier (`CoordinatorNode.whenApplied`, behind `POST /query/part`) is not among what close fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { CoordinatorNode } from '../../src/node/coordinator-node.js';
import { freePorts } from '../../src/node/processes.js';

const root = mkdtempSync(join(tmpdir(), 'elex-coordinator-close-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('close with a barrier wait pending', () => {
  it('whenApplied pending at close fails at once with E_STOPPED, not after its timeout', async () => {
    const [raft] = await freePorts(1);
    const node = await CoordinatorNode.start({
      id: 1,
      cluster: new Map([[1, { host: '127.0.0.1', port: raft }]]),
      catalog: defaultCatalog(),
      dataDir: join(root, 'c1'),
    });
    // A part whose barrier this replica has not reached (a lagging replica, or a far barrier from the network).
    const pending = node.whenApplied(Number.MAX_SAFE_INTEGER, 4000);
    const settled = pending.then(
      () => 'resolved',
      (e: { code?: string }) => e.code,
    );
    await node.close();
    const outcome = await settled;
    // Before session 24 it waited out its 4 s timer after the close (keeping the process alive): E_TIMEOUT.
    expect(outcome).toBe('E_STOPPED');
    await expect(node.whenApplied(1)).rejects.toMatchObject({ code: 'E_STOPPED' });
  }, 15_000);
});
