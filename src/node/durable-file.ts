import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ElexError } from '../core/index.js';
import { createDirectories, fsyncDirSync } from './make-dir.js';

export { fsyncDirSync };

/**
 * Replaces `path` with `data` so that a crash at any point leaves either the old or the new contents: write a
 * temporary file, fsync it, rename it over `path`, fsync the directory. Returns once it is durable.
 */
export function writeFileDurably(path: string, data: string | Uint8Array, mode = 0o666): void {
  createDirectories(dirname(path), true);
  const tmp = `${path}.tmp`;
  // `mode` from the start (a secret must never be readable by others, not even until a chmod after it).
  const fd = openSync(tmp, 'w', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // writeSync may write less than asked (a disk filling up) and say so only by its count: a cut file must
    // not be renamed over a good one. The next write of the rest then fails with the real error.
    for (let at = 0; at < bytes.length; ) {
      const n = writeSync(fd, bytes, at, bytes.length - at);
      if (n === 0) throw new ElexError('E_STORAGE', `${tmp}: write made no progress`);
      at += n;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDirSync(dirname(path));
}
