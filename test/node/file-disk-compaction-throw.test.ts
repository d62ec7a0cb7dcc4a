import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ElexError } from '../../src/core/index.js';
import { FileDisk } from '../../src/node/file-disk.js';

const root = mkdtempSync(join(tmpdir(), 'elex-file-disk-throw-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const synced = (d: FileDisk) => new Promise<void>((resolve) => d.sync(resolve));
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FileDisk: a compaction that cannot serialize the live map', () => {
  it('fails the disk through onError (E_STORAGE) instead of throwing a raw error out of sync and leaving every later sync hanging', async () => {
    const path = join(root, 'raft.disk');
    const errors: ElexError[] = [];
    const d = FileDisk.open(path, { compactAtBytes: 2048, onError: (e) => errors.push(e) });
    // `read` returns the written object itself (docs/storage.md), so a holder can change it after the write;
    // compaction re-serializes the map, where the append path serialized at write time.
    const held: Record<string, unknown> = { n: 1 };
    d.write('held', held);
    await synced(d);
    held.callback = () => {}; // no longer serializable (DataCloneError)
    let thrown: unknown;
    for (let i = 0; i < 30 && thrown === undefined; i++) {
      try {
        // Inside: once the disk has failed, a write is refused (E_STORAGE) like the sync.
        d.write('big', new Uint8Array(200).fill(i));
        d.sync();
      } catch (e) {
        thrown = e; // the flush that compacts: compact() threw from inside kick()
      }
      if (thrown === undefined) {
        await settle(5);
      }
    }
    await settle(50);
    // The failure must surface as the disk's own error, not as a DataCloneError from sync().
    expect
      .soft(thrown === undefined || (thrown as ElexError).code === 'E_STORAGE', String(thrown))
      .toBe(true);
    // And the disk must not be wedged: either the flush completed, or onError reported the failure.
    const later = new Promise<'done' | 'stuck'>((resolve) => {
      try {
        d.write('after', 1);
        d.sync(() => resolve('done'));
      } catch {
        resolve('done'); // refused at once: the disk failed, which is fine if onError said so
      }
      setTimeout(() => resolve('stuck'), 500);
    });
    const outcome = await later;
    // Observed: no onError, and the next sync never completes (inFlight stays set, the batch is gone).
    expect({ onErrorCalls: errors.length, nextSync: outcome }).not.toEqual({
      onErrorCalls: 0,
      nextSync: 'stuck',
    });
  });
});
