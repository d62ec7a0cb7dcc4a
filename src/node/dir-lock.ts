import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ElexError } from '../core/index.js';
import { makeDirectory } from './make-dir.js';

/**
 * Which process `pid` is, beyond its number: this boot and the process's start time (Linux `/proc`), or null
 * where that cannot be read. Pids are reused: after a power loss the number a dead node wrote may be another
 * program's, which must not keep the node down.
 */
function processStamp(pid: number): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counts from after the command name, which is in parentheses and may hold spaces.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return start === undefined ? null : `${boot}:${start}`;
  } catch {
    return null;
  }
}

/** Whether the lock's writer is still running: its pid is alive and, where the lock has a stamp, the same process. */
function holderAlive(pid: number, stamp: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; // EPERM: exists, owned by someone else
  }
  if (stamp === undefined) return true; // a lock of an earlier version: the pid is all we know
  const now = processStamp(pid);
  return now === null || now === stamp;
}

/** The locks this process holds: a LOCK naming our own pid is ours only if it is here. */
const held = new Set<string>();

/**
 * Takes `<dir>/LOCK` for this process: two nodes on one data directory would interleave their appends and
 * corrupt the log. The file holds the pid and the process's stamp (boot and start time), and appears with
 * them. A lock whose process is gone (SIGKILL, power loss, its pid now another program's) is taken over, and so
 * is one naming this process's own pid that this process does not hold: an earlier life with the same pid, as
 * after a container restart, where the node is pid 1 again. An empty one (a power loss) is taken over too.
 * Returns the release function (a second call does nothing).
 */
export function lockDataDir(dir: string): () => void {
  makeDirectory(dir, 'data directory');
  // The directory itself, not the path it was given: `held` is by path, and a second path to the same
  // directory (a symlink) in this process read our own LOCK as an earlier life's and took it over.
  const path = join(realpathSync(dir), 'LOCK');
  const stamp = processStamp(process.pid);
  const content = `${process.pid}\n${stamp === null ? '' : `${stamp}\n`}`;
  // Written whole under a name only this process uses, then linked into place (which fails if LOCK exists):
  // a LOCK is never there without its pid. Created empty and written after, another process that read it in
  // between took it for one a power loss left empty, moved it aside, and both ran on the directory.
  const fresh = `${path}.${process.pid}.new`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(fresh, 'w');
      try {
        writeSync(fd, content);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        linkSync(fresh, path);
      } finally {
        rmSync(fresh, { force: true });
      }
      held.add(path);
      // Once: removing by path a second time (a node closed twice) removed the lock of whoever took the
      // directory after the first release, and a third process could start beside it.
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held.delete(path);
        rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const text = readLock(path);
      if (text === null) continue; // released meanwhile: try again
      const [first, second] = text.split('\n');
      const pid = Number.parseInt(first, 10);
      const ours = pid === process.pid && (second === undefined || second === '' || second === stamp);
      if (Number.isInteger(pid) && pid > 0 && (ours ? held.has(path) : holderAlive(pid, second || undefined)))
        throw new ElexError('E_LOCKED', `data directory ${dir} is in use by process ${pid}`);
      takeOverStale(path, text, dir);
    }
  }
  throw new ElexError('E_LOCKED', `cannot take the lock on ${dir}`);
}

function readLock(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Removes the stale lock whose content was `stale`, unless another process took the lock over meanwhile: moved
 * aside first under a name only this process uses, and checked. Removing by path, a second process that read
 * the same stale pid deleted the first one's fresh lock and both ran on one directory.
 */
function takeOverStale(path: string, stale: string, dir: string): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it: try again
    throw e;
  }
  const moved = readLock(aside);
  if (moved !== null && moved !== stale) {
    // Another process's fresh lock: back where it was (unless a third took the path meanwhile).
    try {
      linkSync(aside, path);
    } catch {}
    rmSync(aside, { force: true });
    throw new ElexError('E_LOCKED', `data directory ${dir} was just taken by another process`);
  }
  rmSync(aside, { force: true });
}
