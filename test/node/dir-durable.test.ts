/**
 * The data directory's lock and creation (session 24, from a review). `node:fs` is wrapped (not replaced) so that a
 * test can act between two of the code's system calls, as a second process would, and see which paths are
 * fsynced.
 */
import * as realFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const hooks = vi.hoisted(() => ({
  /** Called with the path after each readFileSync has read; may act as another process would. */
  afterRead: null as ((path: string) => void) | null,
  /** Paths opened, by fd, and the paths each fsync reached. */
  fdPath: new Map<number, string>(),
  fsynced: [] as string[],
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const wrapped = {
    ...fs,
    readFileSync: ((p: realFs.PathOrFileDescriptor, ...rest: unknown[]) => {
      const out = (fs.readFileSync as (...a: unknown[]) => unknown)(p, ...rest);
      if (typeof p === 'string' && hooks.afterRead !== null) hooks.afterRead(p);
      return out;
    }) as typeof fs.readFileSync,
    openSync: ((p: realFs.PathLike, ...rest: unknown[]) => {
      const fd = (fs.openSync as (...a: unknown[]) => number)(p, ...rest);
      hooks.fdPath.set(fd, resolve(String(p)));
      return fd;
    }) as typeof fs.openSync,
    fsyncSync: ((fd: number) => {
      fs.fsyncSync(fd);
      const p = hooks.fdPath.get(fd);
      if (p !== undefined) hooks.fsynced.push(p);
    }) as typeof fs.fsyncSync,
  };
  return { ...wrapped, default: wrapped };
});

const { lockDataDir } = await import('../../src/node/dir-lock.js');
const { FileDisk } = await import('../../src/node/file-disk.js');
const { writeFileDurably } = await import('../../src/node/durable-file.js');

const root = realFs.mkdtempSync(join(tmpdir(), 'elex-dir-durable-'));
afterAll(() => realFs.rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  hooks.afterRead = null;
  hooks.fsynced.length = 0;
});
let n = 0;

/** A pid that no process has: a child that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const { spawn } = await import('node:child_process');
  const c = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => c.on('exit', r));
  return c.pid!;
}

describe('the data directory lock', () => {
  it('two processes taking over one stale lock at once: the second must not delete the first one’s fresh lock', async () => {
    const dir = join(root, `lock${n++}`);
    realFs.mkdirSync(dir, { recursive: true });
    const lock = join(dir, 'LOCK');
    realFs.writeFileSync(lock, `${await deadPid()}\n`); // left by a SIGKILLed node
    // A live process that is not this one: the other node starting on the same directory (the parent process).
    const other = process.ppid;
    expect(other).not.toBe(process.pid);
    let raced = false;
    hooks.afterRead = (p) => {
      if (raced || resolve(p) !== resolve(lock)) return;
      raced = true;
      hooks.afterRead = null;
      // This process has read the stale pid. Before it removes the file, the other process (which read the
      // same stale pid a moment earlier) removes it and takes the lock with `wx`.
      realFs.rmSync(lock);
      realFs.writeFileSync(lock, `${other}\n`, { flag: 'wx' });
    };
    let outcome: string;
    try {
      const unlock = lockDataDir(dir);
      outcome = 'locked';
      unlock();
    } catch (e) {
      outcome = (e as { code?: string }).code ?? String(e);
    }
    expect(raced).toBe(true);
    // Before session 24 this process removed the live process's LOCK as "stale" and took the directory too:
    // two nodes appended to one raft.disk.
    expect(outcome).toBe('E_LOCKED');
  });

  it('a LOCK left by a power loss, whose pid now belongs to an unrelated process, does not keep the node down', async () => {
    const dir = join(root, `reused${n++}`);
    realFs.mkdirSync(dir, { recursive: true });
    // After a reboot pids start over: the pid the SIGKILLed / powered-off node wrote is now some other
    // program's (here: a sleeping child that holds no lock and never opened the directory).
    const { spawn } = await import('node:child_process');
    const unrelated = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => unrelated.once('spawn', r));
      // The lock as a node of an earlier boot wrote it: its pid and its stamp (boot id and start time).
      realFs.writeFileSync(
        join(dir, 'LOCK'),
        `${unrelated.pid}\n00000000-0000-0000-0000-000000000000:12345\n`,
      );
      let outcome: string;
      try {
        lockDataDir(dir)();
        outcome = 'locked';
      } catch (e) {
        outcome = (e as { code?: string }).code ?? String(e);
      }
      // Before session 24: E_LOCKED "in use by process <pid>" for as long as that program ran; the node stayed
      // down until an operator deleted the file.
      expect(outcome).toBe('locked');
    } finally {
      unrelated.kill();
    }
  });
});

describe('creating a data directory durably', () => {
  it('a fresh data directory is made durable in its parent before raft.disk is used', async () => {
    const parent = join(root, `fresh${n++}`);
    realFs.mkdirSync(parent);
    const dataDir = join(parent, 'node-1');
    hooks.fsynced.length = 0;
    const d = FileDisk.open(join(dataDir, 'raft.disk'));
    d.write('raft/hard', { term: 5, vote: 3, commit: 0 });
    await new Promise<void>((r) => d.sync(r)); // the vote is "durable": a reply may now leave
    await d.close();
    // Not only raft.disk's entry in node-1 but node-1's own in its parent: else after a power loss the whole
    // directory (and the vote) could vanish, and the node restart empty at term 0.
    expect(hooks.fsynced).toContain(resolve(dataDir));
    expect(hooks.fsynced).toContain(resolve(parent));
  });

  it('writeFileDurably into a directory it creates makes that directory durable too', () => {
    const parent = join(root, `keys${n++}`);
    realFs.mkdirSync(parent);
    const keyDir = join(parent, 'federation-keys');
    hooks.fsynced.length = 0;
    writeFileDurably(join(keyDir, 'a.key'), 'seed\n', 0o600);
    expect(hooks.fsynced).toContain(resolve(keyDir));
    expect(hooks.fsynced).toContain(resolve(parent));
  });
});
