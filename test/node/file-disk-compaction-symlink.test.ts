import { lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileDisk } from '../../src/node/file-disk.js';

const root = mkdtempSync(join(tmpdir(), 'elex-file-disk-symlink-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const synced = (d: FileDisk) => new Promise<void>((resolve) => d.sync(resolve));

describe('FileDisk compaction of a disk file reached through a symlink', () => {
  it('keeps writing where the link points: after compaction the link is still a link and its target holds the latest state', async () => {
    // An operator keeps the log on another volume: <data-dir>/raft.disk -> /volume/raft.disk.
    const volume = join(root, 'volume');
    const dataDir = join(root, 'data');
    mkdirSync(volume);
    mkdirSync(dataDir);
    const target = join(volume, 'raft.disk');
    const link = join(dataDir, 'raft.disk');
    await FileDisk.open(target).close();
    symlinkSync(target, link);
    const d = FileDisk.open(link, { compactAtBytes: 4096 });
    for (let i = 0; i < 100; i++) {
      d.write('k', i);
      d.write('pad', new Uint8Array(200).fill(i));
      await synced(d);
    }
    await d.close();
    expect.soft(lstatSync(link).isSymbolicLink()).toBe(true);
    expect.soft(statSync(target).size).toBeLessThan(4096); // the compacted file is on the volume
    const r = FileDisk.open(target);
    expect(r.read('k')).toBe(99);
    await r.close();
  });
});
