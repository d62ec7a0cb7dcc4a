/**
 * `simulate gossip --duration` is the measured simulated time: churn runs in whole 2 s steps, so `--duration 5s`
 * ran and reported 6 s (`duration_ms: 6000`), and a zero duration reported its per-second rates as null (0/0).
 * Both are refused before the run.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const small = ['simulate', 'gossip', '--members', '20', '--quiet'];

describe('simulate gossip --duration', () => {
  it('churn refuses a duration that is not a whole number of its 2 s steps', () => {
    const r = elex([...small, '--scenario', 'churn', '--duration', '5s']);
    // A refusal after parsing, as every E_USAGE: one line, exit 1, nothing on stdout.
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^elex: .*2 s steps.*\[E_USAGE\]$/m);
  });

  it('churn runs exactly the duration asked when it is whole steps', () => {
    const r = elex([...small, '--scenario', 'churn', '--duration', '4s']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).duration_ms).toBe(4000);
  });

  it('a zero duration is refused (its rates were 0/0)', () => {
    const r = elex([...small, '--scenario', 'steady', '--duration', '0']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});
