import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ElexError } from '../core/index.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
};

/**
 * Takes `<dir>/LOCK` for this process: two nodes on one data directory would interleave their appends and
 * corrupt the log. A lock left by a process that is gone (SIGKILL, power loss) is taken over. Returns the
 * release function.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid))
        throw new ElexError('E_LOCKED', `data directory ${dir} is in use by process ${pid}`);
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new ElexError('E_LOCKED', `cannot take the lock on ${dir}`);
}
