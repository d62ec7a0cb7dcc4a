import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { ElexError } from '../core/index.js';
import { makeDirectory } from './make-dir.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
};

/** The locks this process holds: a LOCK naming our own pid is ours only if it is here. */
const held = new Set<string>();

/**
 * Takes `<dir>/LOCK` for this process: two nodes on one data directory would interleave their appends and
 * corrupt the log. A lock left by a process that is gone (SIGKILL, power loss) is taken over, and so is one
 * naming this process's own pid that this process does not hold: an earlier life with the same pid, as after a
 * container restart, where the node is pid 1 again (before session 23 that refused every restart). Returns
 * the release function.
 */
export function lockDataDir(dir: string): () => void {
  makeDirectory(dir, 'data directory');
  const path = resolve(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      held.add(path);
      return () => {
        held.delete(path);
        rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (r) {
        if ((r as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
        throw r;
      }
      const pid = Number.parseInt(text, 10);
      const ours = pid === process.pid;
      if (Number.isInteger(pid) && pid > 0 && (ours ? held.has(path) : alive(pid)))
        throw new ElexError('E_LOCKED', `data directory ${dir} is in use by process ${pid}`);
      rmSync(path, { force: true }); // stale: its process is gone, or it was an earlier life of this pid
    }
  }
  throw new ElexError('E_LOCKED', `cannot take the lock on ${dir}`);
}
