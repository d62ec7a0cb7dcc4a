/**
 * Review of the on-disk persistence: a node start refused because its Raft address is taken. On a fresh data
 * directory it had already created raft.disk, bound the directory to the node's id and voters (`node/identity`,
 * flushed by the close) and written node.json: the directory counted as one that served a node. Started again
 * with the --id or --voters the operator meant, it was refused (E_CONFIG, another node's directory) or booted
 * with the voters of the refused attempt; and with raft.disk deleted as junk, it was refused E_STORAGE.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KvNode } from '../../src/node/kv-node.js';
import { freePorts } from '../../src/node/processes.js';

const root = mkdtempSync(join(tmpdir(), 'elex-review-refused-listen-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a start refused because the Raft port is taken', () => {
  it('leaves a fresh data directory unbound: the node meant for it starts there', async () => {
    const [taken, free] = await freePorts(2);
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(taken, '127.0.0.1', r));
    const dataDir = join(root, 'fresh');
    try {
      let got: string;
      try {
        await (
          await KvNode.start({ id: 1, cluster: new Map([[1, { host: '127.0.0.1', port: taken }]]), dataDir })
        ).close();
        got = 'started';
      } catch (e) {
        got = (e as { code?: string }).code ?? String(e);
      }
      expect(got).not.toBe('started');
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    expect(readdirSync(dataDir)).toEqual([]);
    // The operator meant node 2 (and a free port): its start on that directory must not be node 1's.
    const n2 = await KvNode.start({
      id: 2,
      cluster: new Map([[2, { host: '127.0.0.1', port: free }]]),
      dataDir,
    });
    await n2.close();
  });
});
