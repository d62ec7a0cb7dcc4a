/**
 * FileDisk's recovery of a torn tail (session 24, from a review): a torn flush may hold bytes that parse as
 * records, and a large one must not take the open quadratic time.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileDisk } from '../../src/node/file-disk.js';
import { DiskStorage, type Snapshot } from '../../src/raft/index.js';

const root = mkdtempSync(join(tmpdir(), 'elex-torn-tail-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`, 'raft.disk');
const synced = (d: FileDisk) => new Promise<void>((resolve) => d.sync(resolve));

/** Opens, returns what the recovery did or the error it threw, and closes. */
async function recover(path: string): Promise<{ ok: FileDisk['recovery'] } | { err: unknown }> {
  let d: FileDisk;
  try {
    d = FileDisk.open(path);
  } catch (err) {
    return { err };
  }
  const ok = d.recovery;
  await d.close();
  return { ok };
}

describe('FileDisk recovery of a torn tail', () => {
  it('a torn last flush whose value contains the bytes of a valid record is cut, not refused as mid-file corruption', async () => {
    // Any binary value (a snapshot's data, an entry's payload) can hold bytes that parse as a FileDisk record:
    // here, literally the record another FileDisk wrote for ('x', 1).
    const donor = fresh();
    const dd = FileDisk.open(donor);
    dd.write('x', 1);
    await dd.close();
    const record = readFileSync(donor).subarray(8); // after the 8-byte header: one whole valid record
    expect(record.length).toBeGreaterThan(8);

    const path = fresh();
    const d = FileDisk.open(path);
    d.write('raft/hard', { term: 3, vote: 2, commit: 0 });
    await synced(d); // acknowledged
    const before = statSync(path).size;
    const value = new Uint8Array(Buffer.concat([Buffer.alloc(64, 7), record, Buffer.alloc(64, 7)]));
    d.write('raft/snap', { meta: { index: 9, term: 3 }, data: value });
    await d.close();
    const full = readFileSync(path);
    // The crash tears the last flush near its end (its final bytes never reached the disk). That flush was
    // never acknowledged: recovery must cut it and keep the state of the last completed sync.
    writeFileSync(path, full.subarray(0, full.length - 16));

    const r = await recover(path);
    // Now: E_STORAGE "corrupt record at offset … followed by a valid record", the node cannot restart.
    expect(r).toEqual({ ok: { records: 1, truncatedBytes: full.length - 16 - before } });
  });

  // No timing asserted (speed is for benchmarks): before the fix this open took seconds, at 100 MB hours.
  it('a torn 1 MiB flush of plausible record lengths is cut (the scan for a later record is linear)', async () => {
    const path = fresh();
    const d = FileDisk.open(path);
    const storage = new DiskStorage(d);
    storage.setHardState({ term: 2, vote: 1, commit: 0 });
    await synced(d);
    // A snapshot's data (1 MiB) made of little-endian u32 lengths, as serialized state machines are: every
    // aligned offset of the torn tail reads a plausible record length (64 KiB), so the scan CRCs 64 KiB at
    // ~a quarter of a million offsets. Random data does the same, less often: the cost grows with the cube of
    // the torn length (a torn 100 MB snapshot install would take hours to reopen).
    const data = Buffer.alloc(1 << 20);
    for (let i = 0; i + 4 <= data.length; i += 4) data.writeUInt32LE(64 * 1024, i);
    const snap: Snapshot = {
      meta: { index: 100, term: 2, conf: { voters: [1, 2, 3], learners: [] } },
      data: new Uint8Array(data),
    };
    storage.resetTo(snap);
    await d.close();
    const full = readFileSync(path);
    writeFileSync(path, full.subarray(0, full.length - 100)); // the install's flush is torn

    const r = await recover(path);
    expect(r).toMatchObject({ ok: { records: 1 } });
  }, 60_000);
});
