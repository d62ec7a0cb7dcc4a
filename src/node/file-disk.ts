import {
  close,
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  open,
  openSync,
  readFileSync,
  realpathSync,
  rename,
  renameSync,
  write,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { crc32 } from 'node:zlib';
import { ElexError } from '../core/index.js';
import type { Disk } from '../raft/index.js';
import { createDirectories, fsyncDirSync } from './make-dir.js';

/**
 * File layout: the 8-byte header `ELEXDSK1`, then records
 * `[u32 LE payload length][u32 LE CRC-32 of the payload][payload]`.
 * The payload is `v8.serialize([key, value])` for a write and `v8.serialize([key])` for a delete: the array
 * length marks a delete, so a stored `null` stays a value. A flush of several records writes them as one
 * group record, whose payload is the byte `GROUP` then `[u32 LE length][v8 payload]` per op (no inner CRC: the
 * group's covers them), so a crash keeps the whole flush or none of it.
 */
const MAGIC = Buffer.from('ELEXDSK1', 'latin1');
const HEADER = MAGIC.length;
const RECORD_HEADER = 8;
const DEFAULT_COMPACT_AT = 64 * 1024 * 1024;
/** First byte of a group payload; a v8 payload starts with its version tag, 0xff. */
const GROUP = 0x00;

export interface FileDiskOptions {
  /** Compaction is considered once the file exceeds this many bytes (default 64 MiB). */
  compactAtBytes?: number;
  /**
   * Called once when a flush fails; the disk then refuses further writes and never runs the pending `done`
   * callbacks. The default rethrows from the fs callback, crashing the process: a Raft node whose disk fails
   * must stop rather than acknowledge state it may not hold.
   */
  onError?: (err: ElexError) => void;
}

export interface FileDiskRecovery {
  /** Good records replayed. */
  readonly records: number;
  /** Bytes of torn tail cut off the end of the file. */
  readonly truncatedBytes: number;
}

type Op = [key: string, value: unknown] | [key: string];

function encode(op: Op): Buffer {
  const payload = serialize(op);
  const rec = Buffer.allocUnsafe(RECORD_HEADER + payload.length);
  rec.writeUInt32LE(payload.length, 0);
  rec.writeUInt32LE(crc32(payload), 4);
  payload.copy(rec, RECORD_HEADER);
  return rec;
}

/** The op of a v8 payload, or undefined if it is not one. */
function decodeOp(payload: Buffer): Op | undefined {
  let op: unknown;
  try {
    // Copy first: deserialized Uint8Arrays are views on their input and would pin the whole file in memory.
    op = deserialize(new Uint8Array(payload));
  } catch {
    return undefined;
  }
  if (!Array.isArray(op) || (op.length !== 1 && op.length !== 2) || typeof op[0] !== 'string')
    return undefined;
  return op as Op;
}

/**
 * The ops of a valid record at `off`, each with the size it would take as a record of its own, or undefined
 * if none starts there.
 */
function decodeAt(bytes: Buffer, off: number): Array<[Op, number]> | undefined {
  if (off + RECORD_HEADER > bytes.length) return undefined;
  const len = bytes.readUInt32LE(off);
  // v8 payloads are never empty; rejecting 0 also stops zero-filled space looking like records.
  if (len === 0 || off + RECORD_HEADER + len > bytes.length) return undefined;
  const payload = bytes.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len);
  if (crc32(payload) !== bytes.readUInt32LE(off + 4)) return undefined;
  if (payload[0] !== GROUP) {
    const op = decodeOp(payload);
    return op === undefined ? undefined : [[op, RECORD_HEADER + len]];
  }
  const ops: Array<[Op, number]> = [];
  let at = 1;
  while (at < payload.length) {
    if (at + 4 > payload.length) return undefined;
    const n = payload.readUInt32LE(at);
    if (n === 0 || at + 4 + n > payload.length) return undefined;
    const op = decodeOp(payload.subarray(at + 4, at + 4 + n));
    if (op === undefined) return undefined;
    ops.push([op, RECORD_HEADER + n]);
    at += 4 + n;
  }
  return ops.length > 0 ? ops : undefined;
}

