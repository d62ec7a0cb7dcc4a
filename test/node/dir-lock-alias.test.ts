/**
 * Review of the on-disk persistence: the data directory's lock names the directory by the path it was given.
 * A second path to the same directory (a symlink, or `..` after a symlink) in the same process saw a LOCK naming
 * this process that this process "did not hold" under that path, took it over as an earlier life's, and two
 * nodes ran on one directory (interleaved appends to one raft.disk). (`..` is not a case: every path here,
 * the lock's and the files', is normalized lexically by `path`, so they agree with each other.)
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/node/dir-lock.js';

const root = mkdtempSync(join(tmpdir(), 'elex-review-lock-alias-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function outcome(f: () => () => void): string {
  try {
    const release = f();
    release();
    return 'locked';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('the data directory lock, reached by another path in the same process', () => {
  it('a symlink to a directory this process has locked is refused (E_LOCKED), not taken over', () => {
    const real = join(root, 'real');
    mkdirSync(real);
    const link = join(root, 'link');
    symlinkSync(real, link);
    const release = lockDataDir(real);
    try {
      expect(outcome(() => lockDataDir(link))).toBe('E_LOCKED');
    } finally {
      release();
    }
  });
});
