/**
 * `elex gossip-cluster --members 1` said "expected 2..200", then --members 2 was refused in another way (exit 1,
 * "at least 3"): the range an option names must be the one it takes, refused as a bad option value (exit 2).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('gossip-cluster --members', () => {
  for (const n of ['1', '2']) {
    it(`--members ${n} is a usage error naming the range it takes (3..200)`, () => {
      const r = elex(['gossip-cluster', '--members', n, '--quiet']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        new RegExp(
          `^error: option '--members <n>' argument '${n}' is invalid\\. expected 3\\.\\.200, got ${n}$`,
          'm',
        ),
      );
    });
  }
});
