/**
 * `--out DIR` is "checked before the run" (README): a DIR that cannot take the report must be refused before any
 * simulated time, not after the run, when the whole result (and, with --json, its stdout copy) is lost.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('--out whose report file cannot be written', () => {
  for (const name of ['report.json', 'report.html']) {
    it(`simulate basic --out DIR with DIR/${name} a directory is refused before the run`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'elex-review-out-'));
      made.push(dir);
      mkdirSync(join(dir, name));
      const r = elex(['simulate', 'basic', '--nodes', '2', '--duration', '2s', '--json', '--out', dir]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^elex: cannot write to --out .*\[E_OUTPUT\]$/m);
      // Before the run: no progress line (the run used to go to its end, then fail on the write).
      expect(r.stderr).not.toMatch(/simulated/);
      // Nothing half-written: report.json is not left without its report.html or the other way round.
      expect(readdirSync(dir)).toEqual([name]);
    });
  }
});
