/**
 * `elex simulate swarm --runs N` runs seeds --seed .. --seed+N-1 and reports each run by its seed, for replay
 * with `--seed S`. A run whose seed --seed does not take (above 2^31 - 1) could never be replayed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('simulate swarm --runs near the largest seed', () => {
  it('refuses --seed 2147483647 --runs 2 before any run (the second run, seed 2147483648, cannot be replayed)', () => {
    const r = elex(['simulate', 'swarm', '--seed', '2147483647', '--runs', '2', '--duration', '0', '--json']);
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^elex: .*--runs.*2147483647.*\[E_USAGE\]$/m);
    expect(r.stderr).not.toMatch(/simulate swarm:/); // no progress: nothing ran
    // The seed a report would name is refused by --seed itself.
    const replay = elex(['simulate', 'swarm', '--seed', '2147483648', '--duration', '0']);
    expect(replay.code).toBe(2);
  });
});
