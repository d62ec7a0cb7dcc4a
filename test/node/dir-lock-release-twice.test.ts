/**
 * Review of the on-disk persistence: releasing a data directory's lock a second time. The release removed
 * `<dir>/LOCK` by path whoever held it by then, so a node closed twice (a library host's `close` in a finally
 * and again in its shutdown, a test's afterEach) removed the lock of the node that had started on the directory
 * since, and a third could start beside it: two nodes appending to one raft.disk.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/node/dir-lock.js';
import { KvNode } from '../../src/node/kv-node.js';
import { freePorts } from '../../src/node/processes.js';

const root = mkdtempSync(join(tmpdir(), 'elex-review-lock-twice-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function outcome(f: () => unknown): string {
  try {
    f();
    return 'locked';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('a data directory lock released twice', () => {
  it('the second release leaves alone the lock a later holder took meanwhile', () => {
    const dir = join(root, 'plain');
    const first = lockDataDir(dir);
    first();
    const second = lockDataDir(dir);
    try {
      first(); // again: the first holder's lock is long gone
      expect(readFileSync(join(dir, 'LOCK'), 'utf8').split('\n')[0]).toBe(String(process.pid));
      expect(outcome(() => lockDataDir(dir))).toBe('E_LOCKED');
    } finally {
      second();
    }
  });

  it('a node closed twice does not unlock the node that started on its directory after the first close', async () => {
    const [port] = await freePorts(1);
    const cluster = new Map([[1, { host: '127.0.0.1', port }]]);
    const dataDir = join(root, 'node');
    const a = await KvNode.start({ id: 1, cluster, dataDir });
    await a.close();
    const b = await KvNode.start({ id: 1, cluster, dataDir });
    try {
      await a.close(); // a second close of the old handle
      let third: KvNode | null = null;
      let got: string;
      try {
        third = await KvNode.start({
          id: 1,
          cluster: new Map([[1, { host: '127.0.0.1', port: 0 }]]),
          dataDir,
        });
        got = 'started';
      } catch (e) {
        got = (e as { code?: string }).code ?? String(e);
      }
      await third?.close();
      expect(got).toBe('E_LOCKED');
    } finally {
      await b.close();
    }
  });
});
