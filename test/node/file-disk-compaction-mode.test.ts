import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileDisk } from '../../src/node/file-disk.js';

const root = mkdtempSync(join(tmpdir(), 'elex-file-disk-mode-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const synced = (d: FileDisk) => new Promise<void>((resolve) => d.sync(resolve));

describe('FileDisk compaction and the file it replaces', () => {
  it('compaction keeps the permissions an operator set on the disk file (0600 stays 0600)', async () => {
    const path = join(root, 'raft.disk');
    const d = FileDisk.open(path, { compactAtBytes: 4096 });
    chmodSync(path, 0o600); // the log holds the application's data: readable by its owner only
    const ino = statSync(path).ino;
    for (let i = 0; i < 100; i++) {
      d.write('k', new Uint8Array(200).fill(i));
      await synced(d);
    }
    expect(statSync(path).ino).not.toBe(ino); // compaction replaced the file
    expect(statSync(path).size).toBeLessThan(4096);
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    await d.close();
  });
});
