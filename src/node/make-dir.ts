/**
 * Directories a process creates for its data, keys or reports. One level at a time: Node's recursive mkdir
 * never returns on some virtual file systems (`/proc/x`), where a node used to hang at start.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
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

/** Creates `dir` and its missing parents; throws the file system's error (with its `code`) otherwise. */
export function createDirectories(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  while (!existsSync(p)) {
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  if (!statSync(p).isDirectory())
    throw Object.assign(new Error('not a directory'), { code: missing.length ? 'ENOTDIR' : 'EEXIST' });
  for (const m of missing.reverse()) mkdirSync(m);
}

/** `createDirectories`, then a check that `dir` is writable; refusals are `E_DIR` naming `what`. */
export function makeDirectory(dir: string, what: string): void {
  try {
    createDirectories(dir);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = (code && DIR_REASONS[code]) ?? (e as Error).message;
    throw new ElexError('E_DIR', `cannot use ${what} '${dir}': ${reason}`);
  }
}