/**
 * The offset after `from` of a valid record that ends exactly at the end of the file, or -1. A file written
 * whole ends with its last record, so one there after a bad record means the bad one is in the middle
 * (acknowledged state after it). Only the last flush can be torn, and its bytes may hold anything, valid
 * records included (a snapshot's data): those do not end at the end of the file, so they no longer read as
 * corruption. One u32 read per offset, and a CRC only where a length lands on the end: linear, where checking
 * every offset's record was quadratic or worse in the size of the torn tail.
 */
function lastRecordAfter(bytes: Buffer, from: number): number {
  for (let at = from + 1; at + RECORD_HEADER < bytes.length; at++)
    if (at + RECORD_HEADER + bytes.readUInt32LE(at) === bytes.length && decodeAt(bytes, at) !== undefined)
      return at;
  return -1;
}

/** One group record holding the encoded records of `batch` (`bytes` long in all). */
function group(batch: Buffer[], bytes: number): Buffer {
  const len = 1 + bytes - 4 * batch.length;
  const out = Buffer.allocUnsafe(RECORD_HEADER + len);
  out.writeUInt32LE(len, 0);
  out[RECORD_HEADER] = GROUP;
  let at = RECORD_HEADER + 1;
  for (const rec of batch) {
    at += rec.copy(out, at, 0, 4);
    at += rec.copy(out, at, RECORD_HEADER);
  }
  out.writeUInt32LE(crc32(out.subarray(RECORD_HEADER)), 4);
  return out;
}

function storageError(path: string, what: string, err?: unknown): ElexError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new ElexError('E_STORAGE', `${path}: ${what}${code ? ` (${code})` : ''}`, { path, code });
}

function writeAll(fd: number, buf: Buffer, pos: number, cb: (err: Error | null) => void): void {
  write(fd, buf, 0, buf.length, pos, (err, n) => {
    if (err) cb(err);
    else if (n === buf.length) cb(null);
    else if (n === 0) cb(new Error('write made no progress'));
    else writeAll(fd, buf.subarray(n), pos + n, cb);
  });
}

/**
 * A durable `Disk` on one append-only file. Reads come from an in-memory map that sees every write at once;
 * `sync` appends the pending records and fdatasyncs before running `done`, one flush at a time, in order.
 * A crash keeps every synced write plus possibly the flush in flight, whole (a torn one is cut on open).
 * Single writer: nothing stops two processes opening the same file.
 */
export class FileDisk implements Disk {
  readonly path: string;
  readonly recovery: FileDiskRecovery;
  private readonly compactAt: number;
  private readonly onError: (err: ElexError) => void;
  private readonly view = new Map<string, unknown>();
  /** Encoded size of each live key's latest record, to know when compaction would pay off. */
  private readonly sizes = new Map<string, number>();
  private liveBytes = HEADER;
  private fileBytes: number;
  private fd: number;
  private pending: Buffer[] = [];
  private waiters: Array<() => void> = [];
  /** How many of `pending` the latest sync covers; later writes wait for a later sync. */
  private syncedUpTo = 0;
  private inFlight = false;
  private closing = false;
  private closed: Promise<void> | undefined;
  private closeReject: ((err: ElexError) => void) | undefined;
  private failed: ElexError | undefined;

  private constructor(
    path: string,
    fd: number,
    fileBytes: number,
    recovery: FileDiskRecovery,
    opts: FileDiskOptions,
  ) {
    this.path = path;
    this.fd = fd;
    this.fileBytes = fileBytes;
    this.recovery = recovery;
    this.compactAt = opts.compactAtBytes ?? DEFAULT_COMPACT_AT;
    this.onError =
      opts.onError ??
      ((err) => {
        throw err;
      });
  }

