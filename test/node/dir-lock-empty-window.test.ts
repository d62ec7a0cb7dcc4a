/**
 * Review of the on-disk persistence: the data directory's lock was created empty (`open wx`) and its pid written
 * after. A second process that read it in between found no pid, took it for a stale lock (as one a power loss
 * left empty must be), moved it aside and took the directory: both processes ran on it. Here the second
 * process is a real one, run between this process's create and its write.
 */
import { execFileSync } from 'node:child_process';
import * as realFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const hooks = vi.hoisted(() => ({
  /** Called after openSync created a file with `wx` (its path), before anything is written to it. */
  afterCreate: null as ((path: string) => void) | null,
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const wrapped = {
    ...fs,
    openSync: ((p: realFs.PathLike, flags?: unknown, ...rest: unknown[]) => {
      const fd = (fs.openSync as (...a: unknown[]) => number)(p, flags, ...rest);
      if (flags === 'wx' && hooks.afterCreate !== null) hooks.afterCreate(resolve(String(p)));
      return fd;
    }) as typeof fs.openSync,
    linkSync: ((a: realFs.PathLike, b: realFs.PathLike) => {
      fs.linkSync(a, b);
      if (hooks.afterCreate !== null) hooks.afterCreate(resolve(String(b)));
    }) as typeof fs.linkSync,
  };
  return { ...wrapped, default: wrapped };
});

const { lockDataDir } = await import('../../src/node/dir-lock.js');

const root = realFs.mkdtempSync(join(tmpdir(), 'elex-review-lock-empty-'));
afterAll(() => realFs.rmSync(root, { recursive: true, force: true }));

const TSX = resolve('node_modules/.bin/tsx');
const LOCK_MODULE = resolve('src/node/dir-lock.ts');

/** Another process tries the lock on `dir` (and exits holding it if it got it): 'locked' or its error code. */
function otherProcessTries(dir: string): string {
  const script = `import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)};
try { lockDataDir(${JSON.stringify(dir)}); console.log('locked'); } catch (e) { console.log(e.code ?? String(e)); }`;
  return execFileSync(TSX, ['--eval', script], { encoding: 'utf8' }).trim();
}

describe('the data directory lock, read by another process while it is being taken', () => {
  it('is never seen without its holder: the other process is refused (E_LOCKED)', () => {
    const dir = join(root, 'd');
    realFs.mkdirSync(dir);
    const lock = join(dir, 'LOCK');
    let other: string | null = null;
    hooks.afterCreate = (p) => {
      if (p !== resolve(lock) || other !== null) return;
      other = otherProcessTries(dir);
    };
    let release: (() => void) | null = null;
    try {
      release = lockDataDir(dir);
    } finally {
      hooks.afterCreate = null;
    }
    release();
    expect(other).toBe('E_LOCKED');
  }, 30_000);

  it('an empty LOCK, as a power loss can leave one, is still taken over', () => {
    const dir = join(root, 'power-loss');
    realFs.mkdirSync(dir);
    realFs.writeFileSync(join(dir, 'LOCK'), '');
    const release = lockDataDir(dir);
    expect(realFs.readFileSync(join(dir, 'LOCK'), 'utf8').split('\n')[0]).toBe(String(process.pid));
    release();
    expect(realFs.readdirSync(dir)).toEqual([]);
  });
});
