/**
 * Directories a process creates for its data, keys or reports. One level at a time: Node's recursive mkdir
 * never returns on some virtual file systems (`/proc/x`), where a node used to hang at start.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  statSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ElexError } from '../core/index.js';

export const DIR_REASONS: Readonly<Record<string, string>> = {
  EEXIST: 'it is a file, not a directory',
  ENOTDIR: 'a parent is a file, not a directory',
  ENOENT: 'no such directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
};

/** Makes a rename or creation in `dir` durable (the entry lives in the directory, not the file). */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `dir` and its missing parents; throws the file system's error (with its `code`) otherwise. `durable`:
 * each new directory's entry is fsynced in its parent, or a power loss could take the directory, and every
 * synced file in it (a vote), with it.
 */
export function createDirectories(dir: string, durable = false): void {
  const missing: string[] = [];
  let p = resolve(dir);
  while (!existsSync(p)) {
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  if (!statSync(p).isDirectory()) {
    const code = missing.length ? 'ENOTDIR' : 'EEXIST';
    throw Object.assign(new Error(`${code}: ${p} is not a directory`), { code });
  }
  for (const m of missing.reverse()) {
    mkdirSync(m);
    if (durable) fsyncDirSync(dirname(m));
  }
}

/** `createDirectories` (durably), then a check that `dir` is writable; refusals are `E_DIR` naming `what`. */
export function makeDirectory(dir: string, what: string): void {
  try {
    createDirectories(dir, true);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = (code && DIR_REASONS[code]) ?? (e as Error).message;
    throw new ElexError('E_DIR', `cannot use ${what} '${dir}': ${reason}`);
  }
}