  /**
   * Opens (creating if missing) and replays `path`. A bad record at the very end is a torn write and is cut
   * off. A bad record followed by a good record that ends the file is corruption in the middle; cutting there
   * would silently drop acknowledged state, so the open is refused (`lastRecordAfter`). (The cost: a crash that
   * persisted pages out of order within one unsynced write, leaving its last record whole, is refused too, for
   * an operator to look at.)
   */
  static open(path: string, opts: FileDiskOptions = {}): FileDisk {
    if (!existsSync(path)) {
      createDirectories(dirname(path), true);
      // Created via rename so that a crash never leaves a file with a partial header.
      const tmp = `${path}.tmp`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, MAGIC);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      fsyncDirSync(dirname(path));
    }
    // Through a link to where the file lives: compaction's temp file and rename then replace the file there,
    // not the link (it turned a link into a regular file beside it, and the target went stale).
    path = realpathSync(path);
    const bytes = readFileSync(path);
    if (bytes.length < HEADER || !bytes.subarray(0, HEADER).equals(MAGIC)) {
      throw storageError(path, `not an ELEX disk file (bad header, expected ${MAGIC.toString('latin1')})`);
    }
    const ops: Op[] = [];
    const sizes: number[] = [];
    let off = HEADER;
    while (off < bytes.length) {
      const rec = decodeAt(bytes, off);
      if (rec === undefined) break;
      for (const [op, size] of rec) {
        ops.push(op);
        sizes.push(size);
      }
      off += RECORD_HEADER + bytes.readUInt32LE(off);
    }
    const good = off;
    const next = good < bytes.length ? lastRecordAfter(bytes, good) : -1;
    if (next >= 0)
      throw new ElexError(
        'E_STORAGE',
        `${path}: corrupt record at offset ${good} followed by a valid record at offset ${next}`,
        { path, offset: good, next },
      );
    const fd = openSync(path, 'r+');
    if (good < bytes.length) {
      try {
        ftruncateSync(fd, good);
        fsyncSync(fd);
      } catch (e) {
        closeSync(fd);
        throw storageError(path, 'cannot truncate torn tail', e);
      }
    }
    const disk = new FileDisk(
      path,
      fd,
      good,
      { records: ops.length, truncatedBytes: bytes.length - good },
      opts,
    );
    for (let i = 0; i < ops.length; i++) disk.apply(ops[i], sizes[i]);
    return disk;
  }

  write(key: string, value: unknown): void {
    if (value === undefined) {
      this.delete(key);
      return;
    }
    this.checkWritable();
    let rec: Buffer;
    try {
      rec = encode([key, value]);
    } catch (e) {
      throw new ElexError(
        'E_STORAGE',
        `${this.path}: cannot serialize the value of ${key}: ${(e as Error).message}`,
      );
    }
    this.apply([key, value], rec.length);
    this.pending.push(rec);
  }

  read(key: string): unknown {
    return this.view.get(key);
  }

  delete(key: string): void {
    this.checkWritable();
    this.apply([key], 0);
    this.pending.push(encode([key]));
  }

  /** Makes every earlier write durable, then runs `done` (asynchronously, in the order syncs were asked). */
  sync(done?: () => void): void {
    this.checkWritable();
    this.requestFlush(done);
  }

  /** Flushes pending writes and closes the file; later writes throw `E_STORAGE`. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    this.closed = new Promise<void>((resolve, reject) => {
      if (this.failed) {
        close(this.fd, () => reject(this.failed));
        return;
      }
      this.closeReject = reject;
      this.requestFlush(() => {
        close(this.fd, (err) => (err ? reject(storageError(this.path, 'close failed', err)) : resolve()));
      });
    });
    return this.closed;
  }

  private apply(op: Op, size: number): void {
    const [key] = op;
    this.liveBytes -= this.sizes.get(key) ?? 0;
    if (op.length === 2) {
      this.view.set(key, op[1]);
      this.sizes.set(key, size);
      this.liveBytes += size;
    } else {
      this.view.delete(key);
      this.sizes.delete(key);
    }
  }

  private checkWritable(): void {
    if (this.failed)
      throw new ElexError('E_STORAGE', `${this.path}: disk failed earlier: ${this.failed.message}`);
    if (this.closing) throw new ElexError('E_STORAGE', `${this.path}: disk is closed`);
  }

  private requestFlush(done?: () => void): void {
    if (done) this.waiters.push(done);
    this.syncedUpTo = this.pending.length;
    this.kick();
  }

  /** Starts the next flush unless one is in flight; its completion starts the one after. */
  private kick(): void {
    if (this.inFlight || this.failed || (this.waiters.length === 0 && this.syncedUpTo === 0)) return;
    const batch = this.pending.splice(0, this.syncedUpTo);
    const waiters = this.waiters;
    this.syncedUpTo = 0;
    this.waiters = [];
    this.inFlight = true;
    try {
      this.flush(batch, waiters);
    } catch (e) {
      // A throw before the IO is under way (a value compaction cannot serialize, a group past 4 GiB): the disk
      // fails like on an IO error. Before session 25 it escaped from sync() and left inFlight set: every
      // later sync hung.
      this.inFlight = false;
      this.fail(storageError(this.path, `flush failed: ${(e as Error).message}`, e));
    }
  }

  private flush(batch: Buffer[], waiters: Array<() => void>): void {
    const finish = (err: Error | null, what: string): void => {
      this.inFlight = false;
      if (err) {
        this.fail(storageError(this.path, `${what} failed`, err));
        return;
      }
      // Callbacks first, so each runs with no flush in flight (a reader of the file sees a quiet file).
      try {
        for (const w of waiters) w();
      } finally {
        this.kick();
      }
    };
    const bytes = batch.reduce((n, b) => n + b.length, 0);
    if (bytes === 0) {
      setImmediate(() => finish(null, 'flush'));
      return;
    }
    const projected = this.fileBytes + bytes;
    // Only when no unsynced write follows the batch: the map must equal the durable state plus the batch.
    if (this.pending.length === 0 && projected > this.compactAt && projected > 2 * this.liveBytes) {
      this.compact(finish);
      return;
    }
    // Several records go as one group: a crash mid-write must not keep a prefix of them (DiskStorage's
    // entries of a conflicting append without its `last`, or a compaction's deletes without its `first`).
    const buf = batch.length === 1 ? batch[0] : group(batch, bytes);
    writeAll(this.fd, buf, this.fileBytes, (err) => {
      if (err) return finish(err, 'append');
      this.fileBytes += buf.length;
      fdatasync(this.fd, (e) => finish(e, 'fdatasync'));
    });
  }

  /**
   * Replaces the file with the live map (here exactly the durable state plus this batch) via a synced temp
   * file, a rename and a directory fsync, so a crash leaves the old file or the new one. Serializing the map
   * is a synchronous pause proportional to the live data; the IO is asynchronous and later syncs queue
   * behind it like behind any flush.
   */
  private compact(finish: (err: Error | null, what: string) => void): void {
    const recs: Buffer[] = [MAGIC];
    for (const [k, v] of this.view) recs.push(encode([k, v]));
    const buf = Buffer.concat(recs);
    const tmp = `${this.path}.tmp`;
    // Created with the old file's permissions (a 0600 file became 0644). A temp file an earlier crash left
    // keeps its own mode: open does not change an existing file's.
    const mode = fstatSync(this.fd).mode & 0o7777;
    open(tmp, 'w', mode, (err, tfd) => {
      if (err) return finish(err, 'compaction open');
      // Every failure from here on closes the new file: the disk is failed then, and never adopts it.
      const fail = (err: Error, what: string) => close(tfd, () => finish(err, what));
      writeAll(tfd, buf, 0, (err) => {
        if (err) return fail(err, 'compaction write');
        fdatasync(tfd, (err) => {
          if (err) return fail(err, 'compaction fdatasync');
          rename(tmp, this.path, (err) => {
            if (err) return fail(err, 'compaction rename');
            open(dirname(this.path), 'r', (err, dfd) => {
              if (err) return fail(err, 'directory open');
              fsync(dfd, (err) => {
                close(dfd, () => {});
                if (err) return fail(err, 'directory fsync');
                const old = this.fd;
                this.fd = tfd;
                this.fileBytes = buf.length;
                close(old, () => {});
                finish(null, 'compaction');
              });
            });
          });
        });
      });
    });
  }

  private fail(err: ElexError): void {
    this.failed = err;
    this.pending = [];
    this.waiters = [];
    if (this.closeReject) {
      close(this.fd, () => {});
      this.closeReject(err);
    }
    this.onError(err);
  }
}
