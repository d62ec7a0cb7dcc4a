import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ElexError } from '../../src/core/index.js';
import { FileDisk, type FileDiskOptions } from '../../src/node/file-disk.js';
import { DiskStorage, type Entry, EntryType, type Snapshot } from '../../src/raft/index.js';

const root = mkdtempSync(join(tmpdir(), 'elex-file-disk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`, 'disk.log');

const open: FileDisk[] = [];
function openDisk(path: string, opts?: FileDiskOptions): FileDisk {
  const d = FileDisk.open(path, opts);
  open.push(d);
  return d;
}
afterAll(async () => {
  await Promise.allSettled(open.map((d) => d.close()));
});

const synced = (d: FileDisk) => new Promise<void>((resolve) => d.sync(resolve));

function storageError(f: () => unknown): ElexError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ElexError);
    expect((e as ElexError).code).toBe('E_STORAGE');
    return e as ElexError;
  }
  throw new Error('expected an E_STORAGE error');
}

const entry = (index: number, term: number, bytes: number[]): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array(bytes),
});

describe('FileDisk', () => {
  it('reads see writes and deletes at once, by reference; values survive sync + close + reopen', async () => {
    const path = fresh();
    const d = openDisk(path);
    expect(d.recovery).toEqual({ records: 0, truncatedBytes: 0 });
    const e = entry(7, 3, [1, 2, 250]);
    const snap: Snapshot = {
      meta: { index: 9, term: 2, conf: { voters: [1, 2, 3], learners: [4] } },
      data: new Uint8Array([9, 8]),
    };
    d.write('e', e);
    d.write('hs', { term: 4, vote: 1, commit: 6 });
    d.write('snap', snap);
    d.write('n', 42);
    d.write('null', null);
    d.write('gone', 'x');
    d.write('pad', new Uint8Array(64 * 1024));
    expect(d.read('e')).toBe(e);
    expect(d.read('snap')).toBe(snap);
    expect(d.read('gone')).toBe('x');
    d.delete('gone');
    expect(d.read('gone')).toBeUndefined();
    await synced(d);
    await d.close();
    expect(() => d.write('late', 1)).toThrow(ElexError);
    storageError(() => d.delete('n'));
    storageError(() => d.sync());

    const r = openDisk(path);
    expect(r.recovery).toEqual({ records: 8, truncatedBytes: 0 });
    expect(r.read('e')).toEqual(e);
    expect(r.read('e')).not.toBe(e);
    // A copy per record: a deserialized view must not pin the whole file read at open.
    expect((r.read('e') as Entry).data.buffer.byteLength).toBeLessThan(1000);
    expect(Object.getPrototypeOf((r.read('e') as Entry).data)).toBe(Uint8Array.prototype);
    expect(r.read('hs')).toEqual({ term: 4, vote: 1, commit: 6 });
    expect(r.read('snap')).toEqual(snap);
    expect(r.read('n')).toBe(42);
    expect(r.read('null')).toBeNull();
    expect(r.read('gone')).toBeUndefined();
  });

  it('close flushes writes that were never synced', async () => {
    const path = fresh();
    const d = openDisk(path);
    d.write('a', [1, 2, 3]);
    await d.close();
    expect(openDisk(path).read('a')).toEqual([1, 2, 3]);
  });

  it('a crash keeps exactly the synced writes', async () => {
    const path = fresh();
    const d = openDisk(path);
    d.write('a', 1);
    d.write('b', 2);
    await synced(d);
    d.write('a', 10); // never synced: still only in memory
    d.write('c', 3);
    d.delete('b');
    expect([d.read('a'), d.read('b'), d.read('c')]).toEqual([10, undefined, 3]);
    const after = openDisk(path); // the first disk is abandoned, as in a crash
    expect([after.read('a'), after.read('b'), after.read('c')]).toEqual([1, 2, undefined]);
  });

  it('runs done callbacks in order, each once its writes are on disk; queued syncs are batched', async () => {
    const path = fresh();
    const d = openDisk(path);
    const order: number[] = [];
    const seen: unknown[] = [];
    let ran = false;
    await new Promise<void>((resolve) => {
      d.write('k', 1);
      d.sync(() => {
        order.push(1);
        seen.push(openDisk(path).read('k'));
      });
      d.write('k', 2); // while the first flush is in flight
      d.sync(() => {
        order.push(2);
        seen.push(openDisk(path).read('k'));
      });
      d.write('k', 3);
      d.sync(() => {
        order.push(3);
        seen.push(openDisk(path).read('k'));
      });
      d.sync(() => {
        order.push(4);
        resolve();
      });
      ran = order.length > 0;
    });
    expect(ran).toBe(false); // never synchronously from inside sync()
    expect(order).toEqual([1, 2, 3, 4]);
    expect(seen[0]).toBe(1);
    expect(seen.slice(1)).toEqual([3, 3]); // syncs 2 and 3 were batched into one flush
  });

  it('cuts a torn tail, keeps every complete record, and appends after recovery', async () => {
    const path = fresh();
    const d = openDisk(path);
    for (let i = 0; i < 5; i++) d.write(`k${i}`, new Uint8Array(20).fill(i));
    await synced(d);
    const full = statSync(path).size;
    d.write('k9', new Uint8Array(40).fill(9));
    await d.close();
    const withLast = statSync(path).size;
    expect(withLast).toBeGreaterThan(full);

    for (const cut of [1, 9, withLast - full - 1]) {
      const copy = `${path}.${cut}`;
      writeFileSync(copy, readFileSync(path).subarray(0, withLast - cut));
      const r = openDisk(copy);
      expect(r.recovery).toEqual({ records: 5, truncatedBytes: withLast - full - cut });
      expect(statSync(copy).size).toBe(full);
      expect(r.read('k9')).toBeUndefined();
      expect(r.read('k4')).toEqual(new Uint8Array(20).fill(4));
      r.write('k9', 'again');
      await synced(r);
      await r.close();
      const again = openDisk(copy);
      expect(again.recovery).toEqual({ records: 6, truncatedBytes: 0 });
      expect(again.read('k9')).toBe('again');
      expect(again.read('k0')).toEqual(new Uint8Array(20).fill(0));
    }
  });

  it('cuts a partial record appended after the last good one', async () => {
    const path = fresh();
    const d = openDisk(path);
    d.write('a', 'x');
    await d.close();
    const header = Buffer.alloc(8);
    header.writeUInt32LE(1000, 0); // claims a payload the file does not hold
    appendFileSync(path, Buffer.concat([header, Buffer.from('partial')]));
    const r = openDisk(path);
    expect(r.recovery).toEqual({ records: 1, truncatedBytes: 15 });
    expect(r.read('a')).toBe('x');
  });

  it('refuses a file with a corrupt record in the middle', async () => {
    const path = fresh();
    const d = openDisk(path);
    // One flush each: the records of one flush form one group record, kept or cut as a whole.
    d.write('first', 'aaaaaaaa');
    await synced(d);
    d.write('second', 'bbbbbbbb');
    await synced(d);
    d.write('third', 'cccccccc');
    await d.close();
    const bytes = readFileSync(path);
    const good = openDisk(path);
    expect(good.read('third')).toBe('cccccccc');
    bytes[8 + 8 + 5] ^= 0xff; // inside the first record's payload
    writeFileSync(path, bytes);
    const err = storageError(() => FileDisk.open(path));
    expect(err.message).toContain('offset 8');
    expect(statSync(path).size).toBe(bytes.length); // nothing cut
  });

  it('refuses a corrupt length field in the middle too', async () => {
    const path = fresh();
    const d = openDisk(path);
    for (let i = 0; i < 4; i++) {
      d.write(`k${i}`, i);
      await synced(d);
    }
    await d.close();
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(0x7fffffff, 8); // first record's length now runs past the end
    writeFileSync(path, bytes);
    storageError(() => FileDisk.open(path));
  });

  it('refuses a wrong or missing header', () => {
    const path = fresh();
    openDisk(path);
    writeFileSync(path, 'NOTADISK and more');
    expect(storageError(() => FileDisk.open(path)).message).toContain('header');
    writeFileSync(path, '');
    storageError(() => FileDisk.open(path));
  });

  it('compacts a file of overwrites below the threshold and keeps the latest values', async () => {
    const path = fresh();
    const compactAtBytes = 8 * 1024;
    const d = openDisk(path, { compactAtBytes });
    let written = 0;
    for (let round = 0; round < 100; round++) {
      for (let k = 0; k < 5; k++) {
        d.write(`k${k}`, { round, data: new Uint8Array(100).fill(round) });
        written += 100;
      }
      if (round % 7 === 0) d.write('gone', round);
      if (round % 7 === 3) d.delete('gone');
      if (round % 10 === 9) await synced(d);
    }
    await synced(d);
    const size = statSync(path).size;
    expect(written).toBeGreaterThan(4 * compactAtBytes);
    expect(size).toBeLessThan(compactAtBytes);
    expect(existsSync(`${path}.tmp`)).toBe(false);
    d.write('after', 'compaction'); // appends go to the new file
    await d.close();
    const r = openDisk(path, { compactAtBytes });
    for (let k = 0; k < 5; k++)
      expect(r.read(`k${k}`)).toEqual({ round: 99, data: new Uint8Array(100).fill(99) });
    expect(r.read('gone')).toBe(98);
    expect(r.read('after')).toBe('compaction');
    expect(r.recovery.records).toBeLessThan(20);
  });

  it('compaction never makes a write durable that no sync covered', async () => {
    const path = fresh();
    const d = openDisk(path, { compactAtBytes: 2048 });
    for (let i = 0; i < 10; i++) d.write('big', new Uint8Array(100).fill(i));
    d.sync(); // below the threshold; in flight, so the next flush is taken when it completes
    for (let i = 0; i < 10; i++) d.write('big', new Uint8Array(100).fill(i));
    d.write('x', 1);
    const second = new Promise<void>((resolve) => d.sync(resolve));
    d.write('y', 'unsynced');
    await second; // that flush crossed the threshold, but 'y' followed it: compaction waits
    const size = statSync(path).size;
    expect(openDisk(path).read('y')).toBeUndefined(); // a crash here must not keep it
    expect(size).toBeGreaterThan(2048);
    d.write('big', new Uint8Array(100)); // the flush that compacts, now with nothing unsynced after it
    d.delete('y');
    await synced(d);
    expect(statSync(path).size).toBeLessThan(size);
    const crashed = openDisk(path);
    expect(crashed.read('y')).toBeUndefined();
    expect(crashed.read('x')).toBe(1);
    expect(crashed.read('big')).toEqual(new Uint8Array(100));
  });

  /** A disk at `path` whose failures are collected; `gotError` settles at the first. */
  function failingDisk(path: string, options: { compactAtBytes?: number } = {}) {
    const errors: ElexError[] = [];
    let reported!: () => void;
    const gotError = new Promise<void>((resolve) => {
      reported = resolve;
    });
    const d = FileDisk.open(path, {
      ...options,
      onError: (e) => {
        errors.push(e);
        reported();
      },
    });
    return { d, errors, gotError };
  }

  it('a failed flush surfaces through onError and never runs done', async () => {
    const path = fresh();
    const { d, errors, gotError } = failingDisk(path);
    // Swap in a read-only descriptor (closing the real one first): the next append fails with EBADF.
    const inner = d as unknown as { fd: number };
    closeSync(inner.fd);
    inner.fd = openSync(path, 'r');
    let done = false;
    d.write('a', 1);
    d.sync(() => {
      done = true;
    });
    await gotError;
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe('E_STORAGE');
    storageError(() => d.write('b', 2));
    await expect(d.close()).rejects.toBeInstanceOf(ElexError);
  });

  it('a compaction whose write fails closes the temp file it opened', async () => {
    const path = fresh();
    const { d, errors, gotError } = failingDisk(path, { compactAtBytes: 1024 });
    // The temp file is a link to /dev/full: it opens, and every write to it fails with ENOSPC.
    symlinkSync('/dev/full', `${path}.tmp`);
    const heldOpen = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === '/dev/full';
        } catch {
          return false; // the descriptor readdir itself used, closed since
        }
      });
    expect(heldOpen()).toEqual([]);
    for (let i = 0; i < 20; i++) d.write('k', new Uint8Array(100).fill(i));
    d.sync();
    await gotError;
    expect(errors.map((e) => e.message)).toEqual([`${path}: compaction write failed (ENOSPC)`]);
    expect(heldOpen()).toEqual([]);
    await expect(d.close()).rejects.toBeInstanceOf(ElexError);
  });

  it('backs DiskStorage: entries, hard state and snapshot survive a reopen', async () => {
    const path = fresh();
    const d = openDisk(path);
    const s = new DiskStorage(d);
    const ents = Array.from({ length: 10 }, (_, i) => entry(i + 1, 1 + (i >> 2), [i, i * 2, 255 - i]));
    s.append(ents.slice(0, 6));
    s.append(ents.slice(4)); // overlaps: truncates and rewrites 5..6
    s.setHardState({ term: 3, vote: 2, commit: 8 });
    const snap: Snapshot = {
      meta: { index: 4, term: 1, conf: { voters: [1, 2, 3], learners: [] } },
      data: new Uint8Array([1, 2, 3, 4]),
    };
    s.saveSnapshot(snap);
    s.compactTo(4);
    await new Promise<void>((resolve) => s.sync(resolve));
    const r = new DiskStorage(openDisk(path));
    expect(r.entries()).toEqual(ents.slice(4));
    expect(r.entries().map((e) => e.index)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(r.hardState()).toEqual({ term: 3, vote: 2, commit: 8 });
    expect(r.snapshot()).toEqual(snap);
  });

  it('a crash mid-flush leaves DiskStorage the state before the flush or after it, never a mix', async () => {
    // A crash may keep any prefix of the bytes a flush was writing; whatever the cut, the log must be one that
    // was synced: the old one, or the new one (here a conflicting append, then a snapshot and compaction).
    const cases: Array<{ before: (s: DiskStorage) => void; flush: (s: DiskStorage) => void }> = [
      {
        before: (s) => s.append([entry(1, 1, [1]), entry(2, 1, [2]), entry(3, 1, [3])]),
        flush: (s) => {
          s.append([entry(2, 2, [22])]); // a new leader's entry 2 truncates 2..3
          s.setHardState({ term: 2, vote: 0, commit: 1 });
        },
      },
      {
        before: (s) => s.append([entry(1, 1, [1]), entry(2, 1, [2]), entry(3, 1, [3])]),
        flush: (s) => {
          s.saveSnapshot({
            meta: { index: 2, term: 1, conf: { voters: [1], learners: [] } },
            data: new Uint8Array([7]),
          });
          s.compactTo(2);
        },
      },
    ];
    for (const c of cases) {
      const path = fresh();
      const d = openDisk(path);
      const s = new DiskStorage(d);
      c.before(s);
      await new Promise<void>((resolve) => s.sync(resolve));
      const old = { entries: s.entries(), hs: s.hardState(), snap: s.snapshot() };
      const from = statSync(path).size;
      c.flush(s);
      await new Promise<void>((resolve) => s.sync(resolve));
      const next = { entries: s.entries(), hs: s.hardState(), snap: s.snapshot() };
      const bytes = readFileSync(path);
      for (let cut = from; cut <= bytes.length; cut++) {
        const copy = `${path}.${cut}`;
        writeFileSync(copy, bytes.subarray(0, cut));
        const r = new DiskStorage(openDisk(copy));
        const got = { entries: r.entries(), hs: r.hardState(), snap: r.snapshot() };
        expect([old, next], `cut at ${cut} of ${from}..${bytes.length}`).toContainEqual(got);
      }
    }
  });

  it('property: after a crash the disk holds the state at the last completed sync', async () => {
    const keys = ['a', 'b', 'c', 'd'];
    const value = fc.oneof(
      fc.integer(),
      fc.uint8Array({ maxLength: 64 }),
      fc.record({
        term: fc.nat(),
        vote: fc.integer({ min: -1, max: 5 }),
        data: fc.uint8Array({ maxLength: 16 }),
      }),
    );
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.tuple(fc.constant('write' as const), fc.constantFrom(...keys), value) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('delete' as const), fc.constantFrom(...keys)) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('sync' as const)) },
      { weight: 1, arbitrary: fc.tuple(fc.constant('await' as const)) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), fc.boolean(), async (ops, smallCompaction) => {
        const path = fresh();
        const d = openDisk(path, smallCompaction ? { compactAtBytes: 512 } : {});
        const model = new Map<string, unknown>();
        let durable = new Map<string, unknown>();
        const outstanding: Array<Promise<void>> = [];
        const finished: number[] = [];
        let syncs = 0;
        for (const o of ops) {
          if (o[0] === 'write') {
            d.write(o[1], o[2]);
            model.set(o[1], o[2]);
          } else if (o[0] === 'delete') {
            d.delete(o[1]);
            model.delete(o[1]);
          } else if (o[0] === 'sync') {
            const id = syncs++;
            outstanding.push(
              new Promise<void>((resolve) =>
                d.sync(() => {
                  finished.push(id);
                  resolve();
                }),
              ),
            );
            durable = new Map(model);
          } else {
            await Promise.all(outstanding);
          }
          for (const k of keys) expect(d.read(k)).toBe(model.get(k));
        }
        await Promise.all(outstanding); // the last sync completes; writes after it stay pending
        expect(finished).toEqual(Array.from({ length: syncs }, (_, i) => i));
        const after = openDisk(path);
        expect(after.recovery.truncatedBytes).toBe(0);
        for (const k of keys) expect(after.read(k)).toEqual(durable.get(k));
      }),
      { numRuns: 30 },
    );
  });
});
