/**
 * Review of the on-disk persistence: a library host's node whose disk refused a write. docs/node.md: "in a
 * library host the node crashes and its pending requests fail with E_STORAGE", so the host closes it and, once
 * the disk is fixed, starts it again from its directory. `close` rejected with the disk's error before it
 * released the data directory's lock, and the lock stayed held by this process: every later start on the
 * directory in this process was refused E_LOCKED, for the life of the process.
 */
import * as realFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const hooks = vi.hoisted(() => ({ failSync: false }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const wrapped = {
    ...fs,
    // A disk that refuses: every fdatasync fails with EIO while `failSync` is set.
    fdatasync: ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      if (!hooks.failSync) return fs.fdatasync(fd, cb);
      setImmediate(() => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    }) as typeof fs.fdatasync,
  };
  return { ...wrapped, default: wrapped };
});

const { KvNode } = await import('../../src/node/kv-node.js');
const { freePorts } = await import('../../src/node/processes.js');

const root = realFs.mkdtempSync(join(tmpdir(), 'elex-review-disk-lock-'));
afterAll(() => realFs.rmSync(root, { recursive: true, force: true }));

describe('a node whose disk failed, in a library host', () => {
  it('is closed, and once the disk is back starts again on its directory (not E_LOCKED by itself)', async () => {
    const [port] = await freePorts(1);
    const cluster = new Map([[1, { host: '127.0.0.1', port }]]);
    const dataDir = join(root, 'n1');
    const errors: string[] = [];
    const node = await KvNode.start({ id: 1, cluster, dataDir, log: (l) => errors.push(l) });
    // The single voter elects itself; then the disk starts refusing and a write makes it fail.
    for (let i = 0; node.status().role !== 'leader' && i < 200; i++)
      await new Promise((r) => setTimeout(r, 10));
    hooks.failSync = true;
    await node.put('k', 'v').catch(() => {});
    for (let i = 0; !errors.some((l) => l.includes('EIO')) && i < 200; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(errors.join('\n')).toMatch(/EIO/);
    await node.close().catch(() => {}); // the disk's error again: the host has nothing more to do with it
    hooks.failSync = false; // the operator fixed the disk
    let again: Awaited<ReturnType<typeof KvNode.start>> | null = null;
    let got: string;
    try {
      again = await KvNode.start({ id: 1, cluster, dataDir });
      got = 'started';
    } catch (e) {
      got = (e as { code?: string }).code ?? String(e);
    }
    await again?.close();
    expect(got).toBe('started');
  });
});
